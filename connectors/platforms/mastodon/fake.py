"""A Mastodon fake: statuses, replies, media processed in the background, Idempotency-Key,
rate limits, localized errors, and the OAuth app flow.

Answers as docs.joinmastodon.org documents, in the shapes of the recordings in
tests/connectors/cassettes/mastodon-py: a Status or an Account as JSON, `{"error": "..."}` for
errors (localized: set `locale` to "de" or "ja"), `X-RateLimit-Reset` as ISO 8601.

Throttles default to Mastodon's own (300 requests per 5 minutes, 300 statuses per 3 hours);
pass `request_limit=None, status_limit=None` for a fake that never throttles.
"""

from __future__ import annotations

import html
import itertools
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import regex

from connectors.base import ChannelAccess
from connectors.fakes.cli import serve
from connectors.fakes.params import Upload, content_type, params
from connectors.fakes.server import FakePlatform, Made, Request, Response
from connectors.fakes.videofile import playable

ACCESS_TOKEN = "fake-mastodon-access-token"
CODE = "fake-authorization-code"
"""Every authorization of this fake yields this code, as if approved in a browser."""
OOB = "urn:ietf:wg:oauth:2.0:oob"
ALL_SCOPES = "read write"

MESSAGES = {
    "en": {
        "too_long": "Validation failed: Text character limit of {limit} exceeded",
        "blank": "Validation failed: Text can't be blank",
        "not_ready": "Cannot attach files that have not finished processing. "
        "Try again in a moment!",
        "too_many": "Cannot attach more than 4 files",
        "description": "Validation failed: Description is too long (maximum is 1500 characters)",
    },
    "de": {
        "too_long": "Gültigkeitsprüfung ist fehlgeschlagen: Text Begrenzung von {limit} Zeichen "
        "überschritten",
        "blank": "Gültigkeitsprüfung ist fehlgeschlagen: Text muss ausgefüllt werden",
        "not_ready": "Dateien, die noch nicht verarbeitet wurden, können nicht angehängt werden. "
        "Versuche es gleich noch einmal!",
        "too_many": "Es können nicht mehr als 4 Dateien angehängt werden",
        "description": "Gültigkeitsprüfung ist fehlgeschlagen: Beschreibung ist zu lang",
    },
    "ja": {
        "too_long": "バリデーションに失敗しました: Text上限は{limit}文字です",
        "blank": "バリデーションに失敗しました: Textを入力してください",
        "not_ready": "処理が完了していないファイルは添付できません。"
        "少し待ってからもう一度試してください!",
        "too_many": "4ファイルまでしか添付できません",
        "description": "バリデーションに失敗しました: 説明文は1500文字以内で入力してください",
    },
}
_URL = regex.compile(r"https?://[^\s<>\"]+")
_MENTION = regex.compile(r"@(\w+)@[\w.-]+\w")


def error(status: int, message: str) -> Response:
    return Response(status, {"error": message})


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Window:
    """A Mastodon throttle: `limit` requests per period, counted in fixed periods."""

    limit: int | None
    seconds: int
    used: int = 0
    reset: float = 0.0

    def take(self) -> bool:
        now = time.time()
        if now >= self.reset:
            self.used, self.reset = 0, (now // self.seconds + 1) * self.seconds
        if self.limit is not None and self.used >= self.limit:
            return False
        self.used += 1
        return True

    def headers(self) -> dict[str, str]:
        limit = self.limit if self.limit is not None else 1_000_000
        reset = datetime.fromtimestamp(self.reset, UTC).isoformat().replace("+00:00", "Z")
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - self.used)),
            "X-RateLimit-Reset": reset,
        }


@dataclass
class Attachment:
    id: str
    account: str
    kind: str
    description: str | None
    size: int
    polls_left: int
    status_id: str | None = None
    mime: str = ""
    """The file's media type as it came in the upload."""
    thumbnail: bytes | None = None
    """A video's cover image, as sent."""
    failed: bool = False
    """Processing in the background failed: a look answers 422."""


@dataclass
class Token:
    account: str
    scopes: set[str] = field(default_factory=lambda: set(ALL_SCOPES.split()))

    def allows(self, scope: str) -> bool:
        family = scope.split(":")[0]
        return scope in self.scopes or family in self.scopes


