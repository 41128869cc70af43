"""Facebook Pages through the Graph API: `/{page-id}/feed` for text and links, `/photos` for
one photo, several unpublished photos attached to one `/feed` post.

Facebook has no threads: a later thread part is posted as a comment on the first post.
Nothing can be looked up: the Page feed is ranked and bounded, so a post missing from it
proves nothing, and Facebook has no idempotency key (error 506 only catches an identical
status posted again soon after).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import httpx

from campaigns.platforms import PLATFORMS
from connectors.base import (
    Ambiguous,
    AuthFailed,
    Capabilities,
    ChannelAccess,
    CheckReport,
    Connector,
    Figures,
    MediaFile,
    PlatformRef,
    Post,
    Published,
    PublishError,
    Rejected,
    RetryLater,
)
from connectors.graph import (
    classify,
    figures_failure,
    graph_client,
    insight_values,
    permission_denied,
    usage_budgets,
)
from connectors.http import json_body, send, send_safe, warm
from connectors.media import read_media
from connectors.platforms.facebook.video import FacebookUploads

API = "https://graph.facebook.com"
VIDEO_API = "https://graph-video.facebook.com"
"""Where Meta documents `/{page-id}/videos`; a channel's own base_url replaces both."""
DEFAULT_VERSION = "v26.0"
ENGAGEMENT = "shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"
INSIGHTS = "insights.metric(post_media_view,post_clicks)"
"""Views (which replaced impressions in November 2025) and clicks, from the post's insights."""


