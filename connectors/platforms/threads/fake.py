"""A Threads API fake: media containers, publishing, replies, carousels, the publishing quota.

A container is invisible until `threads_publish`; its status goes `IN_PROGRESS` (for
`processing_reads` status reads) then `FINISHED`, and `PUBLISHED` once published, which
happens at most once. Publishing a container that is not finished meets code 24, subcode
4279009 ("Media Not Found"), as on the real service. Over the quota, publishing meets Graph
code 4 (the real code for this case is not documented: a guess). A video container's media
is fetched and read as Threads would (connectors.platforms.threads.fake_video): it ends in
ERROR with Threads' own `error_message` when it cannot be downloaded or is not a video within
Threads' limits. A carousel naming a video item not yet FINISHED is refused (code 100; the
real answer to this is not documented).
"""

from __future__ import annotations

import itertools
import json
import math
import time
from datetime import UTC, datetime
from typing import Any

from connectors.base import ChannelAccess
from connectors.fakes.cli import serve
from connectors.fakes.containers import advance
from connectors.fakes.params import params
from connectors.fakes.server import FakePlatform, Made, Request, Response
from connectors.fakes.sniff import named
from connectors.platforms.threads.fake_video import video_problem

TOKEN = "THfakeThreadsAccessToken"
CDN = "https://cdn.example.org/media"
"""Where `channel()` says the media are published (the fake fetches only loopback ones)."""
USER = "17841400000000001"
USERNAME = "sayno_europe"
METRICS = ("views", "likes", "replies", "reposts", "quotes", "shares")


