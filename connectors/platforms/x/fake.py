"""An X API v2 fake: posts, replies, v2 media uploads, rate windows, OAuth 1.0a and 2.0.

Answers as docs.x.com documents: `201 {"data": {"id", "text"}}` for a new post, problem JSON
(`{"title", "detail", "type", "status"}`) for errors, `x-rate-limit-*` headers on every
answer and the 24-hour `x-user-limit-24hour-*` / `x-app-limit-24hour-*` ones on posts.
OAuth 1.0a signatures are checked for real (HMAC-SHA1 over the URL the client used), so a
connector that signs for the wrong host fails here as it would on X.

Rate windows default to X's own numbers (100 posts per 15 minutes per user); pass
`post_limit=None` for a fake that never throttles, as bursts in tests need.
"""

from __future__ import annotations

import base64
import hmac
import html
import itertools
import math
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from oauthlib import oauth1
from oauthlib.oauth1.rfc5849 import signature

from connectors.base import ChannelAccess
from connectors.fakes.cli import serve
from connectors.fakes.params import content_type, multipart, params
from connectors.fakes.server import FakePlatform, Made, Request, Response
from connectors.fakes.videofile import playable

PROBLEMS = "https://api.twitter.com/2/problems"
TWITTER_EPOCH_MS = 1_288_834_974_657
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
TOO_LONG = (
    "Your Tweet text is too long. For more information on how Twitter determines text length "
    "see https://github.com/twitter/twitter-text."
)
PIN = "7654321"
"""Every request token of this fake is authorized with this PIN, as if in a browser."""

CONSUMER_KEY = "fake-consumer-key"
CONSUMER_SECRET = "fake-consumer-secret"
ACCESS_TOKEN = "1456000000000000001-fakeAccessToken"
ACCESS_TOKEN_SECRET = "fake-access-token-secret"
CLIENT_ID = "fake-oauth2-client-id"
OAUTH2_ACCESS_TOKEN = "fake-oauth2-access-token-0"
OAUTH2_REFRESH_TOKEN = "fake-oauth2-refresh-token-0"

MAX_BYTES = {
    "tweet_image": 5 * 1024 * 1024,
    "tweet_gif": 15 * 1024 * 1024,
    "tweet_video": 8 * 1024**3,
    "amplify_video": 8 * 1024**3,
}
"""What X takes per media category from an account without X Premium (best practices)."""
KEY_PREFIXES = {"tweet_video": 7, "amplify_video": 13, "tweet_gif": 16}
"""A media key starts with its kind: 3 a photo, 7 a video, 16 an animated GIF."""
SEGMENT_MAX_BYTES = 8 * 1024 * 1024
"""The largest append X's servers take; the documentation asks for at most 5 MB."""

_URL = re.compile(r"https?://\S+|\b[\w-]+(?:\.[a-z]{2,})+(?:/\S*)?", re.IGNORECASE)


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> dict[str, Any]:
    return {"title": title, "detail": detail, "type": kind, "status": status}


def invalid(message: str) -> Response:
    body = problem(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        f"{PROBLEMS}/invalid-request",
    )
    return Response(400, {"errors": [{"message": message}], **body})


def _base_string(method: str, uri: str, pairs: list[tuple[str, str]]) -> str:
    """RFC 5849's signature base string (oauthlib's stubs say dict; pairs are what it takes)."""
    untyped: Any = signature
    base = untyped.signature_base_string(
        method, untyped.base_string_uri(uri), untyped.normalize_parameters(pairs)
    )
    return str(base)


UNAUTHORIZED = Response(401, problem(401, "Unauthorized", "Unauthorized"))


