"""A Bluesky PDS on loopback, for tests: sessions, repositories, blobs and rate limits.

It answers as the reference PDS (@atproto/pds 0.5, run by tests/.../bluesky/test_pds.py)
was seen to answer: a bad token is `400 InvalidToken`, an expired one `400 ExpiredToken`, a
revoked refresh token `400 ExpiredToken`, a wrong app password `401 AuthenticationRequired`,
`createRecord` with a key in use a bare `500`, `putRecord` of a byte-identical record a no-op
with the same cid, and `putRecord` with `swapRecord: null` over another record
`400 InvalidSwap`. Writes cost points against an hourly budget per account (`RateLimit-*`
headers, then `429 RateLimitExceeded` with `Retry-After`), and so do logins (30 per 5 min).

`fake.posts` lists every post record ever created, so a test can prove nothing went out twice.

`getServiceAuth` signs tokens for other services as the PDS does (a JWT naming the account,
the audience, the method and the expiry; at most an hour ahead with a method, a minute
without), and `fake.video` is Bluesky's video service (fake_video.py), started
and stopped with the PDS, which accepts them.

Behind the PDS sits an AppView, as on bsky.social: `app.bsky.feed.getPosts` answers post views
with `likeCount`, `repostCount`, `replyCount` and `quoteCount` (set by `react()`), leaving out
posts it has not indexed (with `appview_lag`, until `index()`) and deleted ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import secrets
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from campaigns.length import grapheme_count
from connectors.base import ChannelAccess
from connectors.fakes.cli import serve
from connectors.fakes.server import FakePlatform, Made, Request, Response
from connectors.platforms.bluesky.fake_video import FakeBlueskyVideo
from connectors.platforms.bluesky.tid import encode_tid

POST = "app.bsky.feed.post"
HANDLE = "clarion.test"
APP_PASSWORD = "fake-appp-pass-word"
"""The account of `channel()` (and of `python -m connectors.platforms.bluesky.fake`)."""
_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
BLOB_UPLOAD_LIMIT = 5_242_880
VIDEO = "app.bsky.embed.video"
HOUR = 3600
_COUNTS = ("likeCount", "repostCount", "replyCount", "quoteCount")


@dataclass(slots=True)
class Account:
    did: str
    handle: str
    passwords: set[str]


@dataclass(frozen=True, slots=True)
class Record:
    uri: str
    cid: str
    value: dict[str, Any]

    @property
    def rkey(self) -> str:
        return self.uri.rsplit("/", 1)[-1]


@dataclass(slots=True)
class _Window:
    """Points spent in one rate-limit window."""

    limit: int
    seconds: int
    start: float = 0.0
    used: int = 0

    def spend(self, points: int, now: float) -> bool:
        if now >= self.start + self.seconds:
            self.start, self.used = now, 0
        if self.used + points > self.limit:
            return False
        self.used += points
        return True

    def headers(self, now: float, refused: bool = False) -> dict[str, str]:
        reset = int(self.start + self.seconds)
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": "0" if refused else str(self.limit - self.used),
            "RateLimit-Reset": str(reset),
            "RateLimit-Policy": f"{self.limit};w={self.seconds}",
        }
        if refused:
            headers["Retry-After"] = str(max(reset - int(now), 1))
        return headers


@dataclass(slots=True)
class _Token:
    did: str
    password: str
    expired: bool = False


class FakeBluesky(FakePlatform):
    error_text_fields = ("message",)  # XRPC's `error` is the machine-readable code
    publish_route = ("POST", r"/com\.atproto\.repo\.(create|put)Record$")

    def __init__(
        self,
        *,
        latency: float = 0.0,
        write_points_per_hour: int = 5000,
        logins_per_5_min: int = 30,
    ) -> None:
        self.accounts: dict[str, Account] = {}
        self.repos: dict[str, dict[str, dict[str, Record]]] = {}
        self.blobs: dict[str, tuple[bytes, str]] = {}
        self.posts: list[Record] = []
        """Every post record created, in order; a no-op or an update adds nothing."""
        self.sessions_created = 0
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}
        self._write_points = write_points_per_hour
        self._logins = logins_per_5_min
        self._windows: dict[tuple[str, str], _Window] = {}
        self.appview_lag = False
        """True: new posts stay out of getPosts until `index()`, as while the AppView lags."""
        self.indexed: set[str] = set()
        self.counts: dict[str, dict[str, int]] = {}
        """A post's uri to its likeCount, repostCount, replyCount, quoteCount."""
        self._signing_key = secrets.token_bytes(32)
        super().__init__(latency=latency)
        self.video = FakeBlueskyVideo(self, latency=latency)

    def start(self, port: int = 0, *, tls: ssl.SSLContext | None = None) -> Self:
        super().start(port, tls=tls)
        self.video.start(tls=tls)
        return self

    def stop(self) -> None:
        self.video.stop()
        super().stop()

    def routes(self) -> None:
        xrpc = "/xrpc/"
        self.route("POST", xrpc + "com.atproto.server.createSession", self._create_session)
        self.route("POST", xrpc + "com.atproto.server.refreshSession", self._refresh_session)
        self.route("GET", xrpc + "com.atproto.server.getSession", self._get_session)
        self.route("GET", xrpc + "com.atproto.server.getServiceAuth", self._service_auth)
        self.route("GET", xrpc + "com.atproto.identity.resolveHandle", self._resolve_handle)
        self.route("POST", xrpc + "com.atproto.repo.uploadBlob", self._upload_blob)
        self.route("POST", xrpc + "com.atproto.repo.createRecord", self._create_record)
        self.route("POST", xrpc + "com.atproto.repo.putRecord", self._put_record)
        self.route("GET", xrpc + "com.atproto.repo.getRecord", self._get_record)
        self.route("GET", xrpc + "com.atproto.repo.listRecords", self._list_records)
        self.route("POST", xrpc + "com.atproto.repo.deleteRecord", self._delete_record)
        self.route("GET", xrpc + "app.bsky.feed.getPosts", self._get_posts)

    # -- the contract -------------------------------------------------------------------

    def channel(self, handle: str = HANDLE, app_password: str = APP_PASSWORD) -> ChannelAccess:
        """A channel of an account on this fake (created on first use), its videos sent to
        `video`."""
        with self.lock:
            if did_for(handle) not in self.accounts:
                self.add_account(handle, app_password)
        return ChannelAccess(
            name="bluesky-main",
            platform="bluesky",
            credentials={"identifier": handle, "app_password": app_password},
            base_url=self.base_url,
            options={"link_cards": False, "video_service": self.video.base_url},
            timeout=2.0,
        )

    def throttle(self, until: datetime) -> Response:
        """Write points used up: `RateLimit-Reset` in epoch seconds, and `Retry-After`."""
        reset = math.ceil(until.timestamp())
        headers = {
            "RateLimit-Limit": str(self._write_points),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(reset),
            "RateLimit-Policy": f"{self._write_points};w=3600",
            "Retry-After": str(max(reset - int(time.time()), 1)),
        }
        return _error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)

    def published(self) -> list[Made]:
        with self.lock:
            return [
                Made(
                    str(record.value.get("text", "")),
                    self._media_types(record.value.get("embed")),
                    ((record.value.get("reply") or {}).get("parent") or {}).get("uri"),
                )
                for record in self.posts
            ]

    def _media_types(self, embed: Any) -> tuple[str, ...]:
        """Each image's or video's media type as uploaded, however the embed holds it."""
        if not isinstance(embed, dict):
            return ()
        kind = embed.get("$type")
        if kind == "app.bsky.embed.recordWithMedia":
            return self._media_types(embed.get("media"))
        if kind == "app.bsky.embed.images":
            blobs = [image.get("image") for image in embed.get("images") or []]
        elif kind == "app.bsky.embed.video":
            blobs = [embed.get("video")]
        else:
            return ()
        return tuple(self.blobs[blob["ref"]["$link"]][1] for blob in blobs if blob)

    # -- for tests -----------------------------------------------------------------------

    def add_account(self, handle: str, app_password: str) -> str:
        """Create an account that logs in with `app_password`; returns its DID."""
        with self.lock:
            did = did_for(handle)
            self.accounts[did] = Account(did, handle, {app_password})
            self.repos.setdefault(did, {})
            return did

    def expire_access_tokens(self) -> None:
        with self.lock:
            for token in self._access.values():
                token.expired = True

    def revoke(self, app_password: str = APP_PASSWORD) -> None:
        """Revoke an app password (by default `channel()`'s) as Bluesky does: it no longer
        logs in and its refresh tokens stop working; access tokens already issued last until
        they expire."""
        with self.lock:
            for account in self.accounts.values():
                account.passwords.discard(app_password)
            for name, token in list(self._refresh.items()):
                if token.password == app_password:
                    del self._refresh[name]

    def react(
        self, uri: str, *, likes: int = 0, reposts: int = 0, replies: int = 0, quotes: int = 0
    ) -> None:
        """Other accounts like, repost, reply to and quote the post (as the AppView counts)."""
        with self.lock:
            counts = self.counts.setdefault(uri, dict.fromkeys(_COUNTS, 0))
            for name, added in zip(_COUNTS, (likes, reposts, replies, quotes), strict=True):
                counts[name] += added

    def index(self) -> None:
        """The AppView catches up with every post written so far."""
        with self.lock:
            self.indexed.update(record.uri for record in self.posts)

    def delete_post(self, uri: str) -> None:
        """The post's author deleted it."""
        did, collection, rkey = uri.removeprefix("at://").split("/")
        with self.lock:
            self.repos[did].get(collection, {}).pop(rkey, None)

    def records(self, did: str, collection: str = POST) -> list[Record]:
        with self.lock:
            return list(self.repos.get(did, {}).get(collection, {}).values())

    # -- sessions ------------------------------------------------------------------------

    def _create_session(self, request: Request) -> Response:
        body = _json(request)
        identifier = str(body.get("identifier", "")).lower()
        limited = self._spend("login", identifier, 1)
        if limited:
            return limited
        for account in self.accounts.values():
            if identifier in (account.handle, account.did) and body.get("password") in (
                account.passwords
            ):
                self.sessions_created += 1
                headers = self._windows[("login", identifier)].headers(time.time())
                return self._session(account, str(body["password"]), request, headers)
        return _error(401, "AuthenticationRequired", "Invalid identifier or password")

    def _refresh_session(self, request: Request) -> Response:
        token = _bearer(request)
        if token in self._access:
            return _error(400, "InvalidToken", "Token could not be verified")
        found = self._refresh.pop(token or "", None)
        if found is None:
            return _error(400, "ExpiredToken", "Token has been revoked")
        return self._session(self.accounts[found.did], found.password, request)

    def _session(
        self,
        account: Account,
        password: str,
        request: Request,
        headers: dict[str, str] | None = None,
    ) -> Response:
        access, refresh = (
            "fake-access-" + secrets.token_hex(12),
            "fake-refresh-" + secrets.token_hex(12),
        )
        self._access[access] = _Token(account.did, password)
        self._refresh[refresh] = _Token(account.did, password)
        host = request.header("host", "127.0.0.1")
        return Response(
            200,
            {
                "accessJwt": access,
                "refreshJwt": refresh,
                "handle": account.handle,
                "did": account.did,
                "didDoc": {
                    "id": account.did,
                    "alsoKnownAs": [f"at://{account.handle}"],
                    "service": [
                        {
                            "id": "#atproto_pds",
                            "type": "AtprotoPersonalDataServer",
                            "serviceEndpoint": f"http://{host}",
                        }
                    ],
                },
                "active": True,
            },
            headers or {},
        )

    def _get_session(self, request: Request) -> Response:
        return self._authed(
            request,
            lambda account: Response(
                200, {"did": account.did, "handle": account.handle, "active": True}
            ),
        )

    def _service_auth(self, request: Request) -> Response:
        def sign(account: Account) -> Response:
            aud = (request.query.get("aud") or [""])[0]
            lxm = (request.query.get("lxm") or [""])[0]
            if not aud:
                return _error(400, "InvalidRequest", 'Params must have the property "aud"')
            now = int(time.time())
            try:
                exp = int((request.query.get("exp") or [str(now + 60)])[0])
            except ValueError:
                return _error(400, "InvalidRequest", "exp must be an integer")
            if exp <= now:
                return _error(400, "BadExpiration", "expiration is in past")
            if exp - now > (HOUR if lxm else 60):
                return _error(
                    400,
                    "BadExpiration",
                    "cannot request a token with an expiration more than an hour in the future"
                    if lxm
                    else "cannot request a method-less token that expires more than 60 seconds "
                    "in the future",
                )
            claims = {"iat": now, "iss": account.did, "aud": aud, "exp": exp}
            if lxm:
                claims["lxm"] = lxm
            return Response(200, {"token": self._jwt(claims)})

        return self._authed(request, sign)

    @property
    def service_did(self) -> str:
        """This PDS's did:web, the audience of the tokens the video service uses on it."""
        return "did:web:127.0.0.1%3A" + self.base_url.rsplit(":", 1)[1]

    def _jwt(self, claims: dict[str, Any]) -> str:
        header = _b64url(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
        payload = _b64url(json.dumps(claims).encode())
        signature = hmac.new(self._signing_key, f"{header}.{payload}".encode(), "sha256")
        return f"{header}.{payload}.{_b64url(signature.digest())}"

    def service_caller(self, request: Request, aud: str, lxm: str) -> str | Response:
        """The account a service-auth token speaks for, checked as a service checks it, or
        the service's refusal."""
        token = _bearer(request)
        if token is None:
            return _error(401, "AuthMissing", "Authentication Required")
        header, _, rest = token.partition(".")
        payload, _, signature = rest.partition(".")
        expected = hmac.new(self._signing_key, f"{header}.{payload}".encode(), "sha256")
        if not hmac.compare_digest(_b64url(expected.digest()), signature):
            return _error(401, "BadJwtSignature", "jwt signature does not match jwt issuer")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if claims["exp"] <= time.time():
            return _error(401, "JwtExpired", "jwt expired")
        if claims["aud"] != aud:
            return _error(401, "BadJwtAudience", f"jwt audience does not match service did: {aud}")
        if claims.get("lxm") != lxm:
            return _error(
                401, "BadJwtLexiconMethod", f'bad jwt lexicon method ("lxm"). must match: {lxm}'
            )
        return str(claims["iss"])

    def store_blob(self, content: bytes, mime: str) -> dict[str, Any]:
        """Keep a blob as uploadBlob does; returns its ref."""
        cid = _cid(0x55, content)
        with self.lock:
            self.blobs[cid] = (content, mime)
        return {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(content)}

    def _authed(self, request: Request, handler: Callable[[Account], Response]) -> Response:
        token = _bearer(request)
        if token is None:
            return _error(401, "AuthMissing", "Authentication Required")
        found = self._access.get(token)
        if found is None:
            return _error(400, "InvalidToken", "Token could not be verified")
        if found.expired:
            return _error(400, "ExpiredToken", "Token has expired")
        return handler(self.accounts[found.did])

    # -- identities and blobs ------------------------------------------------------------

    def _resolve_handle(self, request: Request) -> Response:
        handle = (request.query.get("handle") or [""])[0].lower()
        for account in self.accounts.values():
            if account.handle == handle:
                return Response(200, {"did": account.did})
        return _error(400, "HandleNotFound", "Unable to resolve handle")

    def _upload_blob(self, request: Request) -> Response:
        def upload(account: Account) -> Response:
            if len(request.body) > BLOB_UPLOAD_LIMIT:
                return _error(413, "PayloadTooLarge", "request entity too large")
            mime = (request.header("content-type") or "*/*").split(";")[0].strip()
            return Response(200, {"blob": self.store_blob(request.body, mime)})

        return self._authed(request, upload)

    # -- records -------------------------------------------------------------------------

    def _create_record(self, request: Request) -> Response:
        def create(account: Account) -> Response:
            body = _json(request)
            limited = self._spend("write", account.did, 3)
            if limited:
                return limited
            collection = str(body.get("collection", ""))
            rkey = str(body.get("rkey") or _now_tid())
            problem = self._invalid(account, body, rkey)
            if problem:
                return problem
            if rkey in self.repos[account.did].get(collection, {}):
                return _error(500, "InternalServerError", "Internal Server Error")
            return self._store(account, collection, rkey, body["record"])

        return self._authed(request, create)

    def _put_record(self, request: Request) -> Response:
        def put(account: Account) -> Response:
            body = _json(request)
            limited = self._spend("write", account.did, 2)
            if limited:
                return limited
            collection, rkey = str(body.get("collection", "")), str(body.get("rkey", ""))
            problem = self._invalid(account, body, rkey)
            if problem:
                return problem
            current = self.repos[account.did].get(collection, {}).get(rkey)
            cid = _record_cid(body["record"])
            if current and current.cid == cid:
                return Response(200, {"uri": current.uri, "cid": cid, "validationStatus": "valid"})
            if "swapRecord" in body and (current.cid if current else None) != body["swapRecord"]:
                found = current.cid if current else "null"
                return _error(400, "InvalidSwap", f"Record was at {found}")
            return self._store(account, collection, rkey, body["record"])

        return self._authed(request, put)

    def _store(
        self, account: Account, collection: str, rkey: str, value: dict[str, Any]
    ) -> Response:
        uri = f"at://{account.did}/{collection}/{rkey}"
        stored = Record(uri, _record_cid(value), value)
        existing = self.repos[account.did].setdefault(collection, {})
        if rkey not in existing and collection == POST:
            self.posts.append(stored)
            if not self.appview_lag:
                self.indexed.add(uri)
        existing[rkey] = stored
        commit = {"cid": _cid(0x71, uri.encode() + secrets.token_bytes(8)), "rev": _now_tid()}
        headers = self._windows[("write", account.did)].headers(time.time())
        return Response(
            200,
            {"uri": uri, "cid": stored.cid, "commit": commit, "validationStatus": "valid"},
            headers,
        )

    def _get_record(self, request: Request) -> Response:
        repo = (request.query.get("repo") or [""])[0]
        collection = (request.query.get("collection") or [""])[0]
        rkey = (request.query.get("rkey") or [""])[0]
        did = self._did(repo)
        if did is None:
            return _error(400, "InvalidRequest", f"Could not find repo: {repo}")
        found = self.repos[did].get(collection, {}).get(rkey)
        if found is None:
            uri = f"at://{did}/{collection}/{rkey}"
            return _error(400, "RecordNotFound", f"Could not locate record: {uri}")
        return Response(200, {"uri": found.uri, "cid": found.cid, "value": found.value})

    def _list_records(self, request: Request) -> Response:
        repo = (request.query.get("repo") or [""])[0]
        collection = (request.query.get("collection") or [""])[0]
        did = self._did(repo)
        if did is None:
            return _error(400, "InvalidRequest", f"Could not find repo: {repo}")
        found = sorted(self.repos[did].get(collection, {}).values(), key=lambda r: r.rkey)
        records = [{"uri": r.uri, "cid": r.cid, "value": r.value} for r in reversed(found)]
        return Response(200, {"records": records})

    def _delete_record(self, request: Request) -> Response:
        def delete(account: Account) -> Response:
            body = _json(request)
            limited = self._spend("write", account.did, 1)
            if limited:
                return limited
            if body.get("repo") not in (account.did, account.handle):
                return _error(401, "AuthRequired", "Authentication Required")
            collection, rkey = str(body.get("collection", "")), str(body.get("rkey", ""))
            self.repos[account.did].get(collection, {}).pop(rkey, None)
            return Response(200, {})

        return self._authed(request, delete)

    def _get_posts(self, request: Request) -> Response:
        """The AppView's post views, through the PDS (which needs the caller's session)."""

        def views(account: Account) -> Response:
            uris = request.query.get("uris") or []
            if len(uris) > 25:
                return _error(400, "InvalidRequest", "Array too long (maximum 25)")
            posts = []
            for uri in uris:
                did, _, rkey = uri.removeprefix("at://").partition("/")
                found = self.repos.get(did, {}).get(POST, {}).get(rkey.rpartition("/")[2])
                if found is None or uri not in self.indexed:
                    continue
                counts = self.counts.get(uri, dict.fromkeys(_COUNTS, 0))
                author = {"did": did, "handle": self.accounts[did].handle}
                posts.append(
                    {"uri": uri, "cid": found.cid, "author": author, "record": found.value}
                    | counts
                    | {"indexedAt": found.value.get("createdAt")}
                )
            return Response(200, {"posts": posts})

        return self._authed(request, views)

    def _did(self, repo: str) -> str | None:
        for account in self.accounts.values():
            if repo in (account.did, account.handle):
                return account.did
        return None

    def _invalid(self, account: Account, body: dict[str, Any], rkey: str) -> Response | None:
        """The PDS's checks of a write, with its wording; None when the write is valid."""
        if body.get("repo") not in (account.did, account.handle):
            return _error(401, "AuthRequired", "Authentication Required")
        record = body.get("record")
        collection = body.get("collection")
        if not isinstance(record, dict) or record.get("$type") != collection:
            return _invalid_record(collection, "Record/$type must match collection", "$")
        if collection != POST:
            return None
        if not _TID.fullmatch(rkey):
            return _error(
                400,
                "InvalidRequest",
                f'Invalid record key for {POST}: Invalid TID string (got "{rkey}") at $',
            )
        return self._invalid_post(record)

    def _invalid_post(self, record: dict[str, Any]) -> Response | None:
        text = record.get("text")
        if not isinstance(text, str):
            return _invalid_record(POST, 'Missing required key "text"', "$.record")
        if "createdAt" not in record:
            return _invalid_record(POST, 'Missing required key "createdAt"', "$.record")
        graphemes, size = grapheme_count(text), len(text.encode())
        if graphemes > 300:
            message = f"grapheme too big (maximum 300, got {graphemes})"
            return _invalid_record(POST, message, "$.record.text")
        if size > 3000:
            message = f"string too long (maximum 3000, got {size})"
            return _invalid_record(POST, message, "$.record.text")
        if len(record.get("langs") or ()) > 3:
            message = f"array too big (maximum 3, got {len(record['langs'])})"
            return _invalid_record(POST, message, "$.record.langs")
        for facet in record.get("facets") or ():
            index = facet.get("index", {})
            if not 0 <= index.get("byteStart", -1) <= index.get("byteEnd", -1) <= size:
                return _invalid_record(POST, "facet index out of range", "$.record.facets")
        return self._invalid_embed(record.get("embed"))

    def _invalid_embed(self, embed: Any) -> Response | None:
        if not isinstance(embed, dict):
            return None
        blobs: list[tuple[Any, int, str]] = []
        if embed.get("$type") == "app.bsky.embed.images":
            images = embed.get("images") or []
            if len(images) > 4:
                message = f"array too big (maximum 4, got {len(images)})"
                return _invalid_record(POST, message, "$.record.embed.images")
            for n, image in enumerate(images):
                if not isinstance(image.get("alt"), str):
                    where = f"$.record.embed.images[{n}]"
                    return _invalid_record(POST, 'Missing required key "alt"', where)
                blobs.append((image.get("image"), 2_000_000, f"$.record.embed.images[{n}].image"))
        elif embed.get("$type") == "app.bsky.embed.external":
            external = embed.get("external") or {}
            for key in ("uri", "title", "description"):
                if not isinstance(external.get(key), str):
                    where = "$.record.embed.external"
                    return _invalid_record(POST, f'Missing required key "{key}"', where)
            if "thumb" in external:
                blobs.append((external["thumb"], 1_000_000, "$.record.embed.external.thumb"))
        elif embed.get("$type") == VIDEO:
            problem = _invalid_video(embed, blobs)
            if problem:
                return problem
        for blob, limit, where in blobs:
            cid = (blob or {}).get("ref", {}).get("$link")
            if cid not in self.blobs:
                return _error(400, "BlobNotFound", f"Could not find blob: {cid}")
            content, mime = self.blobs[cid]
            if blob.get("mimeType") != mime:
                message = (
                    f"Referenced Mimetype does not match stored blob. Expected: {mime}, "
                    f"Got: {blob.get('mimeType')}"
                )
                return _error(400, "InvalidMimeType", message)
            if len(content) > limit:
                message = f"blob too big (maximum {limit}, got {len(content)})"
                return _invalid_record(POST, message, where)
        return None

    # -- rate limits ---------------------------------------------------------------------

    def _spend(self, kind: str, who: str, points: int) -> Response | None:
        """A 429 when the window of `kind` for `who` has no `points` left, else None."""
        limit, seconds = (self._write_points, 3600) if kind == "write" else (self._logins, 300)
        window = self._windows.setdefault((kind, who), _Window(limit, seconds))
        now = time.time()
        if window.spend(points, now):
            return None
        headers = window.headers(now, refused=True)
        return _error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)