def threads_error(
    status: int,
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    error: dict[str, Any] = {
        "message": message,
        "type": "THApiException" if code != 190 else "OAuthException",
        "code": code,
        "fbtrace_id": "AtHrEaDs",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return Response(status, {"error": error}, headers or {})


class ThreadsFake(FakePlatform):
    publish_route = ("POST", r"/threads_publish$")

    def __init__(self, *, token: str = TOKEN, latency: float = 0.0) -> None:
        self.token = token
        self.processing_reads = 0
        """Status reads a new container spends IN_PROGRESS before it is FINISHED."""
        self.failing_urls: set[str] = set()
        """Media addresses Threads cannot download: their containers end in ERROR."""
        self.quota_total = 250
        self.insights_allowed = True
        """False: the token lacks threads_manage_insights."""
        self.containers: dict[str, dict[str, Any]] = {}
        self.posts: list[dict[str, Any]] = []
        """Every published post and reply, oldest first."""
        self._ids = itertools.count(18000000000000001)
        super().__init__(latency=latency)

    # -- the contract -------------------------------------------------------------------

    def channel(self) -> ChannelAccess:
        return ChannelAccess(
            "threads-main",
            "threads",
            None,
            {"access_token": TOKEN},
            self.base_url,
            {"user_id": USER, "media_base_url": CDN},
            timeout=2.0,
        )

    def throttle(self, until: datetime) -> Response:
        """Graph's throttle (code 4), with the minutes until access is regained in the
        business use case header, as Meta's Graph API gives them."""
        minutes = max(math.ceil((until - datetime.now(UTC)).total_seconds() / 60), 0)
        usage = {
            USER: [
                {
                    "type": "threads",
                    "call_count": 100,
                    "total_cputime": 1,
                    "total_time": 1,
                    "estimated_time_to_regain_access": minutes,
                }
            ]
        }
        return threads_error(
            400,
            4,
            "Application request limit reached",
            headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        )

    def revoke(self) -> None:
        with self.lock:
            self.token = "revoked"

    def published(self) -> list[Made]:
        with self.lock:
            return [
                Made(
                    post["text"],
                    tuple(
                        named(item.get("image_url") or item.get("video_url") or "")
                        for item in post["children"] or [post["params"]]
                        if item.get("image_url") or item.get("video_url")
                    ),
                    post["reply_to"],
                )
                for post in self.posts
            ]

    def react(
        self, media_id: str, *, likes: int = 0, reposts: int = 0, replies: int = 0, quotes: int = 0
    ) -> None:
        """People like, repost, reply to and quote the post; each of them saw it."""
        with self.lock:
            counts = next(p for p in self.posts if p["id"] == media_id)["insights"]
            for name, added in (
                ("likes", likes),
                ("reposts", reposts),
                ("replies", replies),
                ("quotes", quotes),
                ("views", likes + reposts + replies + quotes),
            ):
                counts[name] += added

    def delete_post(self, media_id: str) -> None:
        with self.lock:
            self.posts = [p for p in self.posts if p["id"] != media_id]

    # -- serving --------------------------------------------------------------------------

    def routes(self) -> None:
        v = r"/v(?P<version>\d+\.\d+)"
        self.route("POST", rf"{v}/(?P<user>\w+)/threads", self._guard(self._create))
        self.route("POST", rf"{v}/(?P<user>\w+)/threads_publish", self._guard(self._publish))
        self.route("GET", rf"{v}/(?P<user>\w+)/threads", self._guard(self._list))
        self.route("GET", rf"{v}/(?P<user>\w+)/replies", self._guard(self._list))
        self.route("GET", rf"{v}/(?P<user>\w+)/threads_publishing_limit", self._guard(self._quota))
        self.route("GET", rf"{v}/(?P<media>\w+)/insights", self._guard(self._insights))
        self.route("GET", rf"{v}/(?P<node>\w+)", self._guard(self._node))

    def _guard(self, handler: Any) -> Any:
        def guarded(request: Request) -> Response:
            args = params(request)
            if args.get("access_token") != self.token:
                return threads_error(401, 190, "Invalid OAuth access token - Cannot parse")
            user = request.match.get("user")
            if user is not None and user not in (USER, "me"):
                return threads_error(400, 100, "Object with ID does not exist", subcode=33)
            result: Response = handler(request, args)
            return result

        return guarded

    def _create(self, request: Request, args: dict[str, Any]) -> Response:
        kind = args.get("media_type")
        text = str(args.get("text") or "")
        if len(text) > 500:
            return threads_error(400, 100, "Param text must be at most 500 characters long.")
        if kind == "TEXT" and not text:
            return threads_error(400, 100, "Param text is required for TEXT posts")
        if kind in ("IMAGE", "VIDEO") and not args.get(f"{kind.lower()}_url"):
            return threads_error(400, 100, f"Param {kind.lower()}_url is required")
        if args.get("link_attachment") and kind != "TEXT":
            return threads_error(400, 100, "link_attachment is only for TEXT posts")
        children = [c for c in str(args.get("children") or "").split(",") if c]
        if kind == "CAROUSEL" and (
            not 2 <= len(children) <= 20
            or any(not self.containers.get(c, {}).get("item") for c in children)
        ):
            return threads_error(400, 100, "A carousel needs 2 to 20 item containers")
        if kind == "CAROUSEL" and not all(self._prepared(self.containers[c]) for c in children):
            return threads_error(400, 100, "The carousel's items are not all FINISHED")
        if kind not in ("TEXT", "IMAGE", "VIDEO", "CAROUSEL"):
            return threads_error(400, 100, "Param media_type is not valid")
        reply_to = args.get("reply_to_id")
        if reply_to and not any(p["id"] == reply_to for p in self.posts):
            return threads_error(400, 100, "The reply_to_id is not a published post")
        url = args.get("image_url") or args.get("video_url")
        problem: str | None = None
        if url in self.failing_urls:
            problem = f"FAILED_DOWNLOADING_{kind}"
        elif kind == "VIDEO":
            problem = video_problem(str(url))
        container: dict[str, Any] = {
            "id": str(next(self._ids)),
            "params": {k: v for k, v in args.items() if k != "access_token"},
            "item": args.get("is_carousel_item") == "true",
            "reads_left": self.processing_reads,
            "status": "ERROR" if problem else "IN_PROGRESS",
            "error": problem,
            "created": int(time.time()),
        }
        self.containers[container["id"]] = container
        return Response(200, {"id": container["id"]})

    @staticmethod
    def _prepared(item: dict[str, Any]) -> bool:
        """An image item is ready once made; a video item once a status read said FINISHED."""
        if item["params"].get("media_type") == "VIDEO":
            return bool(item["status"] == "FINISHED")
        return bool(item["status"] != "ERROR")

    def _publish(self, request: Request, args: dict[str, Any]) -> Response:
        container = self.containers.get(str(args.get("creation_id")))
        if container is not None and container["reads_left"] <= 0:
            advance(container)
        if container is None or container["status"] != "FINISHED" or container["item"]:
            if container is not None and container["status"] == "PUBLISHED":
                return threads_error(400, 100, "The media has already been published")
            return threads_error(
                400,
                24,
                "The requested resource does not exist",
                subcode=4279009,
            )
        if sum(1 for p in self.posts if not p["reply_to"]) >= self.quota_total:
            return threads_error(400, 4, "Application request limit reached")
        parameters = container["params"]
        media_id = str(next(self._ids))
        shortcode = f"C{media_id[-8:]}"
        self.posts.append(
            {
                "id": media_id,
                "container": container["id"],
                "media_type": parameters.get("media_type"),
                "text": parameters.get("text", ""),
                "reply_to": parameters.get("reply_to_id"),
                "params": parameters,
                "children": [
                    self.containers[c]["params"]
                    for c in str(parameters.get("children") or "").split(",")
                    if c
                ],
                "permalink": f"https://www.threads.net/@{USERNAME}/post/{shortcode}",
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime()),
                "time": int(time.time()),
                "insights": dict.fromkeys(METRICS, 0),
            }
        )
        container["status"] = "PUBLISHED"
        return Response(200, {"id": media_id})

    def _list(self, request: Request, args: dict[str, Any]) -> Response:
        replies = request.path.endswith("/replies")
        since = int(args.get("since") or 0)
        limit = int(args.get("limit") or 25)
        found = [
            {k: p[k] for k in ("id", "text", "timestamp", "permalink")}
            for p in reversed(self.posts)
            if bool(p["reply_to"]) == replies and p["time"] >= since
        ][:limit]
        return Response(200, {"data": found, "paging": {}})

    def _quota(self, request: Request, args: dict[str, Any]) -> Response:
        day_ago = time.time() - 86400
        recent = [p for p in self.posts if p["time"] >= day_ago]
        return Response(
            200,
            {
                "data": [
                    {
                        "quota_usage": sum(1 for p in recent if not p["reply_to"]),
                        "config": {"quota_total": self.quota_total, "quota_duration": 86400},
                        "reply_quota_usage": sum(1 for p in recent if p["reply_to"]),
                        "reply_config": {"quota_total": 1000, "quota_duration": 86400},
                    }
                ]
            },
        )

    def _insights(self, request: Request, args: dict[str, Any]) -> Response:
        media = request.match["media"]
        post = next((p for p in self.posts if p["id"] == media), None)
        if post is None:
            return threads_error(400, 100, "Object with ID does not exist", subcode=33)
        if not self.insights_allowed:
            return threads_error(
                400, 10, "(#10) Application does not have permission for this action"
            )
        asked = [m for m in str(args.get("metric") or "").split(",") if m]
        unknown = [m for m in asked if m not in METRICS]
        if not asked or unknown:
            return threads_error(400, 100, f"Param metric must be one of {', '.join(METRICS)}")
        data = [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": post["insights"][name]}],
                "title": name.capitalize(),
                "id": f"{media}/insights/{name}/lifetime",
            }
            for name in asked
        ]
        return Response(200, {"data": data})

    def _node(self, request: Request, args: dict[str, Any]) -> Response:
        node = request.match["node"]
        if node in (USER, "me"):
            return Response(200, {"id": USER, "username": USERNAME})
        container = self.containers.get(node)
        if container is not None:
            advance(container)
            answer = {"id": node, "status": container["status"]}
            if container["status"] == "ERROR":
                answer["error_message"] = container["error"]
            return Response(200, answer)
        for post in self.posts:
            if post["id"] == node:
                return Response(200, {"id": node, "permalink": post["permalink"]})
        return threads_error(400, 100, "Object with ID does not exist", subcode=33)


def main() -> None:
    serve(lambda latency: ThreadsFake(latency=latency))


if __name__ == "__main__":
    main()