@dataclass
class Window:
    """A rate window as X counts it: `limit` requests per `seconds`, reset at a fixed time."""

    limit: int | None
    seconds: int
    used: int = 0
    reset: int = 0

    def _roll(self) -> None:
        now = int(time.time())
        if now >= self.reset:
            self.used, self.reset = 0, now + self.seconds

    def take(self) -> bool:
        self._roll()
        if self.limit is not None and self.used >= self.limit:
            return False
        self.used += 1
        return True

    def headers(self, prefix: str) -> dict[str, str]:
        self._roll()
        limit = self.limit if self.limit is not None else 1_000_000
        return {
            f"{prefix}-limit": str(limit),
            f"{prefix}-remaining": str(max(0, limit - self.used)),
            f"{prefix}-reset": str(self.reset),
        }


@dataclass
class Media:
    id: str
    category: str
    media_type: str
    total_bytes: int
    content: bytes = b""
    segments: dict[int, bytes] = field(default_factory=dict)
    alt: str | None = None
    state: str = "succeeded"
    """pending, in_progress, succeeded or failed."""
    polls_left: int = 0
    processed: bool = False
    """A finalized video or GIF: its answers carry `processing_info`, to the end."""
    broken: bool = False
    """Not a video FFmpeg can read: its processing fails."""


