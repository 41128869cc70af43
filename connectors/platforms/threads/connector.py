"""Threads through its Graph-style API: create a media container, then publish it.

Only `threads_publish` makes anything public; a container on its own is invisible and
expires after 24 hours. So every failure before publishing is safe to retry, and a
container can be published only once: keeping the container made for a delivery makes a
repeated publish harmless. The connector keeps that container id, and the published media
id, in a small JSON file per channel under `options.state_dir`, written before it
publishes. After a crash or a time-out, `publish()` and `lookup()` ask Threads for the
container's status (`FINISHED`, `PUBLISHED`, `EXPIRED`, ...) instead of guessing. Without a
state_dir the ids are kept in memory: that covers a time-out, not a restart.

Threads downloads media from a public address: `options.media_base_url` plus the file's
name (connectors.mediaurl).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx

from campaigns.platforms import PLATFORMS
from connectors.base import (
    Capabilities,
    ChannelAccess,
    CheckReport,
    Connector,
    Duplicate,
    Figures,
    LookupUnavailable,
    MediaFile,
    PlatformBudget,
    PlatformRef,
    Post,
    Published,
    PublishError,
    Rejected,
    RetryLater,
)
from connectors.deliverystate import KEEP, DeliveryState
from connectors.graph import (
    classify,
    error_code,
    figures_failure,
    graph_client,
    graph_error,
    insight_values,
)
from connectors.http import json_body, send, send_safe
from connectors.mediaurl import media_base_url, media_url
from connectors.platforms.threads.failures import failure

API = "https://graph.threads.net"
DEFAULT_VERSION = "v1.0"
NOT_READY = (24, 4279009)
"""`threads_publish` on a container Threads has not finished setting up ("Media Not Found")."""
EARLIER = "published by an earlier attempt"
METRICS = "views,likes,replies,reposts,quotes,shares"


class ThreadsConnector(Connector):
    platform: ClassVar[str] = "threads"
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORMS["threads"], idempotency="container", lookup=True, figures=True
    )
    ready_checks: ClassVar[int] = 10
    ready_interval: ClassVar[float] = 2.0
    """Seconds between container status checks before publishing."""

    def __init__(self, config: ChannelAccess) -> None:
        super().__init__(config)
        self._token = config.credentials["access_token"]
        self._user = str(config.options["user_id"])
        self._version = str(config.options.get("threads_version") or DEFAULT_VERSION)
        state = config.options.get("state_dir")
        self._store = DeliveryState(
            Path(state) if state else None, config.name, "threads", "Threads"
        )
        self._client = graph_client(config, API, self._token)
        self._children: dict[str, list[str]] = {}
        """A carousel's items an earlier attempt made, while Threads prepared their videos."""

    # -- publishing ---------------------------------------------------------------------

    def publish(self, post: Post) -> Published:
        entry = self._store.get(post.key)
        container = None
        if entry and entry.get("media"):
            return Published(self._media_ref(entry), note=EARLIER)
        if entry:
            status, found = self._published_earlier(post, entry)
            if found:
                return Published(found, note=EARLIER)
            if status == "PUBLISHED":
                raise Duplicate(
                    f"Threads published container {entry['container']} in an earlier "
                    "attempt, but the post is not among the account's latest posts"
                )
            if status in ("FINISHED", "IN_PROGRESS"):
                container = entry["container"]
            else:
                self._store.forget(post.key)
        if container is None:
            container = self._create(post)
            self._store.put(post.key, container=container)
        self._wait_until_ready(container)
        response = self._post(
            f"{self._user}/threads_publish", {"creation_id": container}, creates=True
        )
        if not response.is_success:
            raise self._publish_error(response)
        media = _id(response)
        permalink = self._permalink(media)
        self._store.note(post.key, media=media, permalink=permalink or "")
        return Published(PlatformRef(media, permalink, {"container": container}))

    def _published_earlier(
        self, post: Post, entry: dict[str, str]
    ) -> tuple[str | None, PlatformRef | None]:
        """The status of an earlier attempt's container, and the post if it went out."""
        try:
            status = self._status(entry["container"]).get("status")
        except Rejected:
            return None, None  # Threads no longer knows the container
        if status != "PUBLISHED":
            return status, None
        found = self._find_published(post, entry)
        if found:
            self._store.note(post.key, media=found.id, permalink=found.url or "")
        return status, found

    def _create(self, post: Post) -> str:
        params: dict[str, str] = {"text": post.text}
        if post.reply_to:
            params["reply_to_id"] = post.reply_to.id
        if not post.media:
            params["media_type"] = "TEXT"
            if post.link:
                params["link_attachment"] = post.link
        elif len(post.media) == 1:
            params |= self._media_params(post.media[0])
        else:
            children = self._carousel_items(post)
            params |= {"media_type": "CAROUSEL", "children": ",".join(children)}
        return self._container(params)

    def _carousel_items(self, post: Post) -> list[str]:
        """The items, each video among them prepared (FINISHED) before the carousel names
        it. Items still being prepared are kept for the next attempt (in memory: after a
        restart they are made again, which is harmless, as they are never shown)."""
        children = self._children.pop(post.key, None) or [
            self._container(self._media_params(media) | {"is_carousel_item": "true"})
            for media in post.media
        ]
        videos = [c for c, m in zip(children, post.media, strict=True) if _is_video(m)]
        if not all(self._ready(child) for child in videos):
            self._children[post.key] = children
            raise RetryLater(
                "Threads is still preparing the carousel's videos",
                retry_at=_now() + timedelta(minutes=1),
            )
        return children

    def _media_params(self, media: MediaFile) -> dict[str, str]:
        base = media_base_url(self.config)
        if not base:
            raise Rejected(
                "Threads downloads media from a public address: publish the media folder on a "
                "web host and set options.media_base_url"
            )
        kind = media.mime.partition("/")[0]
        if kind not in ("image", "video"):
            raise Rejected(f"Threads takes images and videos, not {media.mime}")
        url_name = "image_url" if kind == "image" else "video_url"
        return {"media_type": kind.upper(), url_name: media_url(base, media), "alt_text": media.alt}

    def _container(self, params: dict[str, str]) -> str:
        response = self._post(f"{self._user}/threads", params, creates=False)
        if not response.is_success:
            raise classify(response, "Threads")
        return _id(response)

    def _wait_until_ready(self, container: str) -> None:
        if not self._ready(container):
            raise RetryLater(
                f"Threads is still preparing container {container}",
                retry_at=_now() + timedelta(minutes=1),
            )

    def _ready(self, container: str) -> bool:
        """Whether the container is FINISHED after a few checks; an end other than that
        raises what it means."""
        for attempt in range(self.ready_checks):
            status = self._status(container)
            state = status.get("status")
            if state in ("FINISHED", None):
                return True
            if state == "ERROR":
                raise Rejected(failure(status.get("error_message")))
            if state == "EXPIRED":
                raise RetryLater(f"Threads container {container} expired before publishing")
            if state == "PUBLISHED":
                raise Duplicate(f"Threads container {container} is already published")
            if attempt + 1 < self.ready_checks:
                time.sleep(self.ready_interval)
        return False

    def _publish_error(self, response: httpx.Response) -> PublishError:
        error = graph_error(response)
        if (error_code(error), error.get("error_subcode")) == NOT_READY:
            return RetryLater(
                "Threads has not finished preparing the post; it will be published on the "
                "next attempt",
                status=response.status_code,
                code=f"{NOT_READY[0]}/{NOT_READY[1]}",
            )
        # A container publishes once, and the next attempt asks its status first: a repeat
        # is harmless where the container is on file across a restart (options.state_dir).
        return classify(response, "Threads", creates=not self._store.durable)

    # -- reading ------------------------------------------------------------------------

    def _post(self, path: str, params: dict[str, str], *, creates: bool) -> httpx.Response:
        request = self._client.build_request("POST", f"/{self._version}/{path}", params=params)
        return (send if creates else send_safe)(self._client, request, "Threads")

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        request = self._client.build_request("GET", f"/{self._version}/{path}", params=params)
        response = send_safe(self._client, request, "Threads")
        if not response.is_success:
            raise classify(response, "Threads")
        body = json_body(response)
        return body if isinstance(body, dict) else {}

    def _status(self, container: str) -> dict[str, Any]:
        return self._get(container, {"fields": "status,error_message"})

    def _permalink(self, media: str) -> str | None:
        """Best effort: the post is out already, so nothing here may fail the publish."""
        try:
            link = self._get(media, {"fields": "permalink"}).get("permalink")
        except PublishError:
            return None
        return str(link) if link else None

    def _find_published(self, post: Post, entry: dict[str, str]) -> PlatformRef | None:
        """The post among the account's latest, by its text, since its container was made."""
        edge = "replies" if post.reply_to else "threads"
        since = datetime.fromisoformat(entry["at"]) - timedelta(minutes=5)
        found = self._get(
            f"{self._user}/{edge}",
            {
                "fields": "id,text,timestamp,permalink",
                "since": str(int(since.timestamp())),
                "limit": "50",
            },
        )
        for media in found.get("data") or []:
            if isinstance(media, dict) and media.get("text") == post.text:
                return PlatformRef(
                    str(media["id"]), media.get("permalink"), {"container": entry["container"]}
                )
        return None

    def _media_ref(self, entry: dict[str, str]) -> PlatformRef:
        return PlatformRef(
            entry["media"], entry.get("permalink") or None, {"container": entry["container"]}
        )

    # -- figures ------------------------------------------------------------------------

    def figures(self, ref: PlatformRef) -> Figures:
        """The post's insights (`GET /{media-id}/insights`, permission
        threads_manage_insights): views, likes, replies, reposts, quotes and shares."""
        request = self._client.build_request(
            "GET", f"/{self._version}/{ref.id}/insights", params={"metric": METRICS}
        )
        response = send_safe(self._client, request, "Threads")
        if not response.is_success:
            raise figures_failure(response, "Threads", ref.id, "threads_manage_insights")
        body = json_body(response)
        values = insight_values(body.get("data") if isinstance(body, dict) else None)
        shares = values.get("shares")
        return Figures(
            likes=values.get("likes"),
            reposts=values.get("reposts"),
            replies=values.get("replies"),
            quotes=values.get("quotes"),
            views=values.get("views"),
            extra={"shares": shares} if shares is not None else {},
        )

    # -- lookup and check ---------------------------------------------------------------

    def lookup(self, post: Post) -> PlatformRef | None:
        entry = self._store.get(post.key)
        if entry is None:
            if self._store.durable and post.due > _now() - KEEP:
                return None  # a container is on record before anything is published
            raise LookupUnavailable(
                "no container on record for this delivery: set options.state_dir so that "
                "Threads containers survive a restart"
            )
        if entry.get("media"):
            return self._media_ref(entry)
        status, found = self._published_earlier(post, entry)
        if status == "PUBLISHED" and found is None:
            raise LookupUnavailable(
                f"Threads published container {entry['container']} but the post is not "
                "among the account's latest posts"
            )
        return found

    def check(self) -> CheckReport:
        rules = self.capabilities.rules
        limits = {"max_length": rules.max_length, "max_media": rules.max_media}
        try:
            me = self._get(self._user, {"fields": "id,username"})
            quota = self._get(
                f"{self._user}/threads_publishing_limit",
                {"fields": "quota_usage,config,reply_quota_usage,reply_config"},
            )
        except PublishError as error:
            return CheckReport(ok=False, limits=limits, problems=[error.reason])
        usage = (quota.get("data") or [{}])[0]
        budgets = [
            _budget("posts per 24 h", usage.get("quota_usage"), usage.get("config")),
            _budget("replies per 24 h", usage.get("reply_quota_usage"), usage.get("reply_config")),
        ]
        problems = [
            f"the Threads quota of {b.scope} is used up" for b in budgets if b.remaining == 0
        ]
        return CheckReport(
            ok=not problems,
            account=f"@{me.get('username')}",
            limits=limits,
            budgets=[b for b in budgets if b.limit is not None],
            problems=problems,
        )

    def close(self) -> None:
        self._client.close()


def _budget(scope: str, used: Any, config: Any) -> PlatformBudget:
    total = config.get("quota_total") if isinstance(config, dict) else None
    if not isinstance(total, int):
        return PlatformBudget(scope, None, None, None)
    spent = used if isinstance(used, int) else 0
    return PlatformBudget(scope, total, max(0, total - spent), None)


def _id(response: httpx.Response) -> str:
    body = json_body(response)
    if not isinstance(body, dict) or not body.get("id"):
        raise RetryLater("Threads answered without an id", status=response.status_code)
    return str(body["id"])


def _now() -> datetime:
    return datetime.now(UTC)


def _is_video(media: MediaFile) -> bool:
    return media.mime.startswith("video/")
