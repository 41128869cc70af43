"""A LinkedIn Posts API fake: versioned `/rest` calls, image uploads, posts, comments.

It renders commentary the way LinkedIn's "little text" parser does, including its worst
habit: an unescaped reserved character silently ends the post there, with a 201 all the
same. `posts[i]["text"]` is what readers would see, so a test can prove that nothing was cut.
A post whose text repeats a recent one by the same author meets 422 DUPLICATE_POST, naming
the existing post in the message, as LinkedIn does.
"""

from __future__ import annotations

import itertools
import time
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import unquote

from connectors.base import ChannelAccess
from connectors.fakes.cli import serve
from connectors.fakes.params import params
from connectors.fakes.server import FakePlatform, Made, Request, Response
from connectors.fakes.sniff import sniffed
from connectors.platforms.linkedin.fake_video import LinkedInVideos

TOKEN = "AQX-fake-linkedin-token"
ORGANIZATION = "urn:li:organization:2414183"
MEMBER = "urn:li:person:8675309"
VERSIONS = frozenset({"202605", "202606", "202609", "202610", "202611"})
RESERVED = frozenset("\\|{}@[]()<>#*_~")
HASHTAG_TEMPLATE = "{hashtag|\\#|"


def render_little(commentary: str) -> str:
    """What LinkedIn shows for this commentary: escapes resolved, hashtag templates as
    `#word`, and everything from the first unescaped reserved character on dropped."""
    out: list[str] = []
    i = 0
    while i < len(commentary):
        char = commentary[i]
        if commentary.startswith(HASHTAG_TEMPLATE, i):
            end = commentary.find("}", i)
            if end < 0:
                break
            out.append("#" + commentary[i + len(HASHTAG_TEMPLATE) : end])
            i = end + 1
        elif char == "\\" and i + 1 < len(commentary):
            out.append(commentary[i + 1])
            i += 2
        elif char in RESERVED:
            break
        else:
            out.append(char)
            i += 1
    return "".join(out)


STATISTICS = (
    "likeCount",
    "shareCount",
    "commentCount",
    "impressionCount",
    "uniqueImpressionsCount",
    "clickCount",
)


def _totals(counts: dict[str, int]) -> dict[str, Any]:
    """`totalShareStatistics` as LinkedIn gives it, with its engagement ratio."""
    seen = counts["impressionCount"]
    acted = counts["likeCount"] + counts["shareCount"] + counts["commentCount"]
    engagement = (acted + counts["clickCount"]) / seen if seen else 0.0
    return {**counts, "engagement": engagement}


def problem(status: int, code: str, message: str, **extra: Any) -> Response:
    return Response(status, {"status": status, "code": code, "message": message, **extra})


