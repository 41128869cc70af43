"""A YouTube Data API v3 fake, with Google's OAuth endpoints: `python -m
connectors.platforms.youtube.fake` serves it.

It plays what the documentation describes: the authorization endpoint (which approves at
once and redirects to the loopback address with a code, checked later against the PKCE
verifier), the token endpoint (codes and refresh tokens for access tokens that expire),
resumable upload sessions (`308 Resume Incomplete` with a `Range` header until the last byte
arrives, then the video; `Content-Range: bytes */SIZE` asks for the progress), captions and
thumbnails, comment threads, the channel and its uploads playlist, and the daily quota with
Google's JSON error shape. It counts uploaded bytes and hashes them; it keeps no file.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

from connectors.base import ChannelAccess
from connectors.fakes.cli import serve
from connectors.fakes.params import params
from connectors.fakes.server import FakePlatform, Made, Request, Response
from connectors.platforms.youtube.quota import COST

CLIENT_ID = "1234567890-clarion.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-fake-youtube-client-secret"
REFRESH_TOKEN = "1//fake-youtube-refresh-token"
CHANNEL_ID = "UCsayno0000000000000000"
UPLOADS = "UU" + CHANNEL_ID[2:]
SCOPE = "https://www.googleapis.com/auth/youtube.force-ssl"


def google_error(status: int, reason: str, message: str, domain: str = "youtube") -> Response:
    """An error as the YouTube Data API answers it."""
    return Response(
        status,
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": domain, "reason": reason}],
            }
        },
    )


def quota_exceeded() -> Response:
    return google_error(
        403,
        "quotaExceeded",
        "The request cannot be completed because you have exceeded your "
        '<a href="/youtube/v3/getting-started#quota">quota</a>.',
        "youtube.quota",
    )


@dataclass
class Session:
    metadata: dict[str, Any]
    size: int
    mime: str
    received: int = 0
    digest: Any = field(default_factory=hashlib.sha256)
    video: str | None = None


class YouTubeFake(FakePlatform):
    error_text_fields: ClassVar[tuple[str, ...]] = ("message", "error_description")
    publish_route: ClassVar[tuple[str, str]] = ("PUT", r"/upload/youtube/v3/videos")

    def __init__(self, *, latency: float = 0.0, token_lifetime: int = 3599) -> None:
        self.client_id, self.client_secret = CLIENT_ID, CLIENT_SECRET
        self.refresh_tokens = {REFRESH_TOKEN}
        self.token_lifetime = token_lifetime
        self.access: dict[str, float] = {}
        """Access token to the time.monotonic() it expires at."""
        self.codes: dict[str, dict[str, str]] = {}
        """Authorization code to its client, redirect address and PKCE challenge."""
        self.sessions: dict[str, Session] = {}
        self.videos: list[dict[str, Any]] = []
        """Video resources in upload order, with `_bytes`, `_sha256` and `_mime`."""
        self.captions: list[dict[str, Any]] = []
        self.thumbnails: dict[str, tuple[str, int]] = {}
        """Video id to the thumbnail's type and size."""
        self.comments: list[dict[str, Any]] = []
        self.units_per_day = 10_000
        self.uploads_per_day = 100
        self.units = 0
        self.uploads = 0
        self.long_uploads = "allowed"
        self._ids = itertools.count(1)
        super().__init__(latency=latency)

    # -- the contract of every fake ----------------------------------------------------

    def channel(self) -> ChannelAccess:
        return ChannelAccess(
            "youtube-main",
            "youtube",
            credentials={
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "refresh_token": REFRESH_TOKEN,
            },
            base_url=self.base_url,
            options={"made_for_kids": False},
            timeout=2.0,
        )

    def throttle(self, until: datetime) -> Response:
        """A short-term limit (`rateLimitExceeded`, 429) with the wait in Retry-After, as
        Google's front ends send it; the daily quota has its own answer (quota_exceeded)."""
        seconds = max(0, round((until - datetime.now(UTC)).total_seconds()))
        response = google_error(
            429, "rateLimitExceeded", "The request cannot be completed: rate limit exceeded."
        )
        return Response(response.status, response.body, {"Retry-After": str(seconds)})

    def revoke(self) -> None:
        with self.lock:
            self.refresh_tokens.clear()
            self.access.clear()

    def published(self) -> list[Made]:
        with self.lock:
            made = [
                (v["_at"], Made(v["snippet"]["description"], (v["_mime"],), None))
                for v in self.videos
            ]
            made += [(c["_at"], Made(c["text"], (), c["videoId"])) for c in self.comments]
        return [m for _, m in sorted(made, key=lambda pair: pair[0])]

    # -- helpers for tests ---------------------------------------------------------------

    def video(self, video_id: str) -> dict[str, Any]:
        return next(v for v in self.videos if v["id"] == video_id)

    def expire_sessions(self) -> None:
        """Google forgets upload sessions after about a week."""
        with self.lock:
            self.sessions.clear()

    def routes(self) -> None:
        self.route("GET", r"/o/oauth2/v2/auth", self._authorize)
        self.route("POST", r"/token", self._token)
        self.route("POST", r"/upload/youtube/v3/videos", self._open)
        self.route("PUT", r"/upload/youtube/v3/videos", self._chunk)
        self.route("POST", r"/upload/youtube/v3/captions", self._caption)
        self.route("POST", r"/upload/youtube/v3/thumbnails/set", self._thumbnail)
        self.route("GET", r"/youtube/v3/channels", self._channels)
        self.route("GET", r"/youtube/v3/playlistItems", self._playlist)
        self.route("GET", r"/youtube/v3/videos", self._videos)
        self.route("POST", r"/youtube/v3/commentThreads", self._comment)
        self.route("GET", r"/youtube/v3/commentThreads", self._comments)

    # -- OAuth ---------------------------------------------------------------------------

    def _authorize(self, request: Request) -> Response:
        query = {k: v[-1] for k, v in request.query.items()}
        redirect = query.get("redirect_uri", "")
        host = urlsplit(redirect).hostname
        if query.get("client_id") != self.client_id:
            return Response(400, "Error 401: invalid_client. The OAuth client was not found.")
        if host not in ("127.0.0.1", "::1", "localhost") or query.get("response_type") != "code":
            return Response(400, "Error 400: invalid_request. redirect_uri must be a loopback")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return Response(400, "Error 400: invalid_request. code_challenge is required")
        code = "4/fake-" + secrets.token_urlsafe(12)
        self.codes[code] = {"redirect": redirect, "challenge": query["code_challenge"]}
        back = {"code": code, "scope": query.get("scope", ""), "state": query.get("state", "")}
        return Response(302, "", {"Location": f"{redirect}?{urlencode(back)}"})

    def _token(self, request: Request) -> Response:
        form = params(request)
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return self._oauth_error(401, "invalid_client", "The OAuth client was not found.")
        grant = form.get("grant_type")
        refresh = None
        if grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return self._oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        elif grant == "authorization_code":
            found = self.codes.pop(str(form.get("code")), None)
            verifier = str(form.get("code_verifier") or "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            if (
                found is None
                or found["redirect"] != form.get("redirect_uri")
                or found["challenge"] != challenge.rstrip(b"=").decode()
            ):
                return self._oauth_error(400, "invalid_grant", "Bad Request")
            refresh = "1//fake-" + secrets.token_urlsafe(16)
            self.refresh_tokens.add(refresh)
        else:
            return self._oauth_error(400, "unsupported_grant_type", "Invalid grant_type")
        token = "ya29.fake-" + secrets.token_urlsafe(16)
        self.access[token] = time.monotonic() + self.token_lifetime
        body: dict[str, Any] = {
            "access_token": token,
            "expires_in": self.token_lifetime,
            "scope": SCOPE,
            "token_type": "Bearer",
        }
        if refresh is not None:
            body["refresh_token"] = refresh
        return Response(200, body)

    @staticmethod
    def _oauth_error(status: int, error: str, description: str) -> Response:
        return Response(status, {"error": error, "error_description": description})

    def _refused(self, request: Request) -> Response | None:
        """The API's answer to a request without a valid access token, if it has none."""
        auth = request.header("authorization") or ""
        token = auth.removeprefix("Bearer ")
        if self.access.get(token, 0.0) > time.monotonic():
            return None
        return google_error(
            401,
            "authError",
            "Request had invalid authentication credentials. Expected OAuth 2 access token.",
            "global",
        )

    def _spend(self, method: str) -> Response | None:
        """Count the call; quotaExceeded once the day's quota is spent."""
        if method == "videos.insert":
            if self.uploads >= self.uploads_per_day:
                return quota_exceeded()
            self.uploads += 1
            return None
        if self.units + COST[method] > self.units_per_day:
            self.units = self.units_per_day
            return quota_exceeded()
        self.units += COST[method]
        return None

    # -- uploads -------------------------------------------------------------------------

    def _open(self, request: Request) -> Response:
        refused = self._refused(request) or self._spend("videos.insert")
        if refused:
            return refused
        if request.query.get("uploadType") != ["resumable"]:
            return google_error(400, "invalidUploadType", "Only resumable uploads here")
        metadata = request.json() or {}
        snippet, status = metadata.get("snippet") or {}, metadata.get("status") or {}
        title, description = str(snippet.get("title") or ""), str(snippet.get("description") or "")
        tags = [str(t) for t in snippet.get("tags") or []]
        if not title or len(title) > 100 or re.search("[<>]", title):
            return google_error(
                400, "invalidTitle", "The request metadata specifies an invalid video title."
            )
        if len(description.encode()) > 5000 or re.search("[<>]", description):
            return google_error(
                400,
                "invalidDescription",
                "The request metadata specifies an invalid video description.",
            )
        if sum(len(t) + 2 * (" " in t) for t in tags) + max(0, len(tags) - 1) > 500:
            return google_error(
                400, "invalidTags", "The request metadata specifies invalid video keywords."
            )
        if status.get("privacyStatus", "public") not in ("public", "unlisted", "private"):
            return google_error(400, "invalidVideoMetadata", "The request metadata is invalid.")
        size = int(request.header("x-upload-content-length") or -1)
        mime = request.header("x-upload-content-type") or "application/octet-stream"
        if size <= 0 or (not mime.startswith("video/") and mime != "application/octet-stream"):
            return google_error(
                400, "mediaBodyRequired", "The request does not include the video content."
            )
        upload = secrets.token_urlsafe(24)
        self.sessions[upload] = Session(metadata, size, mime)
        target = request.target.split("?")[0]
        query = urlencode(
            {"uploadType": "resumable", "part": "snippet,status", "upload_id": upload}
        )
        return Response(200, None, {"Location": f"{self.base_url}{target}?{query}"})

    def _chunk(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused:
            return refused
        session = self.sessions.get((request.query.get("upload_id") or [""])[0])
        if session is None:
            return google_error(404, "notFound", "The upload session was not found or expired.")
        if session.video is not None:
            return Response(200, self._public(self.video(session.video)))
        found = re.fullmatch(r"bytes (\*|(\d+)-(\d+))/(\d+)", request.header("content-range") or "")
        if found is None or int(found[4]) != session.size:
            return google_error(400, "badContent", "Content-Range does not match the upload.")
        if found[1] != "*":
            start, end = int(found[2]), int(found[3])
            if start != session.received or end - start + 1 != len(request.body):
                return google_error(
                    400, "badContent", "Content-Range does not follow the bytes received."
                )
            session.digest.update(request.body)
            session.received = end + 1
            request.body = b""  # the fake keeps no file (its requests stay on record)
        if session.received < session.size:
            headers = {"Range": f"bytes=0-{session.received - 1}"} if session.received else {}
            return Response(308, None, headers)
        session.video = self._create(session)
        return Response(200, self._public(self.video(session.video)))

    def _create(self, session: Session) -> str:
        video_id = f"vid{next(self._ids):08d}"
        snippet = dict(session.metadata.get("snippet") or {})
        status = {"privacyStatus": "public", **(session.metadata.get("status") or {})}
        status["uploadStatus"] = "uploaded"
        status["madeForKids"] = bool(status.get("selfDeclaredMadeForKids"))
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        snippet.update({"publishedAt": now, "channelId": CHANNEL_ID, "channelTitle": "SayNo"})
        self.videos.append(
            {
                "kind": "youtube#video",
                "id": video_id,
                "snippet": snippet,
                "status": status,
                "statistics": {"viewCount": "0", "likeCount": "0", "commentCount": "0"},
                "_bytes": session.received,
                "_sha256": session.digest.hexdigest(),
                "_mime": session.mime,
                "_at": time.monotonic(),
            }
        )
        return video_id

    @staticmethod
    def _public(video: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in video.items() if not k.startswith("_")}

    def _caption(self, request: Request) -> Response:
        refused = self._refused(request) or self._spend("captions.insert")
        if refused:
            return refused
        kind = request.header("content-type") or ""
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + kind.encode() + b"\r\n\r\n" + request.body
        )
        parts = list(message.iter_parts()) if message.is_multipart() else []
        if len(parts) != 2:
            return google_error(
                400, "mediaBodyRequired", "captions.insert needs metadata and a file"
            )
        head = parts[0].get_payload(decode=True)
        metadata = json.loads(head if isinstance(head, bytes) else b"{}")
        snippet = metadata.get("snippet") or {}
        if not any(v["id"] == snippet.get("videoId") for v in self.videos):
            return google_error(404, "videoNotFound", "The video could not be found.")
        content = parts[1].get_payload(decode=True)
        content = content if isinstance(content, bytes) else b""
        if not content.lstrip().startswith((b"WEBVTT", b"1")):
            return google_error(400, "contentRequired", "The caption track is not valid.")
        caption = {"id": f"cap{next(self._ids)}", "snippet": snippet, "_bytes": content}
        self.captions.append(caption)
        return Response(200, {"kind": "youtube#caption", "id": caption["id"], "snippet": snippet})

    def _thumbnail(self, request: Request) -> Response:
        refused = self._refused(request) or self._spend("thumbnails.set")
        if refused:
            return refused
        video_id = (request.query.get("videoId") or [""])[0]
        if not any(v["id"] == video_id for v in self.videos):
            return google_error(404, "videoNotFound", "The video could not be found.")
        if len(request.body) > 2 * 1024 * 1024:
            return google_error(400, "mediaBodyTooLarge", "The thumbnail image is too large.")
        self.thumbnails[video_id] = (request.header("content-type") or "", len(request.body))
        return Response(200, {"kind": "youtube#thumbnailSetResponse", "items": [{}]})

    # -- reads ---------------------------------------------------------------------------

    def _channels(self, request: Request) -> Response:
        refused = self._refused(request) or self._spend("channels.list")
        if refused:
            return refused
        channel = {
            "kind": "youtube#channel",
            "id": CHANNEL_ID,
            "snippet": {"title": "SayNo Campaign", "customUrl": "@saynocampaign"},
            "contentDetails": {"relatedPlaylists": {"uploads": UPLOADS}},
            "status": {"longUploadsStatus": self.long_uploads, "privacyStatus": "public"},
        }
        return Response(200, {"kind": "youtube#channelListResponse", "items": [channel]})

    def _playlist(self, request: Request) -> Response:
        refused = self._refused(request) or self._spend("playlistItems.list")
        if refused:
            return refused
        if request.query.get("playlistId") != [UPLOADS]:
            return google_error(404, "playlistNotFound", "The playlist could not be found.")
        limit = int((request.query.get("maxResults") or ["5"])[0])
        newest = list(reversed(self.videos))[:limit]
        items = [
            {
                "kind": "youtube#playlistItem",
                "snippet": {
                    "publishedAt": v["snippet"]["publishedAt"],
                    "title": v["snippet"]["title"],
                    "resourceId": {"kind": "youtube#video", "videoId": v["id"]},
                },
            }
            for v in newest
        ]
        return Response(200, {"kind": "youtube#playlistItemListResponse", "items": items})

    def _videos(self, request: Request) -> Response:
        refused = self._refused(request) or self._spend("videos.list")
        if refused:
            return refused
        wanted = ",".join(request.query.get("id") or []).split(",")
        parts = ",".join(request.query.get("part") or []).split(",")
        items = [
            {"kind": "youtube#video", "id": v["id"], **{p: v[p] for p in parts if p in v}}
            for v in self.videos
            if v["id"] in wanted
        ]
        return Response(200, {"kind": "youtube#videoListResponse", "items": items})

    def _comment(self, request: Request) -> Response:
        refused = self._refused(request) or self._spend("commentThreads.insert")
        if refused:
            return refused
        snippet = (request.json() or {}).get("snippet") or {}
        video_id = snippet.get("videoId")
        if not any(v["id"] == video_id for v in self.videos):
            return google_error(404, "videoNotFound", "The video could not be found.")
        text = str(snippet.get("topLevelComment", {}).get("snippet", {}).get("textOriginal", ""))
        thread = f"Ug{next(self._ids):010d}"
        self.comments.append(
            {"id": thread, "videoId": video_id, "text": text, "_at": time.monotonic()}
        )
        for video in self.videos:
            if video["id"] == video_id:
                statistics = video["statistics"]
                statistics["commentCount"] = str(int(statistics["commentCount"]) + 1)
        return Response(200, self._comment_thread(self.comments[-1]))

    @staticmethod
    def _comment_thread(comment: dict[str, Any]) -> dict[str, Any]:
        top = {"textOriginal": comment["text"], "textDisplay": comment["text"]}
        return {
            "kind": "youtube#commentThread",
            "id": comment["id"],
            "snippet": {
                "videoId": comment["videoId"],
                "topLevelComment": {"id": comment["id"], "snippet": top},
            },
        }

    def _comments(self, request: Request) -> Response:
        refused = self._refused(request) or self._spend("commentThreads.list")
        if refused:
            return refused
        video_id = (request.query.get("videoId") or [""])[0]
        items = [
            self._comment_thread(c) for c in reversed(self.comments) if c["videoId"] == video_id
        ]
        return Response(200, {"kind": "youtube#commentThreadListResponse", "items": items})


def main() -> None:
    serve(lambda latency: YouTubeFake(latency=latency))


if __name__ == "__main__":
    main()