class MastodonFake(FakePlatform):
    ACCOUNT_ID = "110000000000000001"
    USERNAME = "clarion_fake"
    publish_route = ("POST", r"^/api/v1/statuses$")

    def __init__(
        self,
        *,
        latency: float = 0.0,
        access_token: str = ACCESS_TOKEN,
        domain: str = "mastodon.example",
        max_characters: int = 500,
        status_limit: int | None = 300,
        request_limit: int | None = 300,
        processing_polls: int = 1,
        async_bytes: int = 1_000_000,
        video_size_limit: int = 103_809_024,
    ) -> None:
        self.domain = domain
        self.max_characters = max_characters
        self.locale = "en"
        """The account's language, in which errors are written: en, de or ja."""
        self.tokens: dict[str, Token] = {access_token: Token(self.ACCOUNT_ID)}
        self.apps: dict[str, dict[str, Any]] = {}
        self.posts: list[dict[str, Any]] = []
        """Every status created, in order: id, text, reply_to, media_ids, visibility, ..."""
        self.media: dict[str, Attachment] = {}
        self.idempotency: dict[tuple[str, str], tuple[str, float]] = {}
        self.idempotency_seconds = 3600.0
        self.processing_polls = processing_polls
        """How many looks a file processed in the background answers 206 before 200."""
        self.async_bytes = async_bytes
        """Files from this size on, and videos, are processed in the background (202)."""
        self.image_size_limit = 16_777_216
        self.video_size_limit = video_size_limit
        """Mastodon's defaults (16 MB, 99 MB), which an instance's admin may change."""
        self.fail_processing = False
        """Processing in the background fails, as for a file ffmpeg cannot read."""
        self.instance_v2 = True
        """False plays a server older than Mastodon 4.0, without /api/v2/instance."""
        self.windows = {
            "all": Window(request_limit, 300),
            "statuses": Window(status_limit, 3 * 3600),
            "media": Window(30, 1800),
        }
        self._ids = itertools.count(117_020_585_924_712_638)
        super().__init__(latency=latency)

    # -- the contract -------------------------------------------------------------------

    def channel(self) -> ChannelAccess:
        credentials = {"access_token": ACCESS_TOKEN}
        return ChannelAccess(
            "mastodon-main", "mastodon", None, credentials, self.base_url, timeout=2.0
        )

    def throttle(self, until: datetime) -> Response:
        """Statuses per 3 hours used up: `X-RateLimit-Reset` says when, in ISO 8601."""
        headers = {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": _stamp(until),
        }
        return Response(429, {"error": "Too many requests"}, headers)

    def revoke(self) -> None:
        """Every access token was revoked."""
        with self.lock:
            self.tokens.clear()

    def published(self) -> list[Made]:
        with self.lock:
            return [
                Made(p["text"], tuple(self.media[i].mime for i in p["media_ids"]), p["reply_to"])
                for p in self.posts
            ]

    # -- scripting ---------------------------------------------------------------------

    def add_token(self, token: str, scopes: str) -> None:
        with self.lock:
            self.tokens[token] = Token(self.ACCOUNT_ID, set(scopes.split()))

    def react(
        self, status_id: str, *, likes: int = 0, reposts: int = 0, replies: int = 0, quotes: int = 0
    ) -> None:
        """Other accounts favourite, boost, reply to and quote the status."""
        with self.lock:
            post = next(p for p in self.posts if p["id"] == status_id)
            for name, added in (
                ("favourites", likes),
                ("reblogs", reposts),
                ("replies", replies),
                ("quotes", quotes),
            ):
                post[name] += added

    def delete_post(self, status_id: str) -> None:
        """The status was deleted (by its author, or by a moderator)."""
        with self.lock:
            self.posts = [p for p in self.posts if p["id"] != status_id]

    # -- routes ------------------------------------------------------------------------

    def routes(self) -> None:
        self.route("POST", r"/api/v1/statuses", self._create)
        self.route("GET", r"/api/v1/statuses/(?P<id>\d+)/source", self._source)
        self.route("GET", r"/api/v1/statuses/(?P<id>\d+)", self._read_status)
        self.route("POST", r"/api/v2/media", self._upload)
        self.route("GET", r"/api/v1/media/(?P<id>\d+)", self._media_status)
        self.route("GET", r"/api/v1/accounts/verify_credentials", self._verify)
        self.route("GET", r"/api/v1/accounts/(?P<id>\d+)/statuses", self._statuses)
        self.route("GET", r"/api/v2/instance", self._instance_v2)
        self.route("GET", r"/api/v1/instance", self._instance_v1)
        self.route("POST", r"/api/v1/apps", self._register_app)
        self.route("GET", r"/oauth/authorize", self._authorize)
        self.route("POST", r"/oauth/token", self._token)

    def _next_id(self) -> str:
        return str(next(self._ids))

    def _message(self, key: str, **values: Any) -> str:
        return MESSAGES.get(self.locale, MESSAGES["en"])[key].format(**values)

    def _guard(self, request: Request, scope: str, window: str = "all") -> Response | Token:
        """The caller's token, or the answer that refuses the request."""
        header = request.header("authorization") or ""
        token = self.tokens.get(header.removeprefix("Bearer ")) if header else None
        if token is None:
            return error(401, "The access token is invalid")
        if not token.allows(scope):
            return error(403, "This action is outside the authorized scopes")
        throttle = self.windows[window]
        if not throttle.take():
            return Response(429, {"error": "Too many requests"}, throttle.headers())
        return token

    def _ok(self, body: Any, window: str = "all", status: int = 200) -> Response:
        return Response(status, body, self.windows[window].headers())

    # -- statuses ----------------------------------------------------------------------

    def _create(self, request: Request) -> Response:
        token = self._guard(request, "write:statuses", "statuses")
        if isinstance(token, Response):
            return token
        key = request.header("idempotency-key")
        if key:
            seen = self.idempotency.get((token.account, key))
            if seen and time.time() - seen[1] < self.idempotency_seconds:
                original = next(p for p in self.posts if p["id"] == seen[0])
                return self._ok(self._status(original), "statuses")
        form = params(request)
        if content_type(request) == "application/x-www-form-urlencoded":
            form["media_ids"] = request.form().get("media_ids[]", [])
        text = str(form.get("status") or "")
        spoiler = str(form.get("spoiler_text") or "")
        visibility = str(form.get("visibility") or "public")
        media_ids = [str(i) for i in form.get("media_ids") or []]
        reply_to = form.get("in_reply_to_id") or None
        if visibility not in ("public", "unlisted", "private", "direct"):
            return error(422, f"Validation failed: Visibility '{visibility}' is not valid")
        if reply_to is not None and not any(p["id"] == reply_to for p in self.posts):
            return error(404, "The post you are trying to reply to does not appear to exist.")
        if len(media_ids) > 4:
            return error(422, self._message("too_many"))
        attached = [
            self.media[i]
            for i in media_ids
            if i in self.media and self.media[i].account == token.account
        ]
        if any(m.polls_left > 0 or m.failed for m in attached):
            return error(422, self._message("not_ready"))
        if not text and not attached:
            return error(422, self._message("blank"))
        if self._length(spoiler + text) > self.max_characters:
            return error(422, self._message("too_long", limit=self.max_characters))
        status_id = self._next_id()
        status: dict[str, Any] = {
            "id": status_id,
            "text": text,
            "spoiler_text": spoiler,
            "visibility": visibility,
            "language": form.get("language") or None,
            "sensitive": str(form.get("sensitive")).lower() in ("true", "1") or bool(spoiler),
            "reply_to": reply_to,
            "media_ids": [m.id for m in attached],
            "created_at": datetime.now(UTC),
            "idempotency_key": key,
            "favourites": 0,
            "reblogs": 0,
            "replies": 0,
            "quotes": 0,
        }
        for attachment in attached:
            attachment.status_id = status_id
        self.posts.append(status)
        if key:
            self.idempotency[(token.account, key)] = (status_id, time.time())
        return self._ok(self._status(status), "statuses")

    @staticmethod
    def _length(text: str) -> int:
        """Mastodon's count: graphemes, each link 23, a remote mention as its local part."""
        text = _URL.sub("x" * 23, text)
        text = _MENTION.sub(r"@\1", text)
        return len(regex.findall(r"\X", text))

    def _status(self, post: dict[str, Any]) -> dict[str, Any]:
        paragraphs = "".join(
            f"<p>{html.escape(part).replace(chr(10), '<br />')}</p>"
            for part in post["text"].split("\n\n")
        )
        attachments = [self._attachment(self.media[i]) for i in post["media_ids"]]
        return {
            "id": post["id"],
            "created_at": _stamp(post["created_at"]),
            "in_reply_to_id": post["reply_to"],
            "in_reply_to_account_id": self.ACCOUNT_ID if post["reply_to"] else None,
            "sensitive": post["sensitive"],
            "spoiler_text": post["spoiler_text"],
            "visibility": post["visibility"],
            "language": post["language"] or "en",
            "uri": f"https://{self.domain}/users/{self.USERNAME}/statuses/{post['id']}",
            "url": f"https://{self.domain}/@{self.USERNAME}/{post['id']}",
            "content": paragraphs,
            "media_attachments": attachments,
            "account": self._account(),
            "favourites_count": post["favourites"],
            "reblogs_count": post["reblogs"],
            "replies_count": post["replies"],
            "quotes_count": post["quotes"],
        }

    def _read_status(self, request: Request) -> Response:
        token = self._guard(request, "read:statuses")
        if isinstance(token, Response):
            return token
        post = next((p for p in self.posts if p["id"] == request.match["id"]), None)
        if post is None:
            return error(404, "Record not found")
        return self._ok(self._status(post))

    def _source(self, request: Request) -> Response:
        token = self._guard(request, "read:statuses")
        if isinstance(token, Response):
            return token
        post = next((p for p in self.posts if p["id"] == request.match["id"]), None)
        if post is None:
            return error(404, "Record not found")
        body = {"id": post["id"], "text": post["text"], "spoiler_text": post["spoiler_text"]}
        return self._ok(body)

    def _statuses(self, request: Request) -> Response:
        token = self._guard(request, "read:statuses")
        if isinstance(token, Response):
            return token
        if request.match["id"] != token.account:
            return self._ok([])
        query = params(request)
        limit = min(int(query.get("limit", 20)), 40)
        max_id = query.get("max_id")
        newest_first = [p for p in reversed(self.posts) if not max_id or int(p["id"]) < int(max_id)]
        return self._ok([self._status(p) for p in newest_first[:limit]])

    # -- media -------------------------------------------------------------------------

    def _upload(self, request: Request) -> Response:
        token = self._guard(request, "write:media", "media")
        if isinstance(token, Response):
            return token
        form = params(request)
        file = form.get("file")
        if not isinstance(file, Upload):
            return error(422, "Validation failed: File can't be blank")
        description = form.get("description")
        if isinstance(description, str) and len(description) > 1500:
            return error(422, self._message("description"))
        kind = file.content_type.split("/")[0]
        limit = self.video_size_limit if kind in ("video", "audio") else self.image_size_limit
        if len(file.content) > limit:
            return error(422, f"Validation failed: File file size must be less than {limit} Bytes")
        thumbnail = form.get("thumbnail")
        if thumbnail is not None and not (
            isinstance(thumbnail, Upload) and thumbnail.content_type.startswith("image/")
        ):
            return error(422, "Validation failed: Thumbnail content type is invalid")
        background = kind == "video" or len(file.content) >= self.async_bytes
        attachment = Attachment(
            self._next_id(),
            token.account,
            "image" if kind == "image" else kind,
            description if isinstance(description, str) else None,
            len(file.content),
            self.processing_polls if background else 0,
            mime=file.content_type,
            thumbnail=thumbnail.content if isinstance(thumbnail, Upload) else None,
            failed=background
            and (self.fail_processing or (kind == "video" and not playable(file.content))),
        )
        self.media[attachment.id] = attachment
        return self._ok(self._attachment(attachment), "media", 202 if background else 200)

    def _media_status(self, request: Request) -> Response:
        token = self._guard(request, "write:media")
        if isinstance(token, Response):
            return token
        attachment = self.media.get(request.match["id"])
        if attachment is None or attachment.account != token.account:
            return error(404, "Record not found")
        if attachment.polls_left > 0:
            attachment.polls_left -= 1
            return self._ok(self._attachment(attachment), status=206)
        if attachment.failed:
            return error(422, "Error processing thumbnail for uploaded media")
        return self._ok(self._attachment(attachment))

    def _attachment(self, attachment: Attachment) -> dict[str, Any]:
        files = f"https://{self.domain}/system/media_attachments/files/{attachment.id}"
        return {
            "id": attachment.id,
            "type": attachment.kind,
            "url": None if attachment.polls_left else f"{files}/original/file",
            "preview_url": f"{files}/small/file",
            "description": attachment.description,
        }

    # -- accounts and instance ---------------------------------------------------------

    def _account(self) -> dict[str, Any]:
        return {
            "id": self.ACCOUNT_ID,
            "username": self.USERNAME,
            "acct": self.USERNAME,
            "display_name": "Clarion (fake)",
            "url": f"https://{self.domain}/@{self.USERNAME}",
            "statuses_count": len(self.posts),
        }

    def _verify(self, request: Request) -> Response:
        token = self._guard(request, "read:accounts")
        if isinstance(token, Response):
            return token
        return self._ok(self._account())

    def _configuration(self) -> dict[str, Any]:
        return {
            "statuses": {
                "max_characters": self.max_characters,
                "max_media_attachments": 4,
                "characters_reserved_per_url": 23,
            },
            "media_attachments": {
                "image_size_limit": self.image_size_limit,
                "video_size_limit": self.video_size_limit,
                "description_limit": 1500,
            },
        }

    def _instance_v2(self, request: Request) -> Response:
        if not self.instance_v2:
            return error(404, "Not Found")
        body = {"domain": self.domain, "version": "4.3.0", "configuration": self._configuration()}
        return self._ok(body)

    def _instance_v1(self, request: Request) -> Response:
        body = {"uri": self.domain, "version": "3.5.3", "configuration": self._configuration()}
        return self._ok(body)

    # -- OAuth -------------------------------------------------------------------------

    def _register_app(self, request: Request) -> Response:
        form = params(request)
        if not form.get("client_name") or not form.get("redirect_uris"):
            return error(422, "Validation failed: Application name can't be blank")
        app = {
            "id": self._next_id(),
            "name": form["client_name"],
            "website": form.get("website"),
            "scopes": str(form.get("scopes") or "read").split(),
            "redirect_uri": form["redirect_uris"],
            "redirect_uris": [form["redirect_uris"]],
            "client_id": secrets.token_urlsafe(16),
            "client_secret": secrets.token_urlsafe(24),
        }
        self.apps[app["client_id"]] = app
        return self._ok(app)

    def _authorize(self, request: Request) -> Response:
        """The page a browser opens: this fake approves at once and shows the code."""
        if str(params(request).get("client_id")) not in self.apps:
            return error(401, "Client authentication failed due to unknown client.")
        return Response(200, f"Copy this authorization code to the application: {CODE}")

    def _token(self, request: Request) -> Response:
        form = params(request)
        app = self.apps.get(str(form.get("client_id")))
        if app is None or form.get("client_secret") != app["client_secret"]:
            return Response(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "Client authentication failed due to unknown client.",
                },
            )
        if (
            form.get("grant_type") != "authorization_code"
            or form.get("code") != CODE
            or form.get("redirect_uri") not in app["redirect_uris"]
        ):
            return Response(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "The provided authorization grant is invalid, expired, "
                    "revoked, does not match the redirection URI used in the authorization "
                    "request, or was issued to another client.",
                },
            )
        scopes = str(form.get("scope") or " ".join(app["scopes"]))
        token = secrets.token_urlsafe(32)
        self.tokens[token] = Token(self.ACCOUNT_ID, set(scopes.split()))
        created = int(time.time())
        return self._ok(
            {"access_token": token, "token_type": "Bearer", "scope": scopes, "created_at": created}
        )


def main() -> None:
    serve(lambda latency: MastodonFake(latency=latency))


if __name__ == "__main__":
    main()
