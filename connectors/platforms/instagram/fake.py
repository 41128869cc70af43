"""An Instagram Graph API fake: media containers, carousels, reels, publishing, comments, the
publishing limit, permissions, and the usage headers.

As Meta documents it (reference/ig-user/media, ig-container, ig-user/media_publish,
content_publishing_limit, error-codes): an image container is ready at once; a video's
(a reel, or a carousel video) stays `IN_PROGRESS` for `processing_reads` status reads, then
`FINISHED`, and `PUBLISHED` once published, which happens at most once. Publishing a container
not ready meets 9007/2207027; over the publishing limit, 9/2207042; a file Instagram cannot
download, 9004/2207052 (an image, at once) or an `ERROR` container (a video). Every answer
carries `X-App-Usage` and `X-Business-Use-Case-Usage`; a revoked token meets code 190.
`python -m connectors.platforms.instagram.fake` serves it.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.base import ChannelAccess
from connectors.fakes.cli import serve
from connectors.fakes.containers import advance
from connectors.fakes.params import params
from connectors.fakes.server import FakePlatform, Made, Request, Response

TOKEN = "EAAfakeInstagramUserAccessToken"
USER = "17841400000000002"
USERNAME = "sayno_europe"
CDN = "https://cdn.example.org/media"
APP_ID = "1234567890123456"
APP_SECRET = "fakeInstagramAppSecret"
SHORT_TOKEN = "EAAshortLivedExplorerToken"
PAGE = "100000000000001"
TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
}
MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_.]+")

Handler = Callable[[Request, dict[str, Any]], Response]


def instagram_error(
    code: int, message: str, *, subcode: int | None = None, status: int = 400, **extra: Any
) -> Response:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "is_transient": False,
        "fbtrace_id": "AInStAgRaMfAkE",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
        error["error_user_msg"] = message
    return Response(status, {"error": error | extra})


class InstagramFake(FakePlatform):
    publish_route: ClassVar[tuple[str, str]] = ("POST", r"/media_publish$")

    def __init__(self, *, token: str = TOKEN, latency: float = 0.0) -> None:
        self.token = token
        self.processing_reads = 0
        """Status reads a new video container spends IN_PROGRESS before it is FINISHED."""
        self.failing_urls: set[str] = set()
        """Addresses Instagram cannot download."""
        self.quota_total = 100
        self.permissions = {"instagram_basic", "instagram_content_publish", "pages_show_list"}
        self.comments_allowed = True
        """False: the token lacks instagram_manage_comments."""
        self.app_usage = 3
        """The percentage of the app's hourly calls used, as X-App-Usage reports it."""
        self.containers: dict[str, dict[str, Any]] = {}
        self.posts: list[dict[str, Any]] = []
        """Every published post, oldest first."""
        self.comments: list[dict[str, Any]] = []
        self.made: list[Made] = []
        self._ids = itertools.count(17900000000000001)
        super().__init__(latency=latency)

    # -- the contract suite's view ----------------------------------------------------------

    def channel(self) -> ChannelAccess:
        return ChannelAccess(
            name="instagram-main",
            platform="instagram",
            credentials={"access_token": self.token},
            base_url=self.base_url,
            options={"user_id": USER, "media_base_url": CDN},
            timeout=2.0,
        )

    def throttle(self, until: datetime) -> Response:
        """Code 4, the app's calls used up: `X-App-Usage` at 100 %, and the minutes until
        `until` in `X-Business-Use-Case-Usage` (`estimated_time_to_regain_access`)."""
        minutes = max(1, math.ceil((until - datetime.now(UTC)).total_seconds() / 60))
        response = instagram_error(4, "(#4) Application request limit reached", is_transient=True)
        return Response(response.status, response.body, self._usage(100, minutes))

    def revoke(self) -> None:
        with self.lock:
            self.token = "revoked"

    def published(self) -> list[Made]:
        with self.lock:
            return list(self.made)

    # -- serving ----------------------------------------------------------------------------

    def routes(self) -> None:
        v = r"/v(?P<version>\d+\.\d+)"
        self.route("POST", rf"{v}/(?P<user>\d+)/media", self._guard(self._create))
        self.route("POST", rf"{v}/(?P<user>\d+)/media_publish", self._guard(self._publish))
        self.route("GET", rf"{v}/(?P<user>\d+)/media", self._guard(self._list))
        self.route("GET", rf"{v}/(?P<user>\d+)/content_publishing_limit", self._guard(self._quota))
        self.route("GET", rf"{v}/me/permissions", self._guard(self._permissions))
        self.route("GET", rf"{v}/me/accounts", self._guard(self._accounts))
        self.route("GET", rf"{v}/oauth/access_token", self._exchange)
        self.route("POST", rf"{v}/(?P<media>\d+)/comments", self._guard(self._comment))
        self.route("GET", rf"{v}/(?P<media>\d+)/comments", self._guard(self._list_comments))
        self.route("GET", rf"{v}/(?P<node>\d+)", self._guard(self._node))

    def _guard(self, handler: Handler) -> Callable[[Request], Response]:
        def guarded(request: Request) -> Response:
            args = params(request)
            if args.get("access_token") != self.token:
                answer = instagram_error(
                    190,
                    "Error validating access token: The session has been invalidated because "
                    "the user changed their password or Facebook has changed the session for "
                    "security reasons.",
                    subcode=460,
                )
            else:
                user = request.match.get("user")
                if user is not None and user != USER:
                    answer = instagram_error(
                        100, "Object with ID does not exist, cannot be loaded", subcode=33
                    )
                else:
                    answer = handler(request, args)
            return Response(answer.status, answer.body, {**self._usage(self.app_usage, 0)})

        return guarded

    def _usage(self, percent: int, minutes: int) -> dict[str, str]:
        used = {"call_count": percent, "total_cputime": percent // 2, "total_time": percent // 2}
        business = {
            USER: [{"type": "instagram", **used, "estimated_time_to_regain_access": minutes}]
        }
        return {"X-App-Usage": json.dumps(used), "X-Business-Use-Case-Usage": json.dumps(business)}

    def _create(self, request: Request, args: dict[str, Any]) -> Response:
        kind = args.get("media_type")
        caption = str(args.get("caption") or "")
        item = args.get("is_carousel_item") == "true"
        url = args.get("image_url") or args.get("video_url")
        if len(caption) > 2200:
            return instagram_error(
                36004,
                f"The submitted image's caption was {len(caption)} characters long. The maximum "
                "number of characters permitted for a caption is 2200.",
                subcode=2207010,
            )
        if len(MENTION.findall(caption)) > 20:
            return instagram_error(
                100, "Cannot use more than 20 tags per created media.", subcode=2207040
            )
        if item and caption:
            return instagram_error(100, "Param caption is not supported on carousel items")
        if kind == "CAROUSEL":
            children = [c for c in str(args.get("children") or "").split(",") if c]
            if not 2 <= len(children) <= 10 or any(
                not self.containers.get(c, {}).get("item") for c in children
            ):
                return instagram_error(
                    100,
                    "Your post won't work as a carousel. Carousels need at least 2 photos/videos "
                    "and no more than 10 photos/videos.",
                    subcode=2207028,
                )
        elif kind in ("REELS", "VIDEO"):
            if not args.get("video_url"):
                return instagram_error(100, "The parameter video_url is required")
            if kind == "VIDEO" and not item:
                return instagram_error(
                    100, "The VIDEO media type is only for carousel items; use REELS"
                )
            if args.get("alt_text"):
                return instagram_error(100, "alt_text is only supported for images")
        elif kind is None:
            if not args.get("image_url"):
                return instagram_error(100, "The parameter image_url is required")
            if url in self.failing_urls:
                return instagram_error(
                    9004, f"The media could not be fetched from this uri: {url}", subcode=2207052
                )
            if _type(str(url)) != "image/jpeg":
                return instagram_error(
                    36001,
                    "The image format is not supported. Supported formats are: JPEG.",
                    subcode=2207005,
                )
            if len(str(args.get("alt_text") or "")) > 1000:
                return instagram_error(100, "alt_text must be at most 1000 characters")
        else:
            return instagram_error(100, f"The media type {kind} is unknown.", subcode=2207023)
        video = kind in ("REELS", "VIDEO") or (
            kind == "CAROUSEL" and any(self.containers[c]["video"] for c in _children(args))
        )
        container: dict[str, Any] = {
            "id": str(next(self._ids)),
            "params": {k: v for k, v in args.items() if k != "access_token"},
            "item": item,
            "video": video,
            "reads_left": self.processing_reads if video else 0,
            "status": "ERROR"
            if url in self.failing_urls
            else "IN_PROGRESS"
            if video
            else "FINISHED",
        }
        self.containers[container["id"]] = container
        return Response(200, {"id": container["id"]})

    def _publish(self, request: Request, args: dict[str, Any]) -> Response:
        container = self.containers.get(str(args.get("creation_id")))
        if container is None:
            return instagram_error(
                24,
                f"The media builder with creation id = {args.get('creation_id')} does not exist "
                "or has been expired.",
                subcode=2207008,
            )
        if container["status"] == "PUBLISHED":
            return instagram_error(100, "The media has already been published")
        if container["status"] != "FINISHED" or container["item"]:
            return instagram_error(
                9007,
                "The media is not ready for publishing, please wait for a moment",
                subcode=2207027,
            )
        if self._used() >= self.quota_total:
            return instagram_error(
                9,
                "You reached maximum number of posts that is allowed to be published by "
                "Content Publishing API.",
                subcode=2207042,
            )
        parameters = container["params"]
        media_id = str(next(self._ids))
        children = [self.containers[c]["params"] for c in _children(parameters)]
        urls = [str(c.get("image_url") or c.get("video_url")) for c in children or [parameters]]
        self.posts.append(
            {
                "id": media_id,
                "container": container["id"],
                "media_type": parameters.get("media_type") or "IMAGE",
                "caption": parameters.get("caption", ""),
                "params": parameters,
                "children": children,
                "permalink": f"https://www.instagram.com/p/C{media_id[-8:]}/",
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime()),
                "time": int(time.time()),
                "likes": 0,
            }
        )
        self.made.append(Made(parameters.get("caption", ""), tuple(map(_type, urls)), None))
        container["status"] = "PUBLISHED"
        return Response(200, {"id": media_id})

    def _used(self) -> int:
        day_ago = time.time() - 86400
        return sum(1 for p in self.posts if p["time"] >= day_ago)

    def _list(self, request: Request, args: dict[str, Any]) -> Response:
        since = int(args.get("since") or 0)
        limit = int(args.get("limit") or 25)
        wanted = str(args.get("fields") or "id").split(",")
        found = [
            {k: p[k] for k in wanted if k in p} for p in reversed(self.posts) if p["time"] >= since
        ][:limit]
        return Response(200, {"data": found, "paging": {}})

    def _quota(self, request: Request, args: dict[str, Any]) -> Response:
        config = {"quota_total": self.quota_total, "quota_duration": 86400}
        return Response(200, {"data": [{"quota_usage": self._used(), "config": config}]})

    def _permissions(self, request: Request, args: dict[str, Any]) -> Response:
        data = [{"permission": p, "status": "granted"} for p in sorted(self.permissions)]
        return Response(200, {"data": data})

    def _exchange(self, request: Request) -> Response:
        """`fb_exchange_token`: a short-lived user token for a long-lived one (60 days)."""
        args = params(request)
        if args.get("client_id") != APP_ID or args.get("client_secret") != APP_SECRET:
            return instagram_error(1, "Error validating client secret.")
        if (
            args.get("grant_type") != "fb_exchange_token"
            or args.get("fb_exchange_token") != SHORT_TOKEN
        ):
            return instagram_error(190, "Invalid OAuth access token - Cannot parse access token")
        return Response(
            200, {"access_token": self.token, "token_type": "bearer", "expires_in": 5183944}
        )

    def _accounts(self, request: Request, args: dict[str, Any]) -> Response:
        account = {"id": USER, "username": USERNAME}
        page = {"name": "#SayNo Europe", "id": PAGE, "instagram_business_account": account}
        return Response(200, {"data": [page], "paging": {}})

    def _comment(self, request: Request, args: dict[str, Any]) -> Response:
        media = request.match["media"]
        if not any(p["id"] == media for p in self.posts):
            return instagram_error(
                100, "Object with ID does not exist, cannot be loaded", subcode=33
            )
        if not self.comments_allowed:
            return instagram_error(10, "(#10) Application does not have permission for this action")
        text = str(args.get("message") or "")
        if not text:
            return instagram_error(100, "The parameter message is required")
        comment = {
            "id": str(next(self._ids)),
            "media": media,
            "text": text,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime()),
        }
        self.comments.append(comment)
        self.made.append(Made(text, (), media))
        return Response(200, {"id": comment["id"]})

    def _list_comments(self, request: Request, args: dict[str, Any]) -> Response:
        media = request.match["media"]
        found = [
            {k: c[k] for k in ("id", "text", "timestamp")}
            for c in reversed(self.comments)
            if c["media"] == media
        ]
        return Response(200, {"data": found})

    def _node(self, request: Request, args: dict[str, Any]) -> Response:
        node = request.match["node"]
        if node == USER:
            return Response(200, {"id": USER, "username": USERNAME, "name": "#SayNo Europe"})
        container = self.containers.get(node)
        if container is not None:
            advance(container)
            answer = {"id": node, "status_code": container["status"]}
            if container["status"] == "ERROR":
                answer["status"] = "ERROR: 2207052"
            return Response(200, answer)
        for post in self.posts:
            if post["id"] == node:
                fields = {
                    "permalink": post["permalink"],
                    "like_count": post["likes"],
                    "comments_count": sum(1 for c in self.comments if c["media"] == node),
                }
                wanted = str(args.get("fields") or "id").split(",")
                return Response(200, {"id": node} | {k: fields[k] for k in wanted if k in fields})
        return instagram_error(100, "Object with ID does not exist, cannot be loaded", subcode=33)


def _children(args: dict[str, Any]) -> list[str]:
    return [c for c in str(args.get("children") or "").split(",") if c]


def _type(url: str) -> str:
    suffix = url[url.rfind(".") :].lower() if "." in url.rpartition("/")[2] else ""
    return TYPES.get(suffix, "application/octet-stream")


def main() -> None:
    serve(lambda latency: InstagramFake(latency=latency))


if __name__ == "__main__":
    main()
