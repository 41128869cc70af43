"""Meta's container-then-publish flow, which Threads and Instagram share.

A post is made in two steps: a media container (invisible, expiring after 24 hours), then a
publish call that makes it public, which happens at most once per container. So every failure
before publishing is safe to retry, and keeping the container made for a delivery makes a
repeated publish harmless. The connector keeps that container id, and the published media
id, in its DeliveryState, written before it publishes. After a crash or a time-out,
`publish()` and `lookup()` ask the platform for the container's status (`FINISHED`,
`PUBLISHED`, `EXPIRED`, ...) instead of guessing.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx

from connectors.base import (
    ChannelAccess,
    Connector,
    Duplicate,
    LookupUnavailable,
    MediaFile,
    PlatformRef,
    Post,
    Published,
    PublishError,
    Rejected,
    RetryLater,
)
from connectors.deliverystate import KEEP, DeliveryState
from connectors.graph import classify, graph_client
from connectors.http import json_body, send, send_safe, warm

EARLIER = "published by an earlier attempt"


class ContainerConnector(Connector):
    """A connector that posts through containers. A platform says how to make one
    (`_create`), read its state (`_state`), publish it (`_publish_container`) and find the
    post an earlier attempt published (`_find_published`)."""

    label: ClassVar[str]
    """The platform's name in messages."""
    api: ClassVar[str]
    default_version: ClassVar[str]
    version_option: ClassVar[str]
    ready_checks: ClassVar[int] = 10
    ready_interval: ClassVar[float] = 2.0
    """Seconds between container status checks before publishing."""

    def __init__(self, config: ChannelAccess, token: str) -> None:
        super().__init__(config)
        self._user = str(config.options["user_id"])
        self._version = str(config.options.get(self.version_option) or self.default_version)
        state = config.options.get("state_dir")
        self._store = DeliveryState(
            Path(state) if state else None, config.name, self.platform, self.label
        )
        self._client = graph_client(config, self.api, token)
        self._children: dict[str, list[str]] = {}
        """A carousel's items an earlier attempt made, while the platform prepared videos."""

    @abstractmethod
    def _create(self, post: Post) -> str:
        """A new container for the post (with its children, for a carousel)."""

    @abstractmethod
    def _item(self, media: MediaFile) -> str:
        """A new container for one item of a carousel."""

    @abstractmethod
    def _state(self, container: str) -> tuple[str | None, str | None]:
        """The container's status, and what went wrong when it is ERROR."""

    @abstractmethod
    def _publish_container(self, container: str) -> str:
        """Publish the container; the published media's id."""

    @abstractmethod
    def _find_published(self, post: Post, entry: dict[str, str]) -> PlatformRef | None:
        """The post an earlier attempt published from `entry`'s container, if it can be found."""

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
                    f"{self.label} published container {entry['container']} in an earlier "
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
        media = self._publish_container(container)
        permalink = self._permalink(media)
        self._store.note(post.key, media=media, permalink=permalink or "")
        return Published(PlatformRef(media, permalink, {"container": container}))

    def _published_earlier(
        self, post: Post, entry: dict[str, str]
    ) -> tuple[str | None, PlatformRef | None]:
        """The status of an earlier attempt's container, and the post if it went out."""
        try:
            status = self._state(entry["container"])[0]
        except Rejected:
            return None, None  # the platform no longer knows the container
        if status != "PUBLISHED":
            return status, None
        found = self._find_published(post, entry)
        if found:
            self._store.note(post.key, media=found.id, permalink=found.url or "")
        return status, found

    def _wait_until_ready(self, container: str) -> None:
        if not self._ready(container):
            raise RetryLater(
                f"{self.label} is still preparing container {container}",
                retry_at=now() + timedelta(minutes=1),
            )

    def _ready(self, container: str) -> bool:
        """Whether the container is FINISHED after a few checks; an end other than that
        raises what it means."""
        for attempt in range(self.ready_checks):
            state, problem = self._state(container)
            if state in ("FINISHED", None):
                return True
            if state == "ERROR":
                raise self._failed(problem)
            if state == "EXPIRED":
                raise RetryLater(f"{self.label} container {container} expired before publishing")
            if state == "PUBLISHED":
                raise Duplicate(f"{self.label} container {container} is already published")
            if attempt + 1 < self.ready_checks:
                time.sleep(self.ready_interval)
        return False

    def _carousel_items(self, post: Post) -> list[str]:
        """The items, each video among them prepared (FINISHED) before the carousel names
        it. Items still being prepared are kept for the next attempt (in memory: after a
        restart they are made again, which is harmless, as they are never shown)."""
        children = self._children.pop(post.key, None) or [self._item(media) for media in post.media]
        videos = [c for c, m in zip(children, post.media, strict=True) if is_video(m)]
        if not all(self._ready(child) for child in videos):
            self._children[post.key] = children
            raise RetryLater(
                f"{self.label} is still preparing the carousel's videos",
                retry_at=now() + timedelta(minutes=1),
            )
        return children

    def _failed(self, problem: str | None) -> PublishError:
        """What a container that ended in ERROR means."""
        return Rejected(f"{self.label} could not prepare the post: {problem}")

    def _media_ref(self, entry: dict[str, str]) -> PlatformRef:
        return PlatformRef(
            entry["media"], entry.get("permalink") or None, {"container": entry["container"]}
        )

    # -- reading ------------------------------------------------------------------------

    def _post(self, path: str, params: dict[str, str], *, creates: bool) -> httpx.Response:
        request = self._client.build_request("POST", f"/{self._version}/{path}", params=params)
        return (send if creates else send_safe)(self._client, request, self.label)

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        body = json_body(self._read(path, params))
        return body if isinstance(body, dict) else {}

    def _read(self, path: str, params: dict[str, str]) -> httpx.Response:
        """A successful answer to a GET, or the PublishError its failure means."""
        request = self._client.build_request("GET", f"/{self._version}/{path}", params=params)
        response = send_safe(self._client, request, self.label)
        if not response.is_success:
            raise self._error(response)
        return response

    def _error(self, response: httpx.Response, *, creates: bool = False) -> PublishError:
        """What a failed answer means (the platform's own codes, where it has any)."""
        return classify(response, self.label, creates=creates)

    def _permalink(self, media: str) -> str | None:
        """Best effort: the post is out already, so nothing here may fail the publish."""
        try:
            link = self._get(media, {"fields": "permalink"}).get("permalink")
        except PublishError:
            return None
        return str(link) if link else None

    def _recent(
        self, edge: str, fields: str, entry: dict[str, str], text_field: str, text: str
    ) -> PlatformRef | None:
        """The post among the account's latest on `edge` whose `text_field` is `text`,
        published since `entry`'s container was made."""
        since = datetime.fromisoformat(entry["at"]) - timedelta(minutes=5)
        found = self._get(
            f"{self._user}/{edge}",
            {"fields": fields, "since": str(int(since.timestamp())), "limit": "50"},
        )
        for media in found.get("data") or []:
            if isinstance(media, dict) and media.get(text_field) == text:
                return PlatformRef(
                    str(media["id"]), media.get("permalink"), {"container": entry["container"]}
                )
        return None

    # -- lookup -------------------------------------------------------------------------

    def lookup(self, post: Post) -> PlatformRef | None:
        entry = self._store.get(post.key)
        if entry is None:
            if self._store.durable and post.due > now() - KEEP:
                return None  # a container is on record before anything is published
            raise LookupUnavailable(
                "no container on record for this delivery: set options.state_dir so that "
                f"{self.label} containers survive a restart"
            )
        if entry.get("media"):
            return self._media_ref(entry)
        status, found = self._published_earlier(post, entry)
        if status == "PUBLISHED" and found is None:
            raise LookupUnavailable(
                f"{self.label} published container {entry['container']} but the post is not "
                "among the account's latest posts"
            )
        return found

    def warm(self) -> None:
        warm(self._client)

    def close(self) -> None:
        self._client.close()


def created_id(response: httpx.Response, label: str) -> str:
    body = json_body(response)
    if not isinstance(body, dict) or not body.get("id"):
        raise RetryLater(f"{label} answered without an id", status=response.status_code)
    return str(body["id"])


def now() -> datetime:
    return datetime.now(UTC)


def is_video(media: MediaFile) -> bool:
    return media.mime.startswith("video/")
