"""A Facebook Graph API fake for one Page: feed posts, photos (published or not), comments.

Errors come as Graph documents them, `{"error": {message, type, code, error_subcode,
fbtrace_id}}`, and every answer carries an `X-Business-Use-Case-Usage` header.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from datetime import UTC, datetime
from typing import Any

from connectors.base import ChannelAccess
from connectors.fakes.cli import serve
from connectors.fakes.params import Upload, params
from connectors.fakes.server import FakePlatform, Made, Request, Response
from connectors.fakes.sniff import sniffed
from connectors.platforms.facebook.fake_video import APP, FacebookVideos

TOKEN = "EAAfakePageAccessToken"
PAGE = "104857600123"


def graph_error(
    status: int,
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEfGhIj",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return Response(status, {"error": error}, headers or {})


def usage_header(call_count: int, minutes: int = 0) -> dict[str, str]:
    entry = {
        "type": "pages",
        "call_count": call_count,
        "total_cputime": 1,
        "total_time": 1,
        "estimated_time_to_regain_access": minutes,
    }
    return {"X-Business-Use-Case-Usage": json.dumps({PAGE: [entry]})}


class FacebookFake(FakePlatform):
    publish_route = ("POST", r"/(feed|photos|videos)$")
    """A post is made by `/feed`, by `/photos` for one photo (several photos are uploaded
    there unpublished first), or by `/videos` once the video is uploaded."""

    def __init__(self, *, token: str = TOKEN, latency: float = 0.0) -> None:
        self.token = token
        self.token_error: tuple[int, int | None] = (190, None)
        """The code and subcode a wrong token meets (190/463: expired)."""
        self.comments_allowed = True
        """False: the token lacks pages_manage_engagement."""
        self.posts: list[dict[str, Any]] = []
        self.photos: dict[str, dict[str, Any]] = {}
        self.comments: list[dict[str, Any]] = []
        self.permissions = {"pages_read_engagement", "read_insights"}
        """What the Page token may read: a post's counts, its insights."""
        self.calls = 0
        self.videos = FacebookVideos(token)
        self._ids = itertools.count(9001)
        super().__init__(latency=latency)

    # -- the contract -------------------------------------------------------------------

    def channel(self) -> ChannelAccess:
        return ChannelAccess(
            "facebook-main",
            "facebook",
            None,
            {"page_access_token": TOKEN},
            self.base_url,
            {"page_id": PAGE, "app_id": APP},
            timeout=2.0,
        )

    def throttle(self, until: datetime, code: int = 80001) -> Response:
        """The Pages business use case limit: code 80001, and in `X-Business-Use-Case-Usage`
        the minutes until access is regained."""
        minutes = max(math.ceil((until - datetime.now(UTC)).total_seconds() / 60), 0)
        return graph_error(
            400,
            code,
            "There have been too many calls to this Page account. Wait a bit and try again.",
            headers=usage_header(100, minutes),
        )

    def revoke(self) -> None:
        """The person who gave the token removed the app (code 190, subcode 458)."""
        self.expire(458)

    def published(self) -> list[Made]:
        """Posts and their comments, in the order they were made."""
        with self.lock:
            made = [(p["id"], self._made(p)) for p in self.posts]
            made += [(c["id"], Made(c["message"], (), c["parent"])) for c in self.comments]
        return [entry for _, entry in sorted(made, key=lambda pair: int(pair[0].split("_")[-1]))]

    def _made(self, post: dict[str, Any]) -> Made:
        files = [self.photos[fbid]["bytes"] or b"" for fbid in post["attached_media"]]
        if post.get("video"):
            files.append(self.videos.videos[post["video"]].content)
        return Made(post["message"] or "", tuple(sniffed(file) for file in files))

    def expire(self, subcode: int = 463) -> None:
        """The Page token expired (463) or was invalidated (460: password changed)."""
        with self.lock:
            self.token = self.videos.token = "expired"
            self.token_error = (190, subcode)

    def react(
        self, post_id: str, *, likes: int = 0, reposts: int = 0, replies: int = 0, quotes: int = 0
    ) -> None:
        """People react to, share and comment on the post (Facebook counts no quotes); each
        of them saw it and clicked it."""
        with self.lock:
            post = next(p for p in self.posts if p["id"] == post_id)
            post["reactions"] += likes
            post["shares"] += reposts
            post["comment_count"] += replies
            post["views"] += likes + reposts + replies + quotes
            post["clicks"] += likes + reposts + replies + quotes

    def delete_post(self, post_id: str) -> None:
        with self.lock:
            self.posts = [p for p in self.posts if p["id"] != post_id]

    # -- serving --------------------------------------------------------------------------

    def routes(self) -> None:
        version = r"/v(?P<version>\d+\.\d+)"
        self.route("POST", rf"{version}/(?P<node>[\w]+)/feed", self._guard(self._feed))
        self.route("POST", rf"{version}/(?P<node>[\w]+)/photos", self._guard(self._photos))
        self.route("POST", rf"{version}/(?P<node>[\w]+)/comments", self._guard(self._comment))
        self.route("POST", rf"{version}/(?P<node>[\w]+)/uploads", self._guard(self.videos.start))
        self.route("POST", rf"{version}/(?P<node>[\w]+)/videos", self._guard(self._video))
        session = rf"{version}/upload:(?P<session>\w+)"
        self.route("POST", session, self._guard(lambda request, _: self.videos.transfer(request)))
        self.route("GET", session, self._guard(lambda request, _: self.videos.offset(request)))
        self.route("GET", rf"{version}/(?P<node>[\w]+)", self._guard(self._node))

    def _guard(self, handler: Any) -> Any:
        def guarded(request: Request) -> Response:
            self.calls += 1
            args = params(request)
            if args.get("access_token") != self.token:
                code, subcode = self.token_error
                response = graph_error(400, code, "Error validating access token", subcode=subcode)
            else:
                response = handler(request, args)
            headers = {**usage_header(min(self.calls, 100)), **response.headers}
            return Response(response.status, response.body, headers)

        return guarded

    def _page(self, request: Request) -> Response | None:
        if request.match["node"] != PAGE:
            return graph_error(
                400,
                100,
                "Unsupported post request. Object does not exist or cannot be loaded",
                subcode=33,
            )
        return None

    def _new_post(self, fields: dict[str, Any]) -> dict[str, Any]:
        counts = {"reactions": 0, "shares": 0, "comment_count": 0, "views": 0, "clicks": 0}
        created = {"id": f"{PAGE}_{next(self._ids)}", **fields, **counts}
        self.posts.append(created)
        return created

    def _feed(self, request: Request, args: dict[str, Any]) -> Response:
        missing = self._page(request)
        if missing:
            return missing
        attached = []
        for i in itertools.count():
            raw = args.get(f"attached_media[{i}]")
            if raw is None:
                break
            fbid = json.loads(raw).get("media_fbid")
            photo = self.photos.get(fbid)
            if photo is None or photo["published"]:
                return graph_error(400, 100, "(#100) Invalid attached_media")
            attached.append(fbid)
        message = args.get("message")
        if not message and not args.get("link") and not attached:
            return graph_error(400, 100, "(#100) Missing message or attachment")
        if message and any(p.get("message") == message for p in self.posts[-1:]):
            return graph_error(400, 506, "(#506) Duplicate status message")
        created = self._new_post(
            {"message": message, "link": args.get("link"), "attached_media": attached}
        )
        for fbid in attached:
            self.photos[fbid]["published"] = True
        return Response(200, {"id": created["id"]})

    def _photos(self, request: Request, args: dict[str, Any]) -> Response:
        missing = self._page(request)
        if missing:
            return missing
        source = args.get("source")
        if not isinstance(source, Upload) and not args.get("url"):
            return graph_error(400, 324, "(#324) Requires upload file")
        published = args.get("published", "true") != "false"
        photo_id = str(next(self._ids))
        self.photos[photo_id] = {
            "id": photo_id,
            "published": published,
            "alt_text_custom": args.get("alt_text_custom"),
            "bytes": source.content if isinstance(source, Upload) else None,
        }
        if not published:
            return Response(200, {"id": photo_id})
        created = self._new_post({"message": args.get("message"), "attached_media": [photo_id]})
        return Response(200, {"id": photo_id, "post_id": created["id"]})

    def _video(self, request: Request, args: dict[str, Any]) -> Response:
        missing = self._page(request)
        if missing:
            return missing
        video = self.videos.post(args)
        if isinstance(video, Response):
            return video
        self._new_post({"message": video.description, "attached_media": [], "video": video.id})
        return Response(200, {"id": video.id})

    def _comment(self, request: Request, args: dict[str, Any]) -> Response:
        node = request.match["node"]
        if not any(p["id"] == node for p in self.posts):
            return graph_error(400, 100, "Object does not exist", subcode=33)
        if not self.comments_allowed:
            return graph_error(403, 200, "(#200) Permissions error")
        if not args.get("message"):
            return graph_error(400, 100, "(#100) Missing message")
        comment = {"id": f"{node.partition('_')[2]}_{next(self._ids)}", "parent": node}
        self.comments.append({**comment, "message": args["message"]})
        return Response(200, {"id": comment["id"]})

    def _node(self, request: Request, args: dict[str, Any]) -> Response:
        video = self.videos.videos.get(request.match["node"])
        if video is not None:
            return self.videos.status(video)
        if "_" in request.match["node"]:
            return self._post(request.match["node"], str(args.get("fields") or ""))
        missing = self._page(request)
        if missing:
            return missing
        return Response(200, {"name": "SayNo Europe", "id": PAGE})

    def _post(self, post_id: str, fields: str) -> Response:
        """A Page post's fields: counts by field expansion, `insights.metric(...)`."""
        post = next((p for p in self.posts if p["id"] == post_id), None)
        if post is None:
            return graph_error(
                400,
                100,
                f"Unsupported get request. Object with ID '{post_id}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation",
                subcode=33,
            )
        wanted = {"shares", "reactions", "comments"} & set(re.findall(r"\w+", fields))
        if wanted and "pages_read_engagement" not in self.permissions:
            return graph_error(
                400, 10, "(#10) This endpoint requires the 'pages_read_engagement' permission"
            )
        if "insights" in fields and "read_insights" not in self.permissions:
            return graph_error(400, 10, "(#10) Application does not have permission")
        body: dict[str, Any] = {"id": post_id}
        if "shares" in wanted and post["shares"]:
            body["shares"] = {"count": post["shares"]}  # left out while there are none
        for name, count in (("reactions", post["reactions"]), ("comments", post["comment_count"])):
            if name in wanted:
                body[name] = {"data": [], "summary": {"total_count": count}}
        if "insights" in fields:
            body["insights"] = {
                "data": [
                    _insight(post_id, "post_media_view", post["views"]),
                    _insight(post_id, "post_clicks", post["clicks"]),
                ]
            }
        return Response(200, body)


def _insight(post_id: str, name: str, value: int) -> dict[str, Any]:
    return {
        "name": name,
        "period": "lifetime",
        "values": [{"value": value}],
        "id": f"{post_id}/insights/{name}/lifetime",
    }


def main() -> None:
    serve(lambda latency: FacebookFake(latency=latency))


if __name__ == "__main__":
    main()