class LinkedInFake(FakePlatform):
    publish_route = ("POST", r"^/rest/posts$")
    throttle_tells_time: ClassVar[bool] = False

    def __init__(self, *, token: str = TOKEN, latency: float = 0.0) -> None:
        self.token = token
        self.authors = {ORGANIZATION, MEMBER}
        self.comments_allowed = True
        """False: the app lacks the Community Management API (comments answer 403)."""
        self.statistics_allowed = True
        """False: the token lacks rw_organization_admin (share statistics answer 403)."""
        self.posts: list[dict[str, Any]] = []
        self.comments: list[dict[str, Any]] = []
        self.images: dict[str, bytes | None] = {}
        """Image URN to its uploaded bytes (None until the PUT arrives)."""
        self.videos = LinkedInVideos(self.authors)
        self._ids = itertools.count(7141138937766391808)
        super().__init__(latency=latency)

    # -- the contract -------------------------------------------------------------------

    def channel(self) -> ChannelAccess:
        return ChannelAccess(
            "linkedin-main",
            "linkedin",
            None,
            {"access_token": TOKEN},
            self.base_url,
            {"author": ORGANIZATION},
            timeout=2.0,
        )

    def throttle(self, until: datetime) -> Response:
        """LinkedIn's daily application limit: a 429 with no rate headers, so `until`
        cannot be told (the limits reset at midnight UTC)."""
        return problem(
            429,
            "TOO_MANY_REQUESTS",
            "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
            serviceErrorCode=101,
        )

    def revoke(self) -> None:
        with self.lock:
            self.token = "revoked"

    def published(self) -> list[Made]:
        """Posts and the comments of comment threads, in the order they were made."""
        with self.lock:
            made = [(int(p["urn"].rsplit(":", 1)[1]), self._made(p)) for p in self.posts]
            made += [
                (int(c["id"]), Made((c["message"] or {}).get("text", ""), (), c["object"]))
                for c in self.comments
            ]
        return [entry for _, entry in sorted(made, key=lambda pair: pair[0])]

    def _made(self, post: dict[str, Any]) -> Made:
        content = post["content"]
        media = [content["media"]] if "media" in content else []
        media += (content.get("multiImage") or {}).get("images", [])
        return Made(post["text"], tuple(self._media_type(str(m["id"])) for m in media))

    def _media_type(self, urn: str) -> str:
        video = self.videos.videos.get(urn)
        first = video.received.get(0, b"") if video else self.images.get(urn) or b""
        return sniffed(first)

    def react(
        self, urn: str, *, likes: int = 0, reposts: int = 0, replies: int = 0, quotes: int = 0
    ) -> None:
        """Members like, reshare and comment on the post (LinkedIn counts no quotes); each
        of them saw it and clicked it once."""
        with self.lock:
            totals = next(p for p in self.posts if p["urn"] == urn)["statistics"]
            totals["likeCount"] += likes
            totals["shareCount"] += reposts
            totals["commentCount"] += replies
            seen = likes + reposts + replies + quotes
            totals["impressionCount"] += seen
            totals["uniqueImpressionsCount"] += seen
            totals["clickCount"] += seen

    def delete_post(self, urn: str) -> None:
        with self.lock:
            self.posts = [p for p in self.posts if p["urn"] != urn]

    # -- serving --------------------------------------------------------------------------

    def routes(self) -> None:
        self.route("POST", r"/rest/images", self._guard(self._initialize_upload))
        self.route("PUT", r"/dms-uploads/(?P<image>[^/]+)", self._guard(self._upload, rest=False))
        self.route("POST", r"/rest/videos", self._guard(self.videos.action))
        self.route("GET", r"/rest/videos/(?P<urn>[^/]+)", self._guard(self.videos.read))
        self.route(
            "PUT",
            r"/dms-uploads/videos/(?P<video>[^/]+)/(?P<what>parts/\d+|captions|thumbnail)",
            self._guard(self.videos.upload, rest=False),
        )
        self.route("POST", r"/rest/posts", self._guard(self._create_post))
        self.route("GET", r"/rest/posts", self._guard(self._find_posts))
        self.route("GET", r"/rest/posts/(?P<urn>[^/]+)", self._guard(self._read_post))
        self.route(
            "GET",
            r"/rest/organizationalEntityShareStatistics",
            self._guard(self._share_statistics),
        )
        self.route(
            "POST", r"/rest/socialActions/(?P<urn>[^/]+)/comments", self._guard(self._comment)
        )
        self.route("GET", r"/rest/organizations/(?P<id>\d+)", self._guard(self._organization))
        self.route("GET", r"/v2/userinfo", self._guard(self._userinfo, rest=False))

    def _guard(self, handler: Any, *, rest: bool = True) -> Any:
        def guarded(request: Request) -> Response:
            if request.header("authorization") != f"Bearer {self.token}":
                return problem(401, "INVALID_ACCESS_TOKEN", "Invalid access token")
            if rest:
                version = request.header("linkedin-version")
                if not version:
                    return problem(400, "VERSION_MISSING", "A version must be present.")
                if version not in VERSIONS:
                    return problem(
                        426, "NONEXISTENT_VERSION", f"Requested version {version} is not active"
                    )
                if request.header("x-restli-protocol-version") != "2.0.0":
                    return problem(400, "PROTOCOL_VERSION", "Rest.li protocol 2.0.0 expected")
            result: Response = handler(request)
            return result

        return guarded

    def _initialize_upload(self, request: Request) -> Response:
        if params(request).get("action") != "initializeUpload":
            return problem(400, "ILLEGAL_ARGUMENT", "unknown action")
        owner = ((request.json() or {}).get("initializeUploadRequest") or {}).get("owner")
        if owner not in self.authors:
            return problem(403, "ACCESS_DENIED", f"Not enough permissions to upload as {owner}")
        image = f"urn:li:image:C4E10AQ{next(self._ids)}"
        self.images[image] = None
        host = request.header("host") or "127.0.0.1"
        return Response(
            200,
            {
                "value": {
                    "uploadUrlExpiresAt": int(time.time() * 1000) + 3_600_000,
                    "uploadUrl": f"http://{host}/dms-uploads/{image.rsplit(':', 1)[1]}",
                    "image": image,
                }
            },
        )

    def _upload(self, request: Request) -> Response:
        image = f"urn:li:image:{request.match['image']}"
        if image not in self.images or not request.body:
            return problem(400, "ILLEGAL_ARGUMENT", "unknown upload")
        self.images[image] = request.body
        return Response(201)

    def _create_post(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return problem(400, "ILLEGAL_ARGUMENT", "a JSON body is required")
        author = body.get("author")
        if author not in self.authors:
            return problem(403, "ACCESS_DENIED", f"Not enough permissions to post as {author}")
        for name in ("commentary", "visibility", "distribution", "lifecycleState"):
            if name not in body:
                return problem(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    f"/{name} :: field is required but not found",
                    errorDetails={"inputErrors": [{"code": "MISSING_FIELD"}]},
                )
        content = body.get("content") or {}
        media = [content["media"]] if "media" in content else []
        media += (content.get("multiImage") or {}).get("images", [])
        for item in media:
            if str(item.get("id")).startswith("urn:li:video:"):
                if not self.videos.available(item["id"]):
                    return problem(
                        422,
                        "UNPROCESSABLE_ENTITY",
                        f"/content/media/id :: {item['id']} is not AVAILABLE",
                    )
            elif self.images.get(item.get("id")) is None:
                return problem(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    f"/content/media/id :: {item.get('id')} was not uploaded",
                    errorDetails={"inputErrors": [{"code": "INVALID_VALUE"}]},
                )
        text = render_little(str(body["commentary"]))
        for earlier in self.posts:
            if earlier["author"] == author and earlier["text"] == text:
                return problem(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    "ERROR :: /commentary :: Content is a duplicate of " + earlier["urn"],
                    errorDetails={
                        "inputErrors": [
                            {
                                "code": "DUPLICATE_POST",
                                "description": "Content is a duplicate",
                                "input": {"inputPath": {"fieldPath": "/commentary"}},
                            }
                        ]
                    },
                )
        urn = f"urn:li:share:{next(self._ids)}"
        now = int(time.time() * 1000)
        self.posts.append(
            {
                "urn": urn,
                "author": author,
                "commentary": body["commentary"],
                "text": text,
                "content": content,
                "body": body,
                "createdAt": now,
                "publishedAt": now,
                "statistics": dict.fromkeys(STATISTICS, 0),
            }
        )
        return Response(201, None, {"x-restli-id": urn})

    def _read_post(self, request: Request) -> Response:
        urn = unquote(request.match["urn"])
        post = next((p for p in self.posts if p["urn"] == urn), None)
        if post is None:
            return problem(404, "NOT_FOUND", f"Not Found: {urn}")
        body = {"id": urn, "author": post["author"], "commentary": post["commentary"]}
        return Response(200, body | {"lifecycleState": "PUBLISHED"})

    def _share_statistics(self, request: Request) -> Response:
        """Lifetime statistics of the Page's posts named in `shares=List(...)` or
        `ugcPosts=List(...)`: a post it does not know is left out."""
        args = params(request)
        organization = args.get("organizationalEntity")
        if args.get("q") != "organizationalEntity" or organization != ORGANIZATION:
            return problem(400, "ILLEGAL_ARGUMENT", "organizationalEntity is required")
        if not self.statistics_allowed:
            return problem(
                403,
                "ACCESS_DENIED",
                "Not enough permissions to access: organizationalEntityShareStatistics.FINDER",
                serviceErrorCode=100,
            )
        elements = []
        for key, field in (("shares", "share"), ("ugcPosts", "ugcPost")):
            listed = str(args.get(key) or "")
            if not listed:
                continue
            if not (listed.startswith("List(") and listed.endswith(")")):
                return problem(400, "ILLEGAL_ARGUMENT", f"{key} must be List(...)")
            for urn in listed[5:-1].split(","):
                post = next((p for p in self.posts if p["urn"] == urn), None)
                if post is not None and post["author"] == organization:
                    elements.append(
                        {
                            "organizationalEntity": organization,
                            field: urn,
                            "totalShareStatistics": _totals(post["statistics"]),
                        }
                    )
        return Response(
            200, {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements}
        )

    def _find_posts(self, request: Request) -> Response:
        args = params(request)
        if args.get("q") != "author" or request.header("x-restli-method") != "FINDER":
            return problem(400, "ILLEGAL_ARGUMENT", "unsupported query")
        author = args.get("author")
        if author == MEMBER:
            return problem(403, "ACCESS_DENIED", "Not enough permissions to access: posts.FINDER")
        count = int(args.get("count", 10))
        mine = [p for p in reversed(self.posts) if p["author"] == author][:count]
        elements = [
            {
                "id": p["urn"],
                "author": p["author"],
                "commentary": p["commentary"],
                "createdAt": p["createdAt"],
                "publishedAt": p["publishedAt"],
                "lastModifiedAt": p["publishedAt"],
                "lifecycleState": "PUBLISHED",
            }
            for p in mine
        ]
        return Response(200, {"paging": {"start": 0, "count": count}, "elements": elements})

    def _comment(self, request: Request) -> Response:
        target = unquote(request.match["urn"])
        if not self.comments_allowed:
            return problem(
                403,
                "ACCESS_DENIED",
                "Not enough permissions to access: partnerApiSocialActions.CREATE",
            )
        body = request.json()
        if not any(p["urn"] == target for p in self.posts) or body.get("object") != target:
            return problem(404, "NOT_FOUND", f"{target} does not exist")
        if body.get("actor") not in self.authors:
            return problem(403, "ACCESS_DENIED", "Not enough permissions to comment")
        activity = target.rsplit(":", 1)[1]
        comment_id = str(next(self._ids))
        urn = f"urn:li:comment:(urn:li:activity:{activity},{comment_id})"
        created = {
            "id": comment_id,
            "commentUrn": urn,
            "object": target,
            "actor": body["actor"],
            "message": body.get("message"),
        }
        self.comments.append(created)
        return Response(201, created, {"x-restli-id": comment_id})

    def _organization(self, request: Request) -> Response:
        if f"urn:li:organization:{request.match['id']}" not in self.authors:
            return problem(404, "NOT_FOUND", "no such organization")
        return Response(200, {"id": int(request.match["id"]), "localizedName": "SayNo Europe"})

    def _userinfo(self, request: Request) -> Response:
        return Response(200, {"sub": MEMBER.rsplit(":", 1)[1], "name": "Ada Campaigner"})


def main() -> None:
    serve(lambda latency: LinkedInFake(latency=latency))


if __name__ == "__main__":
    main()
