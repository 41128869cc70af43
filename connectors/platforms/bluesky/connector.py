"""Bluesky: posts written to the account's repository over XRPC, never twice.

Idempotency rests on the record key. Each delivery's post is stored under a key derived from
the delivery (tid.py) with `createdAt` fixed to its due time, so every attempt writes
the same record at the same place:
1. `getRecord` at that key: if the post is there, an earlier attempt published it; done.
2. Otherwise images or the video are uploaded, the link card is fetched, and the record is
   written with
   `putRecord` and `swapRecord: null` ("only if there is no record yet"). On a real PDS a
   byte-identical record is a no-op answering the same cid, and a different one (the link card
   changed between two attempts) answers `InvalidSwap`: the post that went out is kept.
`createRecord` is not used: with a key that exists it fails with a bare 500.
An upload is not the post: a crash after uploading and before writing the record leaves an
unused blob, which the PDS forgets. The video service's job is kept per delivery (in the
channel's state folder), so the next attempt takes the processed video from that job instead
of sending the file again; if the PDS no longer has it by then, the attempt after sends it anew.

The PyPI `atproto` SDK is not used: seven XRPC calls do not justify its generated models, its
dependencies and its pin on httpx; it has no facet detection either.
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
import imagesize

from campaigns.length import measure
from campaigns.platforms import PLATFORMS
from campaigns.video import UnreadableVideo, probe
from connectors import linkcard
from connectors.base import (
    AuthFailed,
    Capabilities,
    ChannelAccess,
    CheckReport,
    Connector,
    Figures,
    FiguresUnavailable,
    MediaFile,
    PlatformBudget,
    PlatformRef,
    Post,
    Published,
    PublishError,
    Rejected,
    RetryLater,
)
from connectors.figures import count, figures_error
from connectors.http import build_client, epoch_reset, json_body, retry_after, send, send_safe, warm
from connectors.login import LoginIO
from connectors.platforms.bluesky.richtext import Facet, detect_facets
from connectors.platforms.bluesky.tid import tid_for
from connectors.platforms.bluesky.video import (
    FAILED,
    UPLOAD_MODES,
    VIDEO_SERVICE,
    check_limits,
    did_web,
    finished_blob,
    job_status,
    webvtt,
)
from connectors.ratelimits import header_budget, retry_time
from connectors.redaction import excerpt
from connectors.settings import settings_problems
from connectors.upload import Uploads, file_range, file_size

log = logging.getLogger("clarion.bluesky")

DEFAULT_PDS = "https://bsky.social"
POST = "app.bsky.feed.post"
RULES = PLATFORMS["bluesky"]
THUMB_MAX_BYTES = 1_000_000
CARD_SECONDS = 5.0
"""Time allowed for fetching a link card: the page and its image together."""
ALREADY = "already on Bluesky: an earlier attempt posted it"
APPVIEW_LAG = timedelta(minutes=5)
"""When to read again a post the AppView has not indexed yet (it follows the PDS by seconds,
by hours when it is catching up)."""
SERVICE_TOKEN_SECONDS = 30 * 60
"""How long the video service may use the upload's token (what Bluesky's docs recommend)."""
JOB_POLL_SECONDS = 1.0
JOB_WAIT_SECONDS = 300.0
"""How long one attempt waits for the video service to process a video, then gives up (the
next attempt finds the video processed: the service recognises it)."""

_AUTH_CODES = frozenset(
    {
        "AuthMissing",
        "AuthRequired",
        "AuthenticationRequired",
        "InvalidToken",
        "ExpiredToken",
        "AccountTakedown",
        "AccountDeactivated",
        "AuthFactorTokenRequired",
    }
)
_TRANSIENT_CODES = frozenset(
    {"UpstreamFailure", "UpstreamTimeout", "NotEnoughResources", "ConcurrentWrites"}
)
_APP_PASSWORD = re.compile(r"[a-z2-7]{4}(-[a-z2-7]{4}){3}")


@dataclass(slots=True)
class _Session:
    did: str
    handle: str
    access: str = field(repr=False)
    refresh: str = field(repr=False)
    pds: str | None
    """The account's own server, from its DID document (informational)."""


@dataclass(frozen=True, slots=True)
class _Image:
    content: bytes
    mime: str
    alt: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class _Video:
    path: Path
    alt: str
    size: int
    width: int
    height: int
    captions: bytes | None


