"""Instagram through the Instagram Graph API (graph.facebook.com, a Facebook Login token): a
container per image or video, a carousel container over several, then `media_publish`
(connectors.containers keeps each delivery's container, for recovery).

Instagram downloads every file from `options.media_base_url` plus the file's name: feed
images are JPEG; a video on its own goes out as a reel (with its thumbnail as the cover,
where the plan gives one); alt text goes with images, the only kind the API takes it for.
Instagram has no reply threads: a thread's later parts are comments on its first post.

Before a new container is made the account's publishing limit is read
(`content_publishing_limit`): when it is used up, the post waits and nothing is made.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import httpx

from campaigns.platformrules import JPEG
from connectors.base import (
    Ambiguous,
    AuthFailed,
    Capabilities,
    ChannelAccess,
    CheckReport,
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
from connectors.containers import ContainerConnector, created_id, now
from connectors.graph import (
    app_usage_budget,
    classify,
    error_code,
    figures_failure,
    graph_error,
    permission_denied,
    quota_budget,
    usage_budgets,
)
from connectors.http import json_body, send_safe, server_error
from connectors.mediaurl import file_url, media_base_url, media_url
from connectors.platforms.instagram import PLATFORM

API = "https://graph.facebook.com"
DEFAULT_VERSION = "v25.0"
PERMISSIONS = ("instagram_basic", "instagram_content_publish")
QUOTA_WAIT = timedelta(hours=1)
"""How long a post waits when the account's posts per 24 hours are used up: Instagram does
not say when the oldest one leaves its moving window."""

# (code, subcode) pairs of developers.facebook.com/docs/instagram-platform/
# instagram-graph-api/reference/error-codes that call for more than their code says.
NOT_READY = (9007, 2207027)
BUILDER_LOST = (24, 2207008)
LIMIT_REACHED = (9, 2207042)
SPAM = (4, 2207051)
RESTRICTED = (25, 2207050)
TRY_AGAIN = (2207001, 2207003, 2207032, 2207053)
"""Server errors, a download that took too long, an upload that failed: "try again"."""
REFUSED_MEDIA = {
    2207004: "an image is larger than 8 MB",
    2207005: "an image is not a JPEG",
    2207009: "an image is not between 4:5 (portrait) and 1.91:1 (landscape)",
    2207010: "the caption is too long",
    2207026: "a video is not an MP4 or MOV file Instagram can read",
    2207028: "a carousel takes 2 to 10 images or videos",
    2207040: "the caption has more than 20 @mentions",
    2207052: "Instagram could not download a file from options.media_base_url",
}


class InstagramConnector(ContainerConnector):
    platform: ClassVar[str] = "instagram"
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORM.rules, idempotency="container", lookup=True, figures=True
    )
    label: ClassVar[str] = "Instagram"
    api: ClassVar[str] = API
    default_version: ClassVar[str] = DEFAULT_VERSION
    version_option: ClassVar[str] = "graph_version"
    ready_interval: ClassVar[float] = 3.0

    def __init__(self, config: ChannelAccess) -> None:
        super().__init__(config, config.credentials["access_token"])

    # -- publishing ---------------------------------------------------------------------

    def publish(self, post: Post) -> Published:
        root = post.thread_root or post.reply_to
        if root is not None:
            return self._comment(post, root)
        return super().publish(post)

    def _create(self, post: Post) -> str:
        if not post.media:
            raise Rejected("Instagram posts need an image or a video, and this one has none")
        self._respect_quota()
        if len(post.media) == 1:
            return self._container(self._media_params(post.media[0]) | {"caption": post.text})
        children = ",".join(self._carousel_items(post))
        return self._container(
            {"media_type": "CAROUSEL", "children": children, "caption": post.text}
        )

    def _item(self, media: MediaFile) -> str:
        return self._container(self._media_params(media, item=True))

    def _media_params(self, media: MediaFile, *, item: bool = False) -> dict[str, str]:
        base = media_base_url(self.config)
        if not base:
            raise Rejected(
                "Instagram downloads media from a public address: publish the media folder on "
                "a web host and set options.media_base_url"
            )
        url = media_url(base, media)
        carousel = {"is_carousel_item": "true"} if item else {}
        if media.mime == JPEG:
            return {"image_url": url} | ({"alt_text": media.alt} if media.alt else {}) | carousel
        if not media.mime.startswith("video/"):
            raise Rejected(f"Instagram takes JPEG images and MP4 or MOV videos, not {media.mime}")
        if item:
            return {"media_type": "VIDEO", "video_url": url} | carousel
        reel = {"media_type": "REELS", "video_url": url, "share_to_feed": "true"}
        cover = media.thumbnail
        if cover is None or cover.suffix.lower() not in (".jpg", ".jpeg"):
            return reel  # Instagram takes a JPEG cover only: its own frame otherwise
        return reel | {"cover_url": file_url(base, cover)}

    def _container(self, params: dict[str, str]) -> str:
        response = self._post(f"{self._user}/media", params, creates=False)
        if not response.is_success:
            raise self._error(response)
        return created_id(response, "Instagram")

    def _respect_quota(self) -> None:
        budget = self._quota()
        if budget.remaining == 0:
            raise RetryLater(
                f"the account has published its {budget.limit} Instagram posts of the last 24 "
                "hours (Instagram's limit): the post waits",
                retry_at=now() + QUOTA_WAIT,
                code="quota",
            )

    def _quota(self) -> PlatformBudget:
        found = self._get(
            f"{self._user}/content_publishing_limit", {"fields": "quota_usage,config"}
        )
        data = found.get("data")
        usage = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        return quota_budget("posts per 24 h", usage.get("quota_usage"), usage.get("config"))

    def _state(self, container: str) -> tuple[str | None, str | None]:
        found = self._get(container, {"fields": "status_code,status"})
        status = found.get("status")
        return found.get("status_code"), str(status) if status else None

    def _failed(self, problem: str | None) -> PublishError:
        """`status` names the error subcode: the documented ones that say "try again" are
        retried (with a new container, the next attempt seeing this one in ERROR)."""
        subcode = _subcode(problem or "")
        if subcode in TRY_AGAIN:
            return RetryLater(f"Instagram could not prepare the post this time ({problem})")
        words = REFUSED_MEDIA.get(subcode) if subcode is not None else None
        return Rejected(f"Instagram could not prepare the post: {words or problem}")

    def _publish_container(self, container: str) -> str:
        response = self._post(
            f"{self._user}/media_publish", {"creation_id": container}, creates=True
        )
        if not response.is_success:
            # A container publishes once, and the next attempt asks its status first: a
            # repeat is harmless where the container is on file across a restart.
            raise self._error(response, creates=not self._store.durable)
        return created_id(response, "Instagram")

    def _find_published(self, post: Post, entry: dict[str, str]) -> PlatformRef | None:
        """The post among the account's latest, by its caption, since its container was made."""
        return self._recent("media", "id,caption,timestamp,permalink", entry, "caption", post.text)

    def _error(self, response: httpx.Response, *, creates: bool = False) -> PublishError:
        error = graph_error(response)
        code, subcode = error_code(error), error.get("error_subcode")
        message = str(error.get("error_user_msg") or error.get("message") or "")
        label = f"{code}/{subcode}" if subcode else str(code)
        reason = f"Instagram answered {response.status_code}, error {label}: {message}"
        kw: dict[str, Any] = {"status": response.status_code, "code": label}
        if (code, subcode) == NOT_READY:
            return RetryLater(
                "Instagram has not finished preparing the post; it will be published on the "
                "next attempt",
                **kw,
            )
        if (code, subcode) == BUILDER_LOST:
            return RetryLater(reason, retry_at=now() + timedelta(minutes=1), **kw)
        if (code, subcode) == LIMIT_REACHED:
            return RetryLater(
                "the account has reached Instagram's limit of posts per 24 hours: the post waits",
                retry_at=now() + QUOTA_WAIT,
                **kw,
            )
        if (code, subcode) == SPAM:
            return Rejected(f"{reason} (Instagram suspects this post of being spam)", **kw)
        if (code, subcode) == RESTRICTED:
            return AuthFailed(
                f"{reason}: sign in to the Instagram app and complete what it asks", **kw
            )
        if code in (-1, -2):  # "Instagram server error. Try again."
            return server_error(reason, harmless=not creates, **kw)
        if isinstance(subcode, int) and subcode in REFUSED_MEDIA:
            return Rejected(
                f"Instagram refused the post: {REFUSED_MEDIA[subcode]} ({message})", **kw
            )
        return classify(response, "Instagram", creates=creates)

    # -- thread parts: comments on the first post ----------------------------------------

    def _comment(self, post: Post, root: PlatformRef) -> Published:
        if post.media:
            raise Rejected(
                "a later thread part goes on Instagram as a comment, which carries text only: "
                "remove its media or post it as a separate post"
            )
        response = self._post(f"{root.id}/comments", {"message": post.text}, creates=True)
        if not response.is_success:
            if permission_denied(response):
                raise Rejected(
                    "Instagram refused this thread part as a comment on the first post: "
                    "commenting needs the instagram_manage_comments permission",
                    status=response.status_code,
                )
            raise self._error(response, creates=True)
        body = json_body(response)
        if not isinstance(body, dict) or not body.get("id"):
            raise Ambiguous(
                "Instagram answered the comment without an id: it may exist",
                status=response.status_code,
            )
        return Published(PlatformRef(str(body["id"]), root.url, {"root": root.id}))

    def lookup(self, post: Post) -> PlatformRef | None:
        root = post.thread_root or post.reply_to
        if root is None:
            return super().lookup(post)
        found = self._get(f"{root.id}/comments", {"fields": "id,text,timestamp", "limit": "50"})
        for comment in found.get("data") or []:
            if isinstance(comment, dict) and comment.get("text") == post.text:
                return PlatformRef(str(comment["id"]), root.url, {"root": root.id})
        paging = found.get("paging")
        if isinstance(paging, dict) and paging.get("next"):
            raise LookupUnavailable(
                "the first post has more comments than Clarion reads: look for this one on "
                "Instagram"
            )
        return None

    # -- figures and check ----------------------------------------------------------------

    def figures(self, ref: PlatformRef) -> Figures:
        """Likes and comments of the post (`like_count`, `comments_count`: instagram_basic)."""
        request = self._client.build_request(
            "GET", f"/{self._version}/{ref.id}", params={"fields": "like_count,comments_count"}
        )
        response = send_safe(self._client, request, "Instagram")
        if not response.is_success:
            raise figures_failure(response, "Instagram", ref.id, "instagram_basic")
        body = json_body(response)
        counts = body if isinstance(body, dict) else {}
        return Figures(
            likes=_count(counts.get("like_count")), replies=_count(counts.get("comments_count"))
        )

    def check(self) -> CheckReport:
        rules = self.capabilities.rules
        limits = {
            "max_length": rules.max_length,
            "max_media": rules.max_media,
            "alt_max": rules.alt_max or 0,
        }
        try:
            account = self._read(self._user, {"fields": "id,username,name"})
            permissions = self._get("me/permissions", {})
            quota = self._quota()
        except PublishError as error:
            return CheckReport(ok=False, limits=limits, problems=[error.reason])
        me = json_body(account)
        username = me.get("username") if isinstance(me, dict) else None
        usage = account.headers
        granted = {
            p.get("permission")
            for p in permissions.get("data") or []
            if isinstance(p, dict) and p.get("status") == "granted"
        }
        missing = [p for p in PERMISSIONS if p not in granted]
        problems = [f"the token lacks the {p} permission" for p in missing]
        if quota.remaining == 0:
            problems.append(f"the account has published its {quota.limit} posts of the last 24 h")
        app = app_usage_budget(usage)
        budgets = [b for b in (quota, app) if b is not None and b.limit is not None]
        return CheckReport(
            ok=not problems,
            account=f"@{username} (professional account)",
            limits=limits,
            budgets=[*budgets, *usage_budgets(usage)],
            problems=problems,
        )


def _subcode(problem: str) -> int | None:
    digits = "".join(c for c in problem if c.isdigit())
    return int(digits) if digits else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