class XFake(FakePlatform):
    USER_ID = "1456000000000000001"
    USERNAME = "clarion_fake"
    publish_route = ("POST", r"^/2/tweets$")

    def __init__(
        self,
        *,
        latency: float = 0.0,
        consumer_key: str = CONSUMER_KEY,
        consumer_secret: str = CONSUMER_SECRET,
        access_token: str = ACCESS_TOKEN,
        access_token_secret: str = ACCESS_TOKEN_SECRET,
        client_id: str = CLIENT_ID,
        client_secret: str | None = None,
        post_limit: int | None = 100,
        user_day_limit: int | None = 2_400,
        app_day_limit: int | None = 10_000,
        processing_polls: int = 2,
    ) -> None:
        self.consumer = (consumer_key, consumer_secret)
        self.access = (access_token, access_token_secret)
        self.client = (client_id, client_secret)
        self.oauth2_access: set[str] = {OAUTH2_ACCESS_TOKEN}
        self.oauth2_refresh: set[str] = {OAUTH2_REFRESH_TOKEN}
        self.request_tokens: dict[str, str] = {}
        """Request token to its secret, during the PIN flow."""
        self.posts: list[dict[str, Any]] = []
        """Every post created, in order: id, text (as sent), reply_to, media_ids, created_at."""
        self.media: dict[str, Media] = {}
        self.processing_polls = processing_polls
        """How many status polls a video or GIF stays in processing."""
        self.check_after_secs = 0
        """How long X asks a client to wait between two status polls (X says 1 to 10 s)."""
        self.fail_processing = False
        """Processing ends in `failed`, with X's error (an unsupported video format)."""
        self.timeline_forbidden = False
        """Answer 403 on timelines, as X does for API plans without read access."""
        self.free_plan = False
        """The Free API plan: reading posts (timelines, a post's metrics) answers 403."""
        self.windows = {
            "post": Window(post_limit, 15 * 60),
            "user_day": Window(user_day_limit, 24 * 3600),
            "app_day": Window(app_day_limit, 24 * 3600),
            "read": Window(900, 15 * 60),
            "upload": Window(500, 15 * 60),
            "chunked": Window(1_875, 15 * 60),
        }
        self._ids = itertools.count(1_456_012_973_835_788_293)
        super().__init__(latency=latency)

    # -- the contract -------------------------------------------------------------------

    def channel(self) -> ChannelAccess:
        credentials = {
            "consumer_key": CONSUMER_KEY,
            "consumer_secret": CONSUMER_SECRET,
            "access_token": ACCESS_TOKEN,
            "access_token_secret": ACCESS_TOKEN_SECRET,
        }
        return ChannelAccess("x-main", "x", None, credentials, self.base_url, timeout=2.0)

    def throttle(self, until: datetime) -> Response:
        """Posts per 15 minutes used up: `x-rate-limit-reset` says when, in epoch seconds."""
        headers = {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(math.ceil(until.timestamp())),
        }
        return Response(429, problem(429, "Too Many Requests", "Too Many Requests"), headers)

    def revoke(self) -> None:
        """The user revoked the app: every token stops working."""
        with self.lock:
            self.access = ("revoked", "revoked")
            self.oauth2_access.clear()
            self.oauth2_refresh.clear()

    def published(self) -> list[Made]:
        with self.lock:
            return [
                Made(
                    p["text"],
                    tuple(self.media[i].media_type for i in p["media_ids"]),
                    p["reply_to"],
                )
                for p in self.posts
            ]

    # -- scripting ---------------------------------------------------------------------

    def react(
        self, post_id: str, *, likes: int = 0, reposts: int = 0, replies: int = 0, quotes: int = 0
    ) -> None:
        """Other accounts like, repost, reply to and quote the post; each also saw it."""
        with self.lock:
            post = next(p for p in self.posts if p["id"] == post_id)
            metrics = post["metrics"]
            metrics["like_count"] += likes
            metrics["retweet_count"] += reposts
            metrics["reply_count"] += replies
            metrics["quote_count"] += quotes
            metrics["impression_count"] += likes + reposts + replies + quotes

    def delete_post(self, post_id: str) -> None:
        with self.lock:
            self.posts = [p for p in self.posts if p["id"] != post_id]

    def expire_oauth2_tokens(self) -> None:
        """Two hours passed: OAuth 2.0 access tokens stop working, refresh tokens still do."""
        with self.lock:
            self.oauth2_access.clear()

    # -- routes ------------------------------------------------------------------------

    def routes(self) -> None:
        self.route("POST", r"/2/tweets", self._create)
        self.route("GET", r"/2/users/me", self._me)
        self.route("GET", r"/2/tweets/(?P<id>\d+)", self._read)
        self.route("GET", r"/2/users/(?P<id>\d+)/tweets", self._timeline)
        self.route("POST", r"/2/media/upload", self._upload)
        self.route("GET", r"/2/media/upload", self._status)
        self.route("POST", r"/2/media/upload/initialize", self._initialize)
        self.route("POST", r"/2/media/upload/(?P<id>\d+)/append", self._append)
        self.route("POST", r"/2/media/upload/(?P<id>\d+)/finalize", self._finalize)
        self.route("POST", r"/2/media/metadata", self._metadata)
        self.route("POST", r"/oauth/request_token", self._request_token)
        self.route("GET", r"/oauth/authorize", self._authorize)
        self.route("POST", r"/oauth/access_token", self._access_token)
        self.route("POST", r"/2/oauth2/token", self._oauth2_token)

    def _next_id(self) -> str:
        return str(next(self._ids))

    def _post_id(self) -> str:
        """A snowflake, as X's: the time it was made in the top bits, so the age shows."""
        made = int(time.time() * 1000) - TWITTER_EPOCH_MS
        return str(made << 22 | next(self._ids) % (1 << 22))

    # -- authentication ----------------------------------------------------------------

    def _oauth1_params(self, request: Request) -> dict[str, str] | None:
        header = request.header("authorization") or ""
        if not header.startswith("OAuth "):
            return None
        body = (
            request.body.decode()
            if content_type(request) == "application/x-www-form-urlencoded"
            else None
        )
        collected = signature.collect_parameters(
            uri_query=urlencode(request.query, doseq=True),
            body=body,
            headers={"Authorization": header},
            exclude_oauth_signature=False,
        )
        oauth = {k: v for k, v in collected if k.startswith("oauth_")}
        token_secret = {
            self.access[0]: self.access[1],
            **self.request_tokens,
        }.get(oauth.get("oauth_token", ""), "")
        if oauth.get("oauth_consumer_key") != self.consumer[0]:
            return None
        uri = f"http://{request.header('host')}{request.path}"
        base = _base_string(
            request.method, uri, [p for p in collected if p[0] != "oauth_signature"]
        )
        signer = oauth1.Client(
            self.consumer[0], client_secret=self.consumer[1], resource_owner_secret=token_secret
        )
        expected = signature.sign_hmac_sha1_with_client(base, signer)
        if not hmac.compare_digest(expected, oauth.get("oauth_signature", "")):
            return None
        return oauth

    def _authorized(self, request: Request) -> bool:
        header = request.header("authorization") or ""
        if header.startswith("Bearer "):
            return header[7:] in self.oauth2_access
        oauth = self._oauth1_params(request)
        return oauth is not None and oauth.get("oauth_token") == self.access[0]

    def _rate_headers(self, *names: str) -> dict[str, str]:
        prefixes = {
            "post": "x-rate-limit",
            "read": "x-rate-limit",
            "upload": "x-rate-limit",
            "chunked": "x-rate-limit",
            "user_day": "x-user-limit-24hour",
            "app_day": "x-app-limit-24hour",
        }
        headers: dict[str, str] = {}
        for name in names:
            headers.update(self.windows[name].headers(prefixes[name]))
        return headers

    # -- posts -------------------------------------------------------------------------

    def _create(self, request: Request) -> Response:
        if not self._authorized(request):
            return UNAUTHORIZED
        windows = ("post", "user_day", "app_day")
        if not all([self.windows[name].take() for name in windows]):
            body = problem(429, "Too Many Requests", "Too Many Requests")
            return Response(429, body, self._rate_headers(*windows))
        headers = self._rate_headers(*windows)
        body = request.json()
        if not isinstance(body, dict):
            return invalid("The request body is not a JSON object.")
        unknown = set(body) - {"text", "media", "reply"}
        if unknown:
            return invalid(f"The following properties are not allowed: {sorted(unknown)}")
        text = body.get("text") or ""
        media_ids = list((body.get("media") or {}).get("media_ids") or [])
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if not text and not media_ids:
            return invalid("Your post needs text or media.")
        if len(_URL.sub("x" * 23, text)) > 280:
            return Response(400, problem(400, "Bad Request", TOO_LONG))
        if any(p["text"] == text for p in self.posts):
            return Response(403, problem(403, "Forbidden", DUPLICATE), headers)
        if reply_to is not None and not any(p["id"] == reply_to for p in self.posts):
            return invalid("The post you are replying to does not exist or was deleted.")
        if len(media_ids) > 4 or any(
            self.media.get(i) is None or self.media[i].state != "succeeded" for i in media_ids
        ):
            return invalid("Your media IDs are invalid.")
        if len(media_ids) > 1 and any(self.media[i].processed for i in media_ids):
            return invalid("Your media IDs are invalid.")  # a video or GIF goes alone
        post_id = self._post_id()
        self.posts.append(
            {
                "id": post_id,
                "text": text,
                "reply_to": reply_to,
                "media_ids": media_ids,
                "created_at": datetime.now(UTC),
                "metrics": {
                    "retweet_count": 0,
                    "reply_count": 0,
                    "like_count": 0,
                    "quote_count": 0,
                    "bookmark_count": 0,
                    "impression_count": 0,
                },
                "link_clicks": 0,
            }
        )
        data = {"id": post_id, "text": self._shown(self.posts[-1])}
        location = f"https://api.x.com/2/tweets/{post_id}"
        return Response(201, {"data": data}, {**headers, "location": location})

    @staticmethod
    def _shown(post: dict[str, Any]) -> str:
        """The text as X gives it back: escaped, links through t.co, a link to the media."""

        def tco(match: re.Match[str]) -> str:
            return f"https://t.co/{abs(hash(match.group(0))) % 10**10:010d}"

        text = html.escape(_URL.sub(tco, post["text"]), quote=False)
        if post["media_ids"]:
            text += f" https://t.co/m{post['id'][-9:]}"
        return text

    def _me(self, request: Request) -> Response:
        if not self._authorized(request):
            return UNAUTHORIZED
        self.windows["read"].take()
        data = {"id": self.USER_ID, "name": "Clarion (fake)", "username": self.USERNAME}
        return Response(200, {"data": data}, self._rate_headers("read"))

    def _timeline(self, request: Request) -> Response:
        if not self._authorized(request):
            return UNAUTHORIZED
        if self.timeline_forbidden or self.free_plan:
            return self._paid_plan_only()
        query = params(request)
        size = int(query.get("max_results", 10))
        if not 5 <= size <= 100:
            return invalid("The `max_results` query parameter value is not between 5 and 100")
        since = datetime.fromisoformat(query["start_time"]) if "start_time" in query else None
        fields = set(str(query.get("tweet.fields", "")).split(","))
        mine = [
            p
            for p in reversed(self.posts)
            if request.match["id"] == self.USER_ID and (since is None or p["created_at"] >= since)
        ]
        start = int(query.get("pagination_token", 0))
        page = mine[start : start + size]
        data = [self._tweet(p, fields) for p in page]
        meta: dict[str, Any] = {"result_count": len(data)}
        if start + size < len(mine):
            meta["next_token"] = str(start + size)
        body = {"data": data, "meta": meta} if data else {"meta": meta}
        return Response(200, body, self._rate_headers("read"))

    def _read(self, request: Request) -> Response:
        """`GET /2/tweets/:id`: a deleted post is a 200 with an error and no data."""
        if not self._authorized(request):
            return UNAUTHORIZED
        if self.free_plan:
            return self._paid_plan_only()
        if not self.windows["read"].take():
            body = problem(429, "Too Many Requests", "Too Many Requests")
            return Response(429, body, self._rate_headers("read"))
        post_id = request.match["id"]
        post = next((p for p in self.posts if p["id"] == post_id), None)
        if post is None:
            error = {
                "value": post_id,
                "detail": f"Could not find tweet with id: [{post_id}].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "id",
                "resource_id": post_id,
                "type": f"{PROBLEMS}/resource-not-found",
            }
            return Response(200, {"errors": [error]}, self._rate_headers("read"))
        fields = set(str(params(request).get("tweet.fields", "")).split(","))
        return Response(200, {"data": self._tweet(post, fields)}, self._rate_headers("read"))

    @staticmethod
    def _paid_plan_only() -> Response:
        detail = "When authenticating requests to this endpoint you must use a paid plan."
        body = problem(403, "Client Forbidden", detail, f"{PROBLEMS}/client-forbidden")
        return Response(403, body)

    def _tweet(self, post: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        tweet: dict[str, Any] = {"id": post["id"], "text": self._shown(post)}
        if "created_at" in fields:
            tweet["created_at"] = post["created_at"].isoformat(timespec="milliseconds")[:-6] + "Z"
        if "referenced_tweets" in fields and post["reply_to"]:
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": post["reply_to"]}]
        if "public_metrics" in fields:
            tweet["public_metrics"] = dict(post["metrics"])
        if "non_public_metrics" in fields:
            tweet["non_public_metrics"] = {
                "impression_count": post["metrics"]["impression_count"],
                "url_link_clicks": post["link_clicks"],
                "user_profile_clicks": 0,
            }
        return tweet

    # -- media -------------------------------------------------------------------------

    def _media_window(self, name: str) -> Response | None:
        """429 with X's headers when the endpoint's 15-minute window is used up."""
        if self.windows[name].take():
            return None
        body = problem(429, "Too Many Requests", "Too Many Requests")
        return Response(429, body, self._rate_headers(name))

    def _media_answer(self, window: str, data: dict[str, Any]) -> Response:
        return Response(200, {"data": data}, self._rate_headers(window))

    def _upload(self, request: Request) -> Response:
        if not self._authorized(request):
            return UNAUTHORIZED
        throttled = self._media_window("upload")
        if throttled:
            return throttled
        parts = multipart(request)
        upload = parts.get("media")
        if upload is None or upload.filename is None:
            return invalid("The `media` field is required.")
        category = parts["media_category"].content.decode() if "media_category" in parts else ""
        if category not in ("tweet_image", "dm_image", "subtitles"):
            return invalid(f"'{category}' is not a valid media_category for this upload.")
        if len(upload.content) > 5 * 1024 * 1024:
            return invalid("File size exceeds 5242880 bytes.")
        media = Media(
            self._next_id(), category, upload.content_type, len(upload.content), upload.content
        )
        self.media[media.id] = media
        return self._media_answer("upload", self._media_data(media))

    def _initialize(self, request: Request) -> Response:
        if not self._authorized(request):
            return UNAUTHORIZED
        throttled = self._media_window("chunked")
        if throttled:
            return throttled
        body = request.json()
        missing = {"media_type", "total_bytes", "media_category"} - set(body or {})
        if missing:
            return invalid(f"Missing required fields: {sorted(missing)}")
        category, total = str(body["media_category"]), int(body["total_bytes"])
        if category not in MAX_BYTES:
            return invalid(f"'{category}' is not a valid media_category for this upload.")
        if total > MAX_BYTES[category]:
            return invalid(f"File size exceeds {MAX_BYTES[category]} bytes.")
        media = Media(self._next_id(), category, body["media_type"], total)
        self.media[media.id] = media
        return self._media_answer("chunked", self._media_data(media))

    def _append(self, request: Request) -> Response:
        if not self._authorized(request):
            return UNAUTHORIZED
        throttled = self._media_window("chunked")
        if throttled:
            return throttled
        if len(request.body) > SEGMENT_MAX_BYTES:
            return Response(413, problem(413, "Payload Too Large", "Request Entity Too Large"))
        media = self.media.get(request.match["id"])
        parts = multipart(request)
        if media is None:
            return invalid("The media id is unknown or expired.")
        if "media" not in parts or "segment_index" not in parts:
            return invalid("The `media` and `segment_index` fields are required.")
        media.segments[int(parts["segment_index"].content)] = parts["media"].content
        return self._media_answer("chunked", {"expires_at": int(time.time()) + 86400})

    def _finalize(self, request: Request) -> Response:
        if not self._authorized(request):
            return UNAUTHORIZED
        throttled = self._media_window("chunked")
        if throttled:
            return throttled
        media = self.media.get(request.match["id"])
        if media is None:
            return invalid("The media id is unknown or expired.")
        media.content = b"".join(media.segments[i] for i in sorted(media.segments))
        media.segments.clear()
        if len(media.content) != media.total_bytes:
            return invalid("File size does not match total_bytes.")
        if media.category in ("tweet_video", "tweet_gif", "amplify_video"):
            media.state, media.polls_left = "pending", self.processing_polls
            media.processed = True
            if media.category != "tweet_gif" and not playable(media.content):
                media.broken = True
        return self._media_answer("chunked", self._media_data(media))

    def _status(self, request: Request) -> Response:
        if not self._authorized(request):
            return UNAUTHORIZED
        query = params(request)
        if query.get("command") != "STATUS":
            return invalid("The `command` query parameter must be STATUS.")
        media = self.media.get(str(query.get("media_id")))
        if media is None:
            return invalid("The media id is unknown or expired.")
        if media.state in ("pending", "in_progress"):
            media.polls_left -= 1
            media.state = "in_progress" if media.polls_left > 0 else "succeeded"
            if media.state == "succeeded" and (self.fail_processing or media.broken):
                media.state = "failed"
        return self._media_answer("chunked", self._media_data(media))

    def _media_data(self, media: Media) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": media.id,
            "media_key": f"{KEY_PREFIXES.get(media.category, 3)}_{media.id}",
            "size": media.total_bytes,
            "expires_after_secs": 86400,
        }
        if media.processed:
            info: dict[str, Any] = {"state": media.state}
            data["processing_info"] = info
            if media.state in ("pending", "in_progress"):
                info["check_after_secs"] = self.check_after_secs
            if media.state != "pending":
                info["progress_percent"] = {"in_progress": 50, "failed": 12}.get(media.state, 100)
            if media.state == "failed":
                info["error"] = {
                    "code": 1,
                    "name": "InvalidMedia",
                    "message": "Unsupported video format",
                }
        return data

    def _metadata(self, request: Request) -> Response:
        if not self._authorized(request):
            return UNAUTHORIZED
        body = request.json() or {}
        media = self.media.get(str(body.get("id")))
        text = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
        if media is None or not isinstance(text, str):
            return invalid("The media id or the alt text is missing.")
        if len(text) > 1000:
            return invalid("Alt text must be at most 1000 characters.")
        media.alt = text
        return Response(
            200, {"data": {"id": media.id, "associated_metadata": {"alt_text": {"text": text}}}}
        )

    # -- OAuth -------------------------------------------------------------------------

    def _request_token(self, request: Request) -> Response:
        oauth = self._oauth1_params(request)
        if oauth is None or oauth.get("oauth_callback") != "oob":
            return Response(401, {"errors": [{"code": 32, "message": "Could not authenticate."}]})
        token, secret = f"req-{secrets.token_hex(8)}", secrets.token_hex(16)
        self.request_tokens[token] = secret
        form = {"oauth_token": token, "oauth_token_secret": secret}
        return Response(200, urlencode({**form, "oauth_callback_confirmed": "true"}))

    def _authorize(self, request: Request) -> Response:
        """The page a browser opens: this fake approves at once and shows the PIN."""
        if params(request).get("oauth_token") not in self.request_tokens:
            return Response(400, "This page is no longer valid.")
        return Response(200, f"Clarion (fake) is authorized. Your PIN: {PIN}")

    def _access_token(self, request: Request) -> Response:
        oauth = self._oauth1_params(request)
        token = (oauth or {}).get("oauth_token", "")
        if oauth is None or token not in self.request_tokens:
            return Response(401, "Invalid request token.")
        if oauth.get("oauth_verifier") != PIN:
            return Response(401, "Error processing your OAuth request: Invalid oauth_verifier")
        del self.request_tokens[token]
        form = {
            "oauth_token": self.access[0],
            "oauth_token_secret": self.access[1],
            "user_id": self.USER_ID,
            "screen_name": self.USERNAME,
        }
        return Response(200, urlencode(form))

    def _oauth2_token(self, request: Request) -> Response:
        form = params(request)
        client_id, client_secret = self.client
        if client_secret is not None:
            expected = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
            if request.header("authorization") != f"Basic {expected}":
                return Response(401, {"error": "unauthorized_client"})
        refresh = form.get("refresh_token")
        if (
            form.get("grant_type") != "refresh_token"
            or form.get("client_id") != client_id
            or refresh not in self.oauth2_refresh
        ):
            description = "Value passed for the token was invalid."
            return Response(400, {"error": "invalid_request", "error_description": description})
        self.oauth2_refresh.discard(str(refresh))  # single use
        access, new_refresh = f"oauth2-{secrets.token_hex(8)}", f"refresh-{secrets.token_hex(8)}"
        self.oauth2_access.add(access)
        self.oauth2_refresh.add(new_refresh)
        return Response(
            200,
            {
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": access,
                "scope": "tweet.read tweet.write users.read media.write offline.access",
                "refresh_token": new_refresh,
            },
        )


def main() -> None:
    serve(lambda latency: XFake(latency=latency))


if __name__ == "__main__":
    main()