class BlueskyConnector(Connector):
    platform: ClassVar[str] = "bluesky"
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=RULES, idempotency="record-key", lookup=True, figures=True
    )
    public_credentials: ClassVar[frozenset[str]] = frozenset({"identifier"})

    def __init__(self, config: ChannelAccess) -> None:
        super().__init__(config)
        problems = settings_problems(config)
        if problems:
            raise ValueError("; ".join(message for _, message in problems))
        self._identifier = config.credentials["identifier"]
        self._password = config.credentials["app_password"]
        self._client = build_client(config, DEFAULT_PDS)
        self._session: _Session | None = None
        self._service_tokens: deque[str] = deque(maxlen=4)
        """The latest service-auth tokens: each is a credential for half an hour."""
        self._budgets: dict[str, PlatformBudget] = {}
        self._link_cards = bool(config.options.get("link_cards", True))
        self._video_upload = str(config.options.get("video_upload", "service"))
        if self._video_upload not in UPLOAD_MODES:
            raise ValueError(
                f"options.video_upload is {self._video_upload!r}: write 'service' (through "
                "Bluesky's video service, the default) or 'blob' (straight to the account's "
                "server)"
            )
        video_service = str(config.options.get("video_service") or VIDEO_SERVICE)
        self._video_did = did_web(video_service)
        self._video_client = build_client(replace(config, base_url=video_service), VIDEO_SERVICE)
        self._uploads = Uploads(config.options.get("state_dir"), config.name, "bluesky", "Bluesky")

    # -- the contract --------------------------------------------------------------------

    def publish(self, post: Post) -> Published:
        _check_text(post.text)
        media = _checked_media(post.media)
        video = _read_video(media[0]) if media and media[0].mime.startswith("video/") else None
        images = [] if video else [_read_image(item) for item in media]
        reply = _reply(post)
        rkey = tid_for(post.key, post.due)
        existing = self._get_post(rkey)
        if existing:
            self._uploads.forget(post.key)
            return Published(existing, note=ALREADY)
        record = self._record(post, images, reply)
        if video:
            record["embed"] = self._video_embed(video, post.language, post.key)
        response = self._xrpc(
            "POST",
            "com.atproto.repo.putRecord",
            body={
                "repo": self._login().did,
                "collection": POST,
                "rkey": rkey,
                "record": record,
                "swapRecord": None,
            },
            creates=True,
            allow=frozenset({"InvalidSwap", "BlobNotFound"}),
        )
        if _error_code(response) == "BlobNotFound":
            self._uploads.forget(post.key)
            raise RetryLater(
                "the video processed for this post is no longer on the account's server; "
                "sending it again"
            )
        self._uploads.forget(post.key)
        if _error_code(response) == "InvalidSwap":
            existing = self._get_post(rkey)
            if existing:
                return Published(existing, note=ALREADY)
            raise RetryLater("the post's record changed on Bluesky while posting; trying again")
        data = response.json()
        return Published(self._ref(data["uri"], data["cid"]))

    def lookup(self, post: Post) -> PlatformRef | None:
        return self._get_post(tid_for(post.key, post.due))

    def figures(self, ref: PlatformRef) -> Figures:
        """Likes, reposts, replies and quotes as the AppView counts them: `getPosts`, asked
        of the account's PDS, which passes it on to its AppView. A post the AppView does not
        show is gone only if its record is gone from the repository; otherwise the AppView
        has not indexed it yet, and it is read again later."""
        uri = ref.extra.get("uri") or ref.id
        try:
            response = self._xrpc("GET", "app.bsky.feed.getPosts", params={"uris": uri})
            body = json_body(response)
            views = body.get("posts") if isinstance(body, dict) else None
            view = next(
                (v for v in views or () if isinstance(v, dict) and v.get("uri") == uri), None
            )
            if view is None:
                self._still_there(uri)
                raise RetryLater(
                    f"Bluesky's AppView does not show {uri} yet (it indexes new posts with a "
                    "delay)",
                    retry_at=datetime.now(UTC) + APPVIEW_LAG,
                )
        except PublishError as exc:  # a RetryLater stays one
            raise figures_error(exc) from None
        return Figures(
            likes=count(view.get("likeCount")),
            reposts=count(view.get("repostCount")),
            replies=count(view.get("replyCount")),
            quotes=count(view.get("quoteCount")),
        )

    def _still_there(self, uri: str) -> None:
        """Raise "gone" when the post's record is no longer in its repository."""
        repo, collection, rkey = [*uri.removeprefix("at://").split("/"), "", ""][:3]
        response = self._xrpc(
            "GET",
            "com.atproto.repo.getRecord",
            params={"repo": repo, "collection": collection, "rkey": rkey},
            allow=frozenset({"RecordNotFound"}),
        )
        if _error_code(response) == "RecordNotFound":
            raise FiguresUnavailable(f"the post {uri} was deleted from Bluesky", why="gone")

    def check(self) -> CheckReport:
        limits = {
            "max_graphemes": RULES.max_length,
            "max_bytes": RULES.max_bytes or 0,
            "max_images": RULES.max_media,
            "image_max_bytes": RULES.image_max_bytes,
            "video_max_bytes": RULES.video_max_bytes or 0,
        }
        try:
            data = self._xrpc("GET", "com.atproto.server.getSession").json()
        except PublishError as exc:
            return CheckReport(ok=False, limits=limits, problems=[exc.reason])
        problems = []
        if data.get("active") is False:
            problems.append(f"the Bluesky account is {data.get('status') or 'not active'}")
        session = self._login()
        account = f"@{data.get('handle', session.handle)} ({session.did}) on {self._pds_name()}"
        return CheckReport(
            ok=not problems,
            account=account,
            limits=limits,
            budgets=list(self._budgets.values()) + self._video_allowance(),
            problems=problems,
        )

    def _video_allowance(self) -> list[PlatformBudget]:
        """What the video service says the account may still upload today. Shown only: an
        unreachable video service or an account without video is not a broken channel (a
        held channel is released when its check is fine)."""
        if self._video_upload != "service":
            return []
        try:
            token = self._service_token(self._video_did, "app.bsky.video.getUploadLimits")
            response = self._video_call("GET", "app.bsky.video.getUploadLimits", token=token)
        except PublishError as exc:
            log.info("no video allowance to show: %s", exc.reason)
            return []
        limits = json_body(response)
        if not isinstance(limits, dict):
            return []
        if limits.get("canUpload") is False:
            return [PlatformBudget("videos per day (uploads refused now)", None, 0, None)]
        return [
            PlatformBudget(scope, None, limits[key], None)
            for scope, key in (
                ("videos per day", "remainingDailyVideos"),
                ("video bytes per day", "remainingDailyBytes"),
            )
            if isinstance(limits.get(key), int)
        ]

    def warm(self) -> None:
        warm(self._client)

    def close(self) -> None:
        self._client.close()
        self._video_client.close()

    # -- the record ----------------------------------------------------------------------

    def _record(self, post: Post, images: list[_Image], reply: dict[str, Any] | None) -> Any:
        record: dict[str, Any] = {
            "$type": POST,
            "text": post.text,
            "createdAt": _datetime(post.due),
        }
        facets = self._resolved(detect_facets(post.text))
        if facets:
            record["facets"] = [facet.as_json() for facet in facets]
        if post.language:
            record["langs"] = [post.language]
        if reply:
            record["reply"] = reply
        if images:
            record["embed"] = {
                "$type": "app.bsky.embed.images",
                "images": [self._image_embed(image) for image in images],
            }
        elif post.link and self._link_cards:
            card = self._card(post.link)
            if card:
                record["embed"] = {"$type": "app.bsky.embed.external", "external": card}
        return record

    def _resolved(self, facets: list[Facet]) -> list[Facet]:
        """Mentions carry the account's DID; a handle that resolves to none stays plain text."""
        dids: dict[str, str | None] = {}
        kept = []
        for facet in facets:
            if facet.kind == "mention":
                if facet.value not in dids:
                    dids[facet.value] = self._resolve_handle(facet.value)
                did = dids[facet.value]
                if did is None:
                    continue
                facet = replace(facet, value=did)
            kept.append(facet)
        return kept

    def _resolve_handle(self, handle: str) -> str | None:
        response = self._xrpc(
            "GET",
            "com.atproto.identity.resolveHandle",
            params={"handle": handle},
            allow=frozenset({"HandleNotFound", "InvalidRequest"}),
        )
        did = json_body(response) if response.is_success else None
        return str(did["did"]) if isinstance(did, dict) and did.get("did") else None

    def _image_embed(self, image: _Image) -> dict[str, Any]:
        embed: dict[str, Any] = {"alt": image.alt, "image": self._upload(image.content, image.mime)}
        if image.width > 0 and image.height > 0:
            embed["aspectRatio"] = {"width": image.width, "height": image.height}
        return embed

    def _video_embed(self, video: _Video, language: str | None, key: str) -> dict[str, Any]:
        embed: dict[str, Any] = {
            "$type": "app.bsky.embed.video",
            "video": self._upload_video(video, key),
            "alt": video.alt,
        }
        if video.width > 0 and video.height > 0:
            embed["aspectRatio"] = {"width": video.width, "height": video.height}
        if video.captions is not None:
            file = self._upload(video.captions, "text/vtt")
            embed["captions"] = [{"lang": language or "und", "file": file}]
        return embed

    def _upload_video(self, video: _Video, key: str) -> Any:
        """The processed video's blob: from the job of an earlier attempt at this delivery
        (of the same file) while the service still has it, else from a new upload."""
        if self._video_upload == "blob":
            return self._upload(video.path, "video/mp4")
        earlier, record = self._uploads.earlier(key, 0, video.path)
        status = self._job_status(earlier) if earlier else {}
        if not status or status.get("state") == FAILED:  # a failed job is not tried again
            status = self._send_video(video)
            if status.get("jobId"):
                record(str(status["jobId"]))
        return self._processed(status, video.path.name)

    def _send_video(self, video: _Video) -> Mapping[str, Any]:
        name = video.path.name
        limits = self._video_call(
            "GET",
            "app.bsky.video.getUploadLimits",
            token=self._service_token(self._video_did, "app.bsky.video.getUploadLimits"),
        )
        check_limits(json_body(limits), video.size, name)
        session = self._login()
        uploaded = self._video_call(
            "POST",
            "app.bsky.video.uploadVideo",
            params={"did": session.did, "name": name},
            token=self._service_token(did_web(self._pds_url()), "com.atproto.repo.uploadBlob"),
            upload=video,
            allow=frozenset({"already_exists"}),
        )
        return job_status(json_body(uploaded))

    def _processed(self, status: Mapping[str, Any], name: str) -> Any:
        """The blob once the job is done, asking after it every second for a while."""
        deadline = time.monotonic() + JOB_WAIT_SECONDS
        while True:
            blob = finished_blob(status, name)
            if blob is not None:
                return blob
            if not status.get("jobId"):
                raise RetryLater(f"Bluesky's video service gave no job for {name}")
            if time.monotonic() >= deadline:
                raise RetryLater(f"Bluesky's video service is still processing {name}")
            time.sleep(JOB_POLL_SECONDS)
            status = self._job_status(str(status["jobId"])) or status

    def _job_status(self, job: str) -> Mapping[str, Any]:
        """The job's status; empty when the service no longer knows the job."""
        answer = self._video_call(
            "GET",
            "app.bsky.video.getJobStatus",
            params={"jobId": job},
            allow=frozenset({"already_exists", "NotFound", "InvalidRequest"}),
        )
        if not answer.is_success and _error_code(answer) != "already_exists":
            return {}
        return job_status(json_body(answer))

    def _service_token(self, aud: str, lxm: str) -> str:
        """A token the PDS signs for the account, for one method of one service."""
        exp = int(time.time()) + SERVICE_TOKEN_SECONDS
        response = self._xrpc(
            "GET",
            "com.atproto.server.getServiceAuth",
            params={"aud": aud, "lxm": lxm, "exp": str(exp)},
        )
        token = str(response.json()["token"])
        self._service_tokens.append(token)
        return token

    def _video_call(
        self,
        method: str,
        nsid: str,
        *,
        params: Mapping[str, str] | None = None,
        token: str | None = None,
        upload: _Video | None = None,
        allow: frozenset[str] = frozenset(),
    ) -> httpx.Response:
        """A call to the video service. None of them can publish anything."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        content = None
        if upload is not None:
            sized, content = file_range(upload.path, 0, upload.size)
            headers |= sized | {"Content-Type": "video/mp4"}
        request = self._video_client.build_request(
            method, f"/xrpc/{nsid}", params=params, headers=headers, content=content
        )
        response = send_safe(self._video_client, request, "Bluesky's video service")
        code = _error_code(response)
        if response.is_success or (code is not None and code in allow):
            return response
        error = self._error(response)
        if isinstance(error, AuthFailed):
            # The token came from the account's server a moment ago, so the credentials work:
            # holding the channel would only release it at the next check and fail again.
            raise Rejected(
                f"Bluesky's video service refused the upload token ({error.reason}); with an "
                "account on its own server, set the channel's video_upload: blob",
                status=error.status,
                code=error.code,
            )
        raise error

    def _card(self, url: str) -> dict[str, Any] | None:
        deadline = time.monotonic() + CARD_SECONDS
        card = linkcard.fetch_card(url, timeout=CARD_SECONDS)
        if card is None:
            log.info("no link card for this post: the page gave none")
            return None
        external: dict[str, Any] = {
            "uri": url,
            "title": card.title,
            "description": card.description,
        }
        remaining = deadline - time.monotonic()
        thumb = None
        if card.image and remaining > 0:
            thumb = linkcard.fetch_image(card.image, timeout=remaining, max_bytes=THUMB_MAX_BYTES)
        if thumb:
            try:
                external["thumb"] = self._upload(thumb.content, thumb.mime)
            except Rejected as exc:
                log.info("link card without its image: %s", exc.reason)
        return external

    def _upload(self, content: bytes | Path, mime: str) -> Any:
        """A blob on the PDS: bytes, or a file sent from disk in bounded pieces."""
        response = self._xrpc(
            "POST", "com.atproto.repo.uploadBlob", content=content, content_type=mime
        )
        return response.json()["blob"]

    def _get_post(self, rkey: str) -> PlatformRef | None:
        response = self._xrpc(
            "GET",
            "com.atproto.repo.getRecord",
            params={"repo": self._login().did, "collection": POST, "rkey": rkey},
            allow=frozenset({"RecordNotFound"}),
        )
        if not response.is_success:
            return None
        data = response.json()
        return self._ref(data["uri"], str(data.get("cid") or ""))  # the lexicon: cid optional

    def _ref(self, uri: str, cid: str) -> PlatformRef:
        did = self._login().did
        rkey = uri.rsplit("/", 1)[-1]
        return PlatformRef(
            uri, f"https://bsky.app/profile/{did}/post/{rkey}", {"uri": uri, "cid": cid}
        )

    # -- sessions ------------------------------------------------------------------------

    def _pds_name(self) -> str:
        """The account's own server when its DID document names it, else the one we call."""
        return self._pds_url()

    def _pds_url(self) -> str:
        session = self._login()
        return session.pds or self.config.base_url or DEFAULT_PDS

    def _login(self) -> _Session:
        """The cached session, created once: createSession allows 30 calls per 5 minutes."""
        if self._session is None:
            body = {"identifier": self._identifier, "password": self._password}
            response = self._call("POST", "com.atproto.server.createSession", json=body)
            if _error_code(response) == "AuthenticationRequired":
                raise AuthFailed(
                    "Bluesky refused the identifier and app password: create a new app "
                    "password and update the channel's credentials",
                    status=response.status_code,
                    code="AuthenticationRequired",
                )
            if not response.is_success:
                raise self._error(response)
            self._session = _session(response.json())
        return self._session

    def _renew(self, session: _Session) -> None:
        """A fresh access token from the refresh token, or from a new login if that fails."""
        response = self._call(
            "POST",
            "com.atproto.server.refreshSession",
            headers={"Authorization": f"Bearer {session.refresh}"},
        )
        if response.is_success:
            self._session = _session(response.json(), previous=session)
            return
        if response.status_code == 429 or response.status_code >= 500:
            raise self._error(response)
        self._session = None
        self._login()

    # -- XRPC ----------------------------------------------------------------------------

    def _xrpc(
        self,
        method: str,
        nsid: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content: bytes | Path | None = None,
        content_type: str | None = None,
        creates: bool = False,
        allow: frozenset[str] = frozenset(),
    ) -> httpx.Response:
        """An authenticated call: a success, or an error whose code is in `allow`.

        An expired access token is renewed and the call made once more; a token the server
        does not accept leads to one new login first, then AuthFailed.
        """
        for attempt in (1, 2):
            session = self._login()
            headers = {"Authorization": f"Bearer {session.access}"}
            if content_type:
                headers["Content-Type"] = content_type
            data: bytes | Iterator[bytes] | None = (
                content if not isinstance(content, Path) else None
            )
            if isinstance(content, Path):  # sent from disk, read anew on each attempt
                sized, data = file_range(content, 0, file_size(content))
                headers |= sized
            response = self._call(
                method,
                nsid,
                params=params,
                json=body,
                content=data,
                headers=headers,
                creates=creates,
            )
            code = _error_code(response)
            if response.is_success or (code is not None and code in allow):
                return response
            if attempt == 1 and code == "ExpiredToken":
                self._renew(session)
                continue
            if attempt == 1 and (code in _AUTH_CODES or response.status_code == 401):
                self._session = None
                continue
            raise self._error(response)
        raise AssertionError("unreachable")

    def _call(
        self,
        method: str,
        nsid: str,
        *,
        creates: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        request = self._client.build_request(method, f"/xrpc/{nsid}", **kwargs)
        response = (send if creates else send_safe)(self._client, request, self.platform)
        budget = _budget(response)
        if budget:
            self._budgets[budget.scope] = budget
        return response

    def _error(self, response: httpx.Response) -> PublishError:
        status = response.status_code
        code = _error_code(response)
        reason = _describe(response)
        if status == 429 or code == "RateLimitExceeded":
            budget = _budget(response)
            retry_at = retry_time(
                [budget] if budget else [], retry_after(response.headers.get("Retry-After"))
            )
            return RetryLater(reason, retry_at=retry_at, status=status, code=code)
        if code in _AUTH_CODES or status in (401, 403):
            return AuthFailed(reason, status=status, code=code)
        if status >= 500 or code in _TRANSIENT_CODES:
            return RetryLater(reason, status=status, code=code)
        return Rejected(reason, status=status, code=code)

    def secrets(self) -> list[str]:
        session = [self._session.access, self._session.refresh] if self._session else []
        return super().secrets() + session + list(self._service_tokens)


def login(io: LoginIO, config: ChannelAccess) -> dict[str, str]:
    """Check a handle and app password with Bluesky; return them as the channel's credentials."""
    io.say(
        "Clarion signs in to Bluesky with an app password, never your main password.\n"
        "Create one in the Bluesky app: Settings > Privacy and security > App passwords >\n"
        "Add App Password (leave 'Allow access to your direct messages' off)."
    )
    identifier = io.ask("Handle (such as sayno.bsky.social) or e-mail").strip().removeprefix("@")
    password = io.ask("App password (xxxx-xxxx-xxxx-xxxx)", secret=True).strip()
    if not _APP_PASSWORD.fullmatch(password):
        io.say(
            "This does not look like an app password. It may still work, but an app password "
            "can be revoked on its own without changing your main password: please use one."
        )
    credentials = {"identifier": identifier, "app_password": password}
    connector = BlueskyConnector(replace(config, platform="bluesky", credentials=credentials))
    try:
        session = connector._login()
        where = connector._pds_name()
    finally:
        connector.close()
    io.say(f"Signed in as @{session.handle} ({session.did}), whose posts live on {where}.")
    return credentials


# -- checks made before anything is sent ---------------------------------------------------


def _check_text(text: str) -> None:
    _check_encodable(text, "the text")
    length = measure(text, RULES)
    if not length.fits:
        raise Rejected(
            f"the text is too long for Bluesky: {length.length} characters where "
            f"{length.limit} are allowed, {length.byte_length:,} bytes where "
            f"{length.byte_limit:,} are allowed"
        )


def _check_encodable(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Rejected(
            f"{what} holds a broken character (U+{ord(text[exc.start]):04X}) at position "
            f"{exc.start + 1}"
        ) from None


def _checked_media(media: tuple[MediaFile, ...]) -> tuple[MediaFile, ...]:
    videos = [item for item in media if item.mime.startswith("video/")]
    if videos and len(media) > 1:
        raise Rejected(
            f"{videos[0].path.name}: a Bluesky post holds one video and nothing else beside it"
        )
    if len(media) > RULES.max_media:
        raise Rejected(f"{len(media)} images; Bluesky allows {RULES.max_media} per post")
    for item in media:
        if item.mime not in RULES.media_types:
            raise Rejected(
                f"{item.path.name}: Bluesky takes images (JPEG, PNG, WebP) and MP4 videos, "
                f"not {item.mime}"
            )
    return media


def _read_video(media: MediaFile) -> _Video:
    name = media.path.name
    try:
        info = probe(media.path)
    except OSError as exc:
        raise Rejected(f"{name}: cannot read the file ({exc.strerror})") from None
    except UnreadableVideo as exc:
        raise Rejected(f"{name}: {exc}") from None
    if RULES.video_max_bytes is not None and info.size > RULES.video_max_bytes:
        raise Rejected(
            f"{name} is {info.size:,} bytes; Bluesky takes videos up to "
            f"{RULES.video_max_bytes:,} bytes"
        )
    _check_encodable(media.alt, f"the alt text of {name}")
    captions = webvtt(media.captions) if media.captions else None
    return _Video(media.path, media.alt, info.size, info.width, info.height, captions)


def _read_image(media: MediaFile) -> _Image:
    try:
        content = media.path.read_bytes()
    except OSError as exc:
        raise Rejected(f"{media.path.name}: cannot read the file ({exc.strerror})") from None
    if len(content) > RULES.image_max_bytes:
        raise Rejected(
            f"{media.path.name} is {len(content):,} bytes; Bluesky takes images up to "
            f"{RULES.image_max_bytes:,} bytes"
        )
    _check_encodable(media.alt, f"the alt text of {media.path.name}")
    width, height = imagesize.get(io.BytesIO(content))
    return _Image(content, media.mime, media.alt, width, height)


def _reply(post: Post) -> dict[str, Any] | None:
    if post.reply_to is None:
        return None
    return {
        "root": _strong_ref(post.thread_root or post.reply_to),
        "parent": _strong_ref(post.reply_to),
    }


def _strong_ref(ref: PlatformRef) -> dict[str, str]:
    uri, cid = ref.extra.get("uri"), ref.extra.get("cid")
    if not uri or not cid:
        raise Rejected(f"the post this one replies to ({ref.id}) has no Bluesky uri and cid")
    return {"uri": uri, "cid": cid}


# -- small helpers -------------------------------------------------------------------------


def _session(data: Mapping[str, Any], previous: _Session | None = None) -> _Session:
    return _Session(
        did=str(data["did"]),
        handle=str(data.get("handle") or (previous.handle if previous else "")),
        access=str(data["accessJwt"]),
        refresh=str(data["refreshJwt"]),
        pds=_pds(data.get("didDoc")) or (previous.pds if previous else None),
    )


def _pds(did_doc: Any) -> str | None:
    if not isinstance(did_doc, dict):
        return None
    for service in did_doc.get("service") or ():
        if isinstance(service, dict) and str(service.get("id", "")).endswith("#atproto_pds"):
            return str(service.get("serviceEndpoint") or "") or None
    return None


def _error_code(response: httpx.Response) -> str | None:
    if response.is_success:
        return None
    body = json_body(response)
    code = body.get("error") if isinstance(body, dict) else None
    return str(code) if code else None


def _describe(response: httpx.Response) -> str:
    body = json_body(response)
    code = _error_code(response) or f"HTTP {response.status_code}"
    message = body.get("message") if isinstance(body, dict) else None
    return f"Bluesky: {code}: {excerpt(str(message), 300)}" if message else f"Bluesky: {code}"


def _datetime(when: datetime) -> str:
    """atproto's preferred datetime form: UTC, milliseconds, `Z`."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _budget(response: httpx.Response) -> PlatformBudget | None:
    headers = response.headers
    scope = _scope(headers.get("RateLimit-Policy"), headers.get("RateLimit-Limit"))
    return header_budget(headers, "ratelimit", scope, epoch_reset)


def _scope(policy: str | None, limit: str | None) -> str:
    """`RateLimit-Policy: 3000;w=300` -> "3000 per 5 min"."""
    window = re.search(r"w=(\d+)", policy or "")
    if not window:
        return f"{limit} per window"
    seconds = int(window.group(1))
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{limit} per {seconds // size} {unit}"
    return f"{limit} per {seconds} s"
