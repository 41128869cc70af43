"""A TikTok Content Posting API fake: Login Kit's token endpoint, the creator-info query,
video init (direct and inbox) with the chunked upload TikTok documents, photo posts, and the
status fetch.

It holds TikTok's documented rules: chunk sizes (5 to 64 MB, the whole file under 5 MB, the
rest joining the last chunk), `Content-Range` in sequence (416 otherwise), 206 for a chunk and
201 for the last, the privacy level among the creator's options, at most 5 drafts waiting in
the inbox, refresh tokens that are replaced at each renewal. An upload address takes chunks
for `upload_lifetime` (an hour) after its init, and what arrived stays (the status's
`uploaded_bytes`), so an upload may go on from its next chunk within the hour; later its
chunks are refused with 403 (TikTok documents the hour, not the answer). It keeps the size
and a hash of what was uploaded, never the file. A post is made when the last chunk arrives (or, for
photos, at the init); its status reads `PROCESSING_UPLOAD` for `processing_reads` fetches,
then `PUBLISH_COMPLETE` (or `SEND_TO_USER_INBOX`), or `FAILED` with `fail_reason`.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

from connectors.base import ChannelAccess
from connectors.fakes.cli import serve
from connectors.fakes.params import params
from connectors.fakes.server import FakePlatform, Made, Request, Response

CLIENT_KEY = "awfakeclientkey"
CLIENT_SECRET = "fakeTikTokClientSecret"
REFRESH_TOKEN = "rft.fakeTikTokRefreshToken0"
USERNAME = "sayno_europe"
MB = 1024 * 1024
LOG_ID = "20270209090000FAKE0TIKTOK0LOG"


def tiktok_error(status: int, code: str, message: str = "") -> Response:
    return Response(
        status, {"data": {}, "error": {"code": code, "message": message, "log_id": LOG_ID}}
    )


def _ok(data: dict[str, Any]) -> Response:
    return Response(200, {"data": data, "error": {"code": "ok", "message": "", "log_id": LOG_ID}})


@dataclass
class Upload:
    publish_id: str
    mode: str
    """"direct", "inbox" or "photo"."""
    size: int = 0
    chunk_size: int = 0
    chunks: int = 0
    title: str = ""
    privacy: str | None = None
    post_info: dict[str, Any] = field(default_factory=dict)
    mime: str = ""
    images: tuple[str, ...] = ()
    """The media types of a photo post's images, by their addresses' endings."""
    received: int = 0
    digest: Any = field(default_factory=hashlib.sha256)
    chunk_lengths: list[int] = field(default_factory=list)
    status: str = "PROCESSING_UPLOAD"
    fail_reason: str = ""
    reads: int = 0
    post_id: str = ""
    issued: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def media(self) -> tuple[str, ...]:
        return self.images or (self.mime,)


class TikTokFake(FakePlatform):
    error_text_fields: ClassVar[tuple[str, ...]] = ("message", "error_description")
    publish_route: ClassVar[tuple[str, str]] = ("PUT", r"^/upload/$")
    """The last chunk of a video makes the post (a photo post is made by its init)."""
    throttle_tells_time: ClassVar[bool] = False

    def __init__(self, *, latency: float = 0.0) -> None:
        self.client_key, self.client_secret = CLIENT_KEY, CLIENT_SECRET
        self.refresh_tokens = {REFRESH_TOKEN}
        self.access_tokens: set[str] = set()
        self.privacy_options = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
        self.comment_disabled = False
        self.max_seconds = 600
        self.processing_reads = 0
        """Status fetches an upload spends PROCESSING_UPLOAD once all of it has arrived."""
        self.fail_with: str | None = None
        """A fail_reason the next post ends in, instead of being published."""
        self.creator_error: str | None = None
        """An error code the creator-info query answers under HTTP 200, as TikTok does."""
        self.codes: dict[str, str] = {}
        """Authorization codes given out by the authorize page, with their code challenge."""
        self.uploads: dict[str, Upload] = {}
        self.upload_lifetime = timedelta(hours=1)
        self.posts: list[Upload] = []
        """Every post made (direct, photo) or draft sent to the inbox, in order."""
        self._ids = itertools.count(7_400_000_000_000_000_001)
        super().__init__(latency=latency)

    def revoke(self) -> None:
        with self.lock:
            self.access_tokens.clear()
            self.refresh_tokens.clear()

    def channel(self) -> ChannelAccess:
        return channel_access(self.base_url)

    def published(self) -> list[Made]:
        return [Made(upload.title, upload.media) for upload in self.posts]

    def throttle(self, until: datetime) -> Response:
        """TikTok's answer past a per-minute limit: it names no time to come back (its
        documentation shows none), so `until` is not said."""
        return tiktok_error(
            429,
            "rate_limit_exceeded",
            "Your request is blocked due to exceeding the API rate limit.",
        )

    # -- serving --------------------------------------------------------------------------

    def routes(self) -> None:
        self.route("GET", r"/v2/auth/authorize/", self._authorize)
        self.route("POST", r"/v2/oauth/token/", self._token)
        self.route("GET", r"/v2/user/info/", self._user)
        self.route("POST", r"/v2/post/publish/creator_info/query/", self._creator)
        self.route("POST", r"/v2/post/publish/video/init/", lambda r: self._init(r, "direct"))
        self.route("POST", r"/v2/post/publish/inbox/video/init/", lambda r: self._init(r, "inbox"))
        self.route("POST", r"/v2/post/publish/content/init/", self._photos)
        self.route("POST", r"/v2/post/publish/status/fetch/", self._status)
        self.route("PUT", r"/upload/", self._chunk)

    def _authorize(self, request: Request) -> Response:
        """The consent page, agreed to at once: back to the redirect address with a code."""
        args = params(request)
        if args.get("client_key") != self.client_key or args.get("code_challenge_method") != "S256":
            return Response(400, "invalid client_key or code challenge method")
        code = f"code-{next(self._ids)}"
        self.codes[code] = str(args.get("code_challenge"))
        query = urlencode(
            {"code": code, "scopes": args.get("scope", ""), "state": args.get("state", "")}
        )
        return Response(302, "", {"Location": f"{args.get('redirect_uri')}?{query}"})

    def _token(self, request: Request) -> Response:
        args = params(request)
        if (args.get("client_key"), args.get("client_secret")) != (
            self.client_key,
            self.client_secret,
        ):
            return _oauth_error("invalid_client", "Client key or secret is incorrect.")
        grant = args.get("grant_type")
        if grant == "authorization_code":
            challenge = self.codes.pop(str(args.get("code")), None)
            verifier = str(args.get("code_verifier") or "")
            if challenge is None or hashlib.sha256(verifier.encode()).hexdigest() != challenge:
                return _oauth_error("invalid_grant", "Authorization code is expired.")
        elif grant == "refresh_token":
            old = str(args.get("refresh_token"))
            if old not in self.refresh_tokens:
                return _oauth_error("invalid_grant", "Refresh token is invalid or expired.")
            self.refresh_tokens.discard(old)
        else:
            return _oauth_error("unsupported_grant_type", "Grant type is not supported.")
        number = next(self._ids)
        access, refresh = f"act.fake{number}", f"rft.fake{number}"
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return Response(
            200,
            {
                "access_token": access,
                "expires_in": 86400,
                "open_id": "fake-open-id",
                "refresh_expires_in": 31536000,
                "refresh_token": refresh,
                "scope": "user.info.basic,video.publish,video.upload",
                "token_type": "Bearer",
            },
        )

    def _authorized(self, request: Request) -> Response | None:
        header = request.header("authorization") or ""
        if header.removeprefix("Bearer ") not in self.access_tokens:
            return tiktok_error(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            )
        return None

    def _user(self, request: Request) -> Response:
        refused = self._authorized(request)
        if refused:
            return refused
        return _ok({"user": {"open_id": "fake-open-id", "display_name": "SayNo Europe"}})

    def _creator(self, request: Request) -> Response:
        refused = self._authorized(request)
        if refused:
            return refused
        if self.creator_error:
            return tiktok_error(200, self.creator_error, "The daily post cap is reached.")
        return _ok(
            {
                "creator_avatar_url": "https://p16.tiktokcdn.example/avatar.jpeg",
                "creator_username": USERNAME,
                "creator_nickname": "SayNo Europe",
                "privacy_level_options": list(self.privacy_options),
                "comment_disabled": self.comment_disabled,
                "duet_disabled": False,
                "stitch_disabled": True,
                "max_video_post_duration_sec": self.max_seconds,
            }
        )

    def _init(self, request: Request, mode: str) -> Response:
        refused = self._authorized(request)
        if refused:
            return refused
        body = request.json() or {}
        source = body.get("source_info") or {}
        info = body.get("post_info") or {}
        if mode == "direct" and info.get("privacy_level") not in self.privacy_options:
            return tiktok_error(
                403, "privacy_level_option_mismatch", "privacy_level is not among the options."
            )
        if mode == "inbox" and sum(u.mode == "inbox" for u in self.posts) >= 5:
            return tiktok_error(403, "spam_risk_too_many_pending_share", "Too many pending shares.")
        problem = _chunk_problem(source)
        if problem:
            return tiktok_error(400, "invalid_param", problem)
        upload = Upload(
            f"v_{'pub' if mode == 'direct' else 'inbox'}_file~v2.{next(self._ids)}",
            mode,
            size=source["video_size"],
            chunk_size=source["chunk_size"],
            chunks=source["total_chunk_count"],
            title=str(info.get("title") or ""),
            privacy=info.get("privacy_level"),
            post_info=info,
        )
        self.uploads[upload.publish_id] = upload
        query = urlencode({"upload_id": upload.publish_id, "upload_token": "fake-upload-token"})
        return _ok(
            {"publish_id": upload.publish_id, "upload_url": f"{self.base_url}/upload/?{query}"}
        )

    def expire(self) -> None:
        """Every upload address given out so far expires now."""
        for upload in self.uploads.values():
            upload.issued -= self.upload_lifetime

    def _chunk(self, request: Request) -> Response:
        upload = self.uploads.get(str(params(request).get("upload_id")))
        if upload is None or upload.status != "PROCESSING_UPLOAD" or upload.received == upload.size:
            return Response(404, "")
        if datetime.now(UTC) >= upload.issued + self.upload_lifetime:
            return Response(403, "")
        found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", request.header("content-range") or "")
        if found is None or int(request.header("content-length") or -1) != len(request.body):
            return Response(400, "")
        first, last, total = (int(n) for n in found.groups())
        length = last - first + 1
        final = len(upload.chunk_lengths) + 1 == upload.chunks
        expected = upload.size - first if final else upload.chunk_size
        if (first, total) != (upload.received, upload.size) or length != len(request.body):
            return Response(416, "", {"Content-Range": f"bytes 0-{upload.received}/{upload.size}"})
        if length != expected:
            return Response(400, "")
        upload.digest.update(request.body)
        upload.received += length
        upload.chunk_lengths.append(length)
        upload.mime = request.header("content-type") or ""
        if not final:
            return Response(206, "", {"Content-Range": f"bytes 0-{upload.received}/{upload.size}"})
        self._made(upload)
        return Response(201, "")

    def _photos(self, request: Request) -> Response:
        refused = self._authorized(request)
        if refused:
            return refused
        body = request.json() or {}
        info = body.get("post_info") or {}
        images = (body.get("source_info") or {}).get("photo_images") or []
        direct = body.get("post_mode") == "DIRECT_POST"
        if direct and info.get("privacy_level") not in self.privacy_options:
            return tiktok_error(
                403, "privacy_level_option_mismatch", "privacy_level is not among the options."
            )
        if not images or len(images) > 35 or not all(str(u).startswith("https://") for u in images):
            return tiktok_error(
                400, "invalid_param", "photo_images must hold 1 to 35 https addresses."
            )
        upload = Upload(
            f"p_pub_url~v2.{next(self._ids)}",
            "photo" if direct else "inbox",
            title=str(info.get("description") or ""),
            privacy=info.get("privacy_level"),
            post_info=info,
            images=tuple(
                "image/webp" if str(url).endswith(".webp") else "image/jpeg" for url in images
            ),
        )
        self.uploads[upload.publish_id] = upload
        self._made(upload)
        return _ok({"publish_id": upload.publish_id})

    def _made(self, upload: Upload) -> None:
        if self.fail_with:
            upload.status, upload.fail_reason, self.fail_with = "FAILED", self.fail_with, None
            return
        self.posts.append(upload)
        if upload.mode != "inbox" and upload.privacy == "PUBLIC_TO_EVERYONE":
            upload.post_id = str(next(self._ids))

    def _status(self, request: Request) -> Response:
        refused = self._authorized(request)
        if refused:
            return refused
        upload = self.uploads.get(str((request.json() or {}).get("publish_id")))
        if upload is None:
            return tiktok_error(400, "invalid_publish_id", "The publish_id does not exist.")
        complete = upload.received == upload.size
        if upload.status == "PROCESSING_UPLOAD" and complete:
            upload.reads += 1
            if upload.reads > self.processing_reads:
                upload.status = (
                    "SEND_TO_USER_INBOX" if upload.mode == "inbox" else "PUBLISH_COMPLETE"
                )
        data: dict[str, Any] = {
            "status": upload.status,
            "publicaly_available_post_id": [int(upload.post_id)]
            if upload.post_id and upload.status == "PUBLISH_COMPLETE"
            else [],
            "uploaded_bytes": upload.received,
        }
        if upload.fail_reason:
            data["fail_reason"] = upload.fail_reason
        return _ok(data)


def channel_access(base_url: str, timeout: float = 2.0) -> ChannelAccess:
    """A channel that posts directly and publicly through the fake at `base_url`."""
    return ChannelAccess(
        "tiktok-main",
        "tiktok",
        credentials={
            "client_key": CLIENT_KEY,
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
        },
        base_url=base_url,
        options={
            "mode": "direct",
            "privacy": "public",
            "media_base_url": "https://cdn.example.org/media",
        },
        timeout=timeout,
    )


def _oauth_error(code: str, description: str) -> Response:
    return Response(400, {"error": code, "error_description": description, "log_id": LOG_ID})


def _chunk_problem(source: dict[str, Any]) -> str | None:
    """What breaks TikTok's chunk rules in an init's source_info, if anything."""
    if source.get("source") != "FILE_UPLOAD":
        return "source must be FILE_UPLOAD"
    size, chunk, count = (source.get(k) for k in ("video_size", "chunk_size", "total_chunk_count"))
    if not all(isinstance(n, int) and n > 0 for n in (size, chunk, count)):
        return "video_size, chunk_size and total_chunk_count must be positive integers"
    assert isinstance(size, int) and isinstance(chunk, int) and isinstance(count, int)
    if size < 5 * MB and chunk != size:
        return "a video under 5 MB goes whole: chunk_size must equal video_size"
    if size > 64 * MB and count < 2:
        return "a video over 64 MB goes in several chunks"
    if chunk != size and not 5 * MB <= chunk <= 64 * MB:
        return "chunk_size must be between 5 MB and 64 MB"
    if count != size // chunk or not 1 <= count <= 1000:
        return "total_chunk_count must be video_size divided by chunk_size, rounded down"
    if size - chunk * (count - 1) > 128 * MB:
        return "the last chunk may hold at most 128 MB"
    return None


def main() -> None:
    serve(lambda latency: TikTokFake(latency=latency))


if __name__ == "__main__":
    main()
