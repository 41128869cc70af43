"""Threads through its Graph-style API: create a media container, then publish it
(connectors.containers keeps the container of each delivery, for recovery).

Threads downloads media from a public address: `options.media_base_url` plus the file's
name (connectors.mediaurl).
"""

from __future__ import annotations

from typing import ClassVar

import httpx

from campaigns.platforms import PLATFORMS
from connectors.base import (
    Capabilities,
    ChannelAccess,
    CheckReport,
    Figures,
    MediaFile,
    PlatformRef,
    Post,
    PublishError,
    Rejected,
    RetryLater,
)
from connectors.containers import ContainerConnector, created_id
from connectors.graph import (
    classify,
    error_code,
    figures_failure,
    graph_error,
    insight_values,
    quota_budget,
)
from connectors.http import json_body, send_safe
from connectors.mediaurl import media_base_url, media_url
from connectors.platforms.threads.failures import failure

API = "https://graph.threads.net"
DEFAULT_VERSION = "v1.0"
NOT_READY = (24, 4279009)
"""`threads_publish` on a container Threads has not finished setting up ("Media Not Found")."""
METRICS = "views,likes,replies,reposts,quotes,shares"


class ThreadsConnector(ContainerConnector):
    platform: ClassVar[str] = "threads"
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORMS["threads"], idempotency="container", lookup=True, figures=True
    )
    label: ClassVar[str] = "Threads"
    api: ClassVar[str] = API
    default_version: ClassVar[str] = DEFAULT_VERSION
    version_option: ClassVar[str] = "threads_version"

    def __init__(self, config: ChannelAccess) -> None:
        super().__init__(config, config.credentials["access_token"])

    # -- publishing ---------------------------------------------------------------------

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

    def _item(self, media: MediaFile) -> str:
        return self._container(self._media_params(media) | {"is_carousel_item": "true"})

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
        return created_id(response, "Threads")

    def _state(self, container: str) -> tuple[str | None, str | None]:
        status = self._get(container, {"fields": "status,error_message"})
        return status.get("status"), status.get("error_message")

    def _failed(self, problem: str | None) -> PublishError:
        return Rejected(failure(problem))

    def _publish_container(self, container: str) -> str:
        response = self._post(
            f"{self._user}/threads_publish", {"creation_id": container}, creates=True
        )
        if not response.is_success:
            raise self._publish_error(response)
        return created_id(response, "Threads")

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

    def _find_published(self, post: Post, entry: dict[str, str]) -> PlatformRef | None:
        """The post among the account's latest, by its text, since its container was made."""
        edge = "replies" if post.reply_to else "threads"
        return self._recent(edge, "id,text,timestamp,permalink", entry, "text", post.text)

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

    # -- check --------------------------------------------------------------------------

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
            quota_budget("posts per 24 h", usage.get("quota_usage"), usage.get("config")),
            quota_budget(
                "replies per 24 h", usage.get("reply_quota_usage"), usage.get("reply_config")
            ),
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