def _invalid_video(embed: dict[str, Any], blobs: list[tuple[Any, int, str]]) -> Response | None:
    """app.bsky.embed.video's checks, in the reference PDS's words; its blobs are added to
    `blobs`."""
    where = "$.record.embed"
    video = embed.get("video")
    if not isinstance(video, dict):
        return _invalid_record(POST, 'Missing required key "video"', where)
    files = [(video, "video/mp4", 300_000_000, f"{where}.video")]
    if "alt" in embed and not isinstance(embed["alt"], str):
        return _invalid_record(POST, "Expected string value type", f"{where}.alt")
    ratio = embed.get("aspectRatio")
    ratio = ratio if isinstance(ratio, dict) else {"width": 1, "height": 1}
    for side in ("width", "height"):
        if not isinstance(ratio.get(side), int) or ratio[side] < 1:
            message = f"integer too small (minimum 1, got {ratio.get(side)})"
            return _invalid_record(POST, message, f"{where}.aspectRatio.{side}")
    captions = embed.get("captions") or []
    if len(captions) > 20:
        message = f"array too big (maximum 20, got {len(captions)})"
        return _invalid_record(POST, message, f"{where}.captions")
    for n, caption in enumerate(captions):
        file = caption.get("file") if isinstance(caption, dict) else None
        if not isinstance(file, dict) or not isinstance(caption.get("lang"), str):
            message = 'Missing required key "lang" or "file"'
            return _invalid_record(POST, message, f"{where}.captions[{n}]")
        files.append((file, "text/vtt", 20_000, f"{where}.captions[{n}].file"))
    for blob, accept, limit, at in files:
        if blob.get("mimeType") != accept:
            message = f'Expected "{accept}" (got "{blob.get("mimeType")}")'
            return _invalid_record(POST, message, f"{at}.mimeType")
        blobs.append((blob, limit, at))
    return None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def did_for(handle: str) -> str:
    """The DID this fake gives the account of `handle`."""
    return "did:plc:" + _base32(hashlib.sha256(handle.encode()).digest())[:24]


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, {"error": code, "message": message}, headers or {})


def _invalid_record(collection: Any, message: str, where: str) -> Response:
    return _error(400, "InvalidRequest", f"Invalid {collection} record: {message} at {where}")


def _json(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _bearer(request: Request) -> str | None:
    header = request.header("authorization") or ""
    return header[7:] if header.startswith("Bearer ") else None


def _base32(data: bytes) -> str:
    return base64.b32encode(data).decode().lower().rstrip("=")


def _cid(codec: int, content: bytes) -> str:
    """A CIDv1 (sha-256) in base32: `bafkrei…` for raw blobs, `bafyrei…` for records."""
    return "b" + _base32(bytes([0x01, codec, 0x12, 0x20]) + hashlib.sha256(content).digest())


def _record_cid(value: Any) -> str:
    """Stands in for the DAG-CBOR hash: equal records, whatever their key order, share it."""
    return _cid(0x71, json.dumps(value, sort_keys=True, ensure_ascii=False).encode())


def _now_tid() -> str:
    return encode_tid(time.time_ns() // 1000, secrets.randbelow(1024))


def main() -> None:
    serve(lambda latency: FakeBluesky(latency=latency))


if __name__ == "__main__":
    main()