class FacebookConnector(Connector):
    platform: ClassVar[str] = "facebook"
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORMS["facebook"], idempotency="none", lookup=False, figures=True
    )

    def __init__(self, config: ChannelAccess) -> None:
        super().__init__(config)
        self._token = config.credentials["page_access_token"]
        self._page = str(config.options["page_id"])
        self._version = str(config.options.get("graph_version") or DEFAULT_VERSION)
        self._client = graph_client(config, API, self._token)
        app = config.options.get("app_id")
        self._uploads = FacebookUploads(
            self._client, self._version, str(app) if app else None, self._token
        )

    # -- publishing ---------------------------------------------------------------------

    def publish(self, post: Post) -> Published:
        root = post.thread_root or post.reply_to
        if root is not None:
            return self._comment(post, root)
        if any(media.mime.startswith("video/") for media in post.media):
            if len(post.media) > 1:
                raise Rejected("a Facebook post with a video carries that video alone")
            return self._video(post, post.media[0])
        for media in post.media:
            if not media.mime.startswith("image/"):
                raise Rejected(f"Clarion posts photos and videos to Facebook, not {media.mime}")
        if len(post.media) == 1:
            fields = {"message": post.text} | _alt(post.media[0])
            result = self._call("photos", data=fields, files={"source": _file(post.media[0])})
            return Published(post_ref(str(result.get("post_id") or result["id"])))
        fields = {"message": post.text}
        if post.media:
            for i, media in enumerate(post.media):
                photo = self._upload(media)
                fields[f"attached_media[{i}]"] = json.dumps({"media_fbid": photo})
        elif post.link:
            fields["link"] = post.link
        return Published(post_ref(str(self._call("feed", data=fields)["id"])))

    def _video(self, post: Post, media: MediaFile) -> Published:
        """Uploaded first (nothing public), then posted with the text as its description."""
        fields = {
            "description": post.text,
            "fbuploader_video_file_chunk": self._uploads.upload(media),
        }
        host = "" if self.config.base_url else VIDEO_API
        video = str(self._call("videos", data=fields, host=host)["id"])
        url = f"https://www.facebook.com/{self._page}/videos/{video}"
        return Published(PlatformRef(video, url), note=self._uploads.problem(video))

    def _upload(self, media: MediaFile) -> str:
        """An unpublished photo, to attach to the post; it is not visible on its own."""
        fields = {"published": "false"} | _alt(media)
        result = self._call("photos", data=fields, files={"source": _file(media)}, creates=False)
        return str(result["id"])

    def _comment(self, post: Post, root: PlatformRef) -> Published:
        if post.media:
            raise Rejected(
                "a later thread part goes on Facebook as a comment, and Clarion's comments "
                "carry text only: remove its media or post it as a separate post"
            )
        try:
            result = self._call("comments", data={"message": post.text}, node=root.id)
        except AuthFailed as denied:
            raise Rejected(
                f"Facebook refused this thread part as a comment ({denied.reason}): commenting "
                "needs the pages_manage_engagement permission",
                status=denied.status,
                code=denied.code,
            ) from None
        comment = str(result["id"])
        url = f"{root.url}?comment_id={comment.rsplit('_', 1)[-1]}" if root.url else None
        return Published(PlatformRef(comment, url, {"root": root.id}))

    def _call(
        self,
        edge: str,
        *,
        data: dict[str, str],
        files: dict[str, tuple[str, bytes, str]] | None = None,
        node: str | None = None,
        creates: bool = True,
        host: str = "",
    ) -> dict[str, Any]:
        path = f"{host}/{self._version}/{node or self._page}/{edge}"
        request = self._client.build_request("POST", path, data=data, files=files)
        response = (send if creates else send_safe)(self._client, request, "Facebook")
        body = json_body(response)
        if not response.is_success:
            raise classify(response, "Facebook", creates=creates)
        if not isinstance(body, dict) or "id" not in body:
            missing = "Facebook answered without an id"
            if creates:
                raise Ambiguous(f"{missing}: the post may exist", status=response.status_code)
            raise RetryLater(missing, status=response.status_code)
        return body

    # -- figures ------------------------------------------------------------------------

    def figures(self, ref: PlatformRef) -> Figures:
        """Reactions, comments and shares of the post, with its views and clicks from its
        insights (one read, by field expansion). Without the read_insights permission, the
        counts come without views and clicks; without pages_read_engagement, none come."""
        response = self._read(ref.id, f"{ENGAGEMENT},{INSIGHTS}")
        if permission_denied(response):
            response = self._read(ref.id, ENGAGEMENT)
        if not response.is_success:
            raise figures_failure(
                response, "Facebook", ref.id, "pages_read_engagement (and read_insights)"
            )
        body = json_body(response)
        body = body if isinstance(body, dict) else {}
        insights = insight_values((body.get("insights") or {}).get("data"))
        return Figures(
            likes=_summary(body.get("reactions")),
            reposts=int((body.get("shares") or {}).get("count") or 0),
            replies=_summary(body.get("comments")),
            views=insights.get("post_media_view"),
            clicks=insights.get("post_clicks"),
        )

    def _read(self, node: str, fields: str) -> httpx.Response:
        request = self._client.build_request(
            "GET", f"/{self._version}/{node}", params={"fields": fields}
        )
        return send_safe(self._client, request, "Facebook")

    # -- checking -----------------------------------------------------------------------

    def check(self) -> CheckReport:
        rules = self.capabilities.rules
        limits = {"max_length": rules.max_length, "max_media": rules.max_media}
        request = self._client.build_request(
            "GET", f"/{self._version}/{self._page}", params={"fields": "name"}
        )
        try:
            response = send_safe(self._client, request, "Facebook")
        except PublishError as error:
            return CheckReport(ok=False, limits=limits, problems=[error.reason])
        budgets = usage_budgets(response.headers)
        if not response.is_success:
            problem = classify(response, "Facebook").reason
            return CheckReport(ok=False, limits=limits, budgets=budgets, problems=[problem])
        body = json_body(response)
        name = body.get("name") if isinstance(body, dict) else None
        return CheckReport(ok=True, account=str(name or self._page), limits=limits, budgets=budgets)

    def warm(self) -> None:
        warm(self._client)

    def close(self) -> None:
        self._client.close()


def post_ref(post_id: str) -> PlatformRef:
    page, _, story = post_id.partition("_")
    url = f"https://www.facebook.com/{page}/posts/{story}" if story else None
    return PlatformRef(post_id, url)


def _summary(edge: Any) -> int | None:
    """`total_count` of an edge asked with `.summary(total_count)`."""
    summary = edge.get("summary") if isinstance(edge, dict) else None
    total = summary.get("total_count") if isinstance(summary, dict) else None
    return total if isinstance(total, int) else None


def _file(media: MediaFile) -> tuple[str, bytes, str]:
    return media.path.name, read_media(media), media.mime


def _alt(media: MediaFile) -> dict[str, str]:
    """The photo's description; an empty one is left out rather than sent blank."""
    return {"alt_text_custom": media.alt} if media.alt else {}
