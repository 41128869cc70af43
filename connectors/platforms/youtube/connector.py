"""YouTube through the Data API v3: each post is one video, uploaded with `videos.insert`
and Google's resumable upload protocol; a thread's later parts are comments on it.

The post's first line is the video's title and its whole text the description; its hashtags
are the video's tags. The channel says whether its videos are made for children
(`options.made_for_kids`, required: nothing is uploaded without it), and may set
`options.privacy` (public, unlisted, private) and `options.category_id`.

Never twice. The upload is not the post until its last byte arrives: YouTube creates the
video when the upload completes, and not before. So:

1. Before any byte of the file is sent, the upload session's address (which Google keeps
   for about a week) is written to the channel's state file (connectors.deliverystate). A
   write that fails stops the publish: nothing was sent.
2. The file goes in chunks of a multiple of 256 KiB, streamed from disk. When a chunk fails
   (a dropped connection, a time-out, a 5xx), the session is asked how much it holds
   (`Content-Range: bytes */SIZE`) and the upload goes on from there; if it holds everything,
   its answer is the video. An attempt that gives up leaves the session on file, and the
   next attempt, or a look-up after a crash, starts by asking it the same question.
3. Each video carries a tag made from the delivery key (`clarion-…`, not shown to viewers).
   When the session is gone (expired, or the state file lost), the channel's latest uploads
   are searched for that tag before anything is uploaded again.

So a repeat finds the video of an earlier attempt instead of making a second one, as long as
either the state file or the tag can be read: the only gap is a state file lost while
YouTube's answer to the last chunk was lost too and the channel uploaded more than 50 videos
since (the search reads the latest 50). Without a state folder (`options.state_dir`), a
last chunk whose answer was lost is "unknown" and looked up, never sent blindly again.

Quota: see connectors.platforms.youtube.quota. A publish that today's quota cannot finish
waits for the daily reset instead of starting.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx

from campaigns.length import hashtags
from connectors.base import (
    Ambiguous,
    AuthFailed,
    Capabilities,
    ChannelAccess,
    CheckReport,
    Connector,
    Figures,
    FiguresUnavailable,
    LookupUnavailable,
    MediaFile,
    PlatformRef,
    Post,
    Published,
    PublishError,
    Rejected,
    RetryLater,
)
from connectors.deliverystate import DeliveryState
from connectors.figures import count, figures_error
from connectors.http import build_client, json_body, send, send_safe
from connectors.platforms.youtube import PLATFORM
from connectors.platforms.youtube.errors import classify
from connectors.platforms.youtube.oauth import SCOPE, AccessTokens
from connectors.platforms.youtube.quota import UNITS_PER_DAY, UPLOAD, UPLOADS_PER_DAY, Quota
from connectors.upload import file_range, file_size

API = "https://www.googleapis.com"
WATCH = "https://www.youtube.com/watch?v="
GRANULE = 256 * 1024
"""Every chunk but the last is a multiple of this (the protocol's rule)."""
TITLE_MAX = 100
TAGS_MAX = 500
MARKER = "clarion-"
"""The tag that names the delivery: MARKER and 16 hexadecimal digits of its key."""
LOOKUP_COUNT = 50
LOOKUP_SLACK = timedelta(hours=1)
EARLIER = "uploaded by an earlier attempt"
PRIVACY = ("public", "unlisted", "private")
CATEGORY = "22"
"""People & Blogs, YouTube's own default; `options.category_id` chooses another."""

Sending = Literal["safe", "creates", "raw"]
Build = Callable[[dict[str, str]], httpx.Request]


def made_for_kids(options: Mapping[str, Any]) -> bool | None:
    """`options.made_for_kids` as a yes or no; None when it is missing or not one."""
    value = options.get("made_for_kids")
    return value if isinstance(value, bool) else None


MADE_FOR_KIDS = (
    "options.made_for_kids must be true or false: say whether this channel's videos are made "
    "for children. The law (COPPA) and YouTube's terms require it for every video, and "
    "Clarion never guesses it (docs/platforms/youtube.md)"
)


def title_of(text: str) -> str:
    """The video's title: the text's first line that is not blank."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def marker(post: Post) -> str:
    return MARKER + post.idempotency_key[:16]


def tags_of(post: Post) -> list[str]:
    """The text's hashtags, each once, then the delivery's marker; hashtags that would take
    the total past YouTube's 500 characters are left out (the plan check warns first)."""
    found: list[str] = []
    for tag in hashtags(post.text):
        if tag.lower() not in (t.lower() for t in found):
            found.append(tag)
    kept: list[str] = []
    for tag in found:
        if tags_length([*kept, tag, marker(post)]) <= TAGS_MAX:
            kept.append(tag)
    return [*kept, marker(post)]


def tags_length(tags: list[str]) -> int:
    """As YouTube counts it: the commas between tags count, and a tag with a space counts as
    if it were in quotation marks."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)


def video_ref(video: str) -> PlatformRef:
    return PlatformRef(video, WATCH + video)


class YouTubeConnector(Connector):
    platform: ClassVar[str] = "youtube"
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORM.rules, idempotency="container", lookup=True, figures=True
    )
    chunk: ClassVar[int] = 32 * GRANULE
    """Bytes per upload request (8 MiB): how much is sent again when one fails."""
    resumes: ClassVar[int] = 3
    """Failed chunks one attempt resumes after before it leaves the rest to the next."""

    def __init__(self, config: ChannelAccess) -> None:
        super().__init__(config)
        state = config.options.get("state_dir")
        folder = Path(state) if state else None
        self._state = DeliveryState(folder, config.name, "youtube", "YouTube")
        self._quota = Quota(
            folder,
            config.credentials["client_id"],
            units=int(config.options.get("quota_units") or UNITS_PER_DAY),
            uploads=int(config.options.get("quota_uploads") or UPLOADS_PER_DAY),
        )
        self._kids = made_for_kids(config.options)
        self._privacy = str(config.options.get("privacy") or "public")
        self._category = str(config.options.get("category_id") or CATEGORY)
        self._client = build_client(config, API)
        self._tokens = AccessTokens(self._client, config)

    def secrets(self) -> list[str]:
        return [*super().secrets(), *self._tokens.issued]

    # -- publishing ---------------------------------------------------------------------

    def publish(self, post: Post) -> Published:
        root = post.thread_root or post.reply_to
        if root is not None:
            return self._comment(post, root)
        media = self._video(post)
        entry = self._state.get(post.key) or {}
        video = entry.get("video")
        earlier = video is not None
        if video is None:
            video, earlier = self._upload(post, media, entry)
        notes = self._extras(post, media, video)
        if earlier:
            notes.insert(0, EARLIER)
        return Published(video_ref(video), "; ".join(notes) or None)

    def _video(self, post: Post) -> MediaFile:
        if self._kids is None:
            raise AuthFailed(MADE_FOR_KIDS)
        if self._privacy not in PRIVACY:
            raise AuthFailed(
                f"options.privacy is '{self._privacy}': write public, unlisted or private"
            )
        videos = [m for m in post.media if m.mime.startswith("video/")]
        if len(post.media) != 1 or not videos:
            raise Rejected("a YouTube post is one video: give the post exactly one video file")
        title = title_of(post.text)
        if not title:
            raise Rejected("a YouTube video needs a title: the text's first line is its title")
        if len(title) > TITLE_MAX:
            raise Rejected(
                f"the title (the text's first line) is {len(title)} characters; YouTube "
                f"allows {TITLE_MAX}"
            )
        if "<" in post.text or ">" in post.text:
            raise Rejected("YouTube refuses '<' and '>' in a video's title and description")
        return videos[0]

    def _upload(self, post: Post, media: MediaFile, entry: dict[str, str]) -> tuple[str, bool]:
        """The video's id, and whether an earlier attempt had made it."""
        size = file_size(media.path)
        session = entry.get("session")
        if session is not None:
            done, offset = self._progress(session, size, final=True)
            if done is not None:
                return self._made(post, done), True
            if offset is None:  # the session is gone: did it make the video?
                found = self._search(post)
                if found is not None:
                    self._state.note(post.key, video=found)
                    return found, True
                self._state.forget(post.key)
                session = None
        if session is None:
            calls = self._calls(post, media)
            self._quota.afford(calls, _now(), "uploading this video")
            session = self._start(post, media, size)
            self._state.put(post.key, session=session)
            offset = 0
        assert offset is not None
        return self._made(post, self._send(session, media, size, offset)), False

    def _made(self, post: Post, video: str) -> str:
        self._state.note(post.key, video=video)
        return video

    def _calls(self, post: Post, media: MediaFile) -> dict[str, int]:
        """What publishing this post costs, method by method."""
        calls = {UPLOAD: 1}
        if media.captions is not None and self._caption_language(post):
            calls["captions.insert"] = 1
        if media.thumbnail is not None:
            calls["thumbnails.set"] = 1
        return calls

    def _start(self, post: Post, media: MediaFile, size: int) -> str:
        """Open an upload session (`videos.insert`, resumable); nothing is made yet."""
        snippet: dict[str, Any] = {
            "title": title_of(post.text),
            "description": post.text,
            "tags": tags_of(post),
            "categoryId": self._category,
        }
        if post.language:
            snippet["defaultLanguage"] = post.language
            snippet["defaultAudioLanguage"] = post.language
        metadata = {
            "snippet": snippet,
            "status": {"privacyStatus": self._privacy, "selfDeclaredMadeForKids": self._kids},
        }

        def build(auth: dict[str, str]) -> httpx.Request:
            return self._client.build_request(
                "POST",
                "/upload/youtube/v3/videos",
                params={"uploadType": "resumable", "part": "snippet,status"},
                json=metadata,
                headers={
                    **auth,
                    "X-Upload-Content-Length": str(size),
                    "X-Upload-Content-Type": media.mime,
                },
            )

        response = self._exchange(build, UPLOAD)
        if response.status_code != 200:
            raise self._error(response)
        location = str(response.headers.get("location") or "")
        if not location:
            raise RetryLater("YouTube opened no upload session (its answer had no Location)")
        if not self._trusted(httpx.URL(location)):
            raise Rejected(
                f"YouTube gave an upload address on {httpx.URL(location).host}; the channel's "
                "access is sent only to googleapis.com"
            )
        return location

    def _send(self, session: str, media: MediaFile, size: int, offset: int) -> str:
        """Send the file from `offset` on, resuming after failed chunks; the video's id."""
        failures = 0
        while True:
            end = min(size, offset + self.chunk)
            reason = None
            try:
                response = self._exchange(self._chunk(session, media, offset, end, size), None)
            except httpx.HTTPError as exc:
                response, reason = None, type(exc).__name__
            if response is not None:
                if response.status_code in (200, 201):
                    return _video_id(response)
                if response.status_code == 308:
                    offset = _received(response)
                    failures = 0
                    continue
                if response.status_code < 500 and response.status_code not in (404, 410):
                    raise self._error(response)
                reason = f"HTTP {response.status_code}"
            failures += 1
            final = end == size
            done, offset_now = self._progress(session, size, final=final, cause=reason)
            if done is not None:
                return done
            if offset_now is None:
                raise RetryLater(
                    "YouTube dropped the upload session; the next attempt looks for the video "
                    "among the channel's uploads before uploading it again"
                )
            offset = offset_now
            if failures > self.resumes:
                raise RetryLater(
                    f"the upload failed {failures} times ({reason}); it goes on from byte "
                    f"{offset} of {size} at the next attempt"
                )

    def _chunk(self, session: str, media: MediaFile, start: int, end: int, size: int) -> Build:
        def build(auth: dict[str, str]) -> httpx.Request:
            headers, body = file_range(media.path, start, end)
            return self._client.build_request(
                "PUT",
                session,
                content=body,
                headers={
                    **auth,
                    **headers,
                    "Content-Type": media.mime,
                    "Content-Range": f"bytes {start}-{end - 1}/{size}",
                },
            )

        return build

    def _progress(
        self, session: str, size: int, *, final: bool, cause: str | None = None
    ) -> tuple[str | None, int | None]:
        """Ask the session what it holds: (the video's id, None) when complete, (None, the
        next byte) when not, (None, None) when the session is gone.

        When even the question fails, the last chunk may have made the video: with the
        session on file the next attempt asks again (RetryLater); without a state folder
        nothing would ask, so the delivery is unknown instead (Ambiguous)."""

        def build(auth: dict[str, str]) -> httpx.Request:
            headers = {**auth, "Content-Range": f"bytes */{size}", "Content-Length": "0"}
            return self._client.build_request("PUT", session, headers=headers)

        try:
            response = self._exchange(build, None)
        except httpx.HTTPError as exc:
            return self._unanswered(type(exc).__name__, final, cause)
        if response.status_code in (200, 201):
            return _video_id(response), None
        if response.status_code == 308:
            return None, _received(response)
        if response.status_code in (404, 410):
            return None, None
        if response.status_code >= 500:
            return self._unanswered(f"HTTP {response.status_code}", final, cause)
        raise self._error(response)

    def _unanswered(self, what: str, final: bool, cause: str | None) -> tuple[None, None]:
        before = f" after {cause}" if cause else ""
        if final and not self._state.durable:
            raise Ambiguous(
                f"YouTube did not say whether the upload completed ({what}{before}), and "
                "without a state folder Clarion cannot ask again later: the video may exist"
            )
        raise RetryLater(
            f"YouTube did not say how much of the upload it holds ({what}{before}); the next "
            "attempt asks again before sending anything"
        )

    def _extras(self, post: Post, media: MediaFile, video: str) -> list[str]:
        """Captions and thumbnail, once the video exists: it is public already, so their
        failures are notes on a sent delivery, never a reason to upload it again."""
        notes: list[str] = []
        done = self._state.get(post.key) or {}
        if media.captions is not None and not done.get("captions"):
            language = self._caption_language(post)
            if language is None:
                notes.append("captions not added: the post has no language to give them")
            else:
                notes += self._extra(post, "captions", self._captions(video, media, language))
        if media.thumbnail is not None and not done.get("thumbnail"):
            notes += self._extra(post, "thumbnail", self._thumbnail(video, media.thumbnail))
        return notes

    def _extra(self, post: Post, what: str, build: tuple[str, Build]) -> list[str]:
        method, request = build
        try:
            self._quota.afford({method: 1}, _now(), f"adding the {what}")
            response = self._exchange(request, method)
            if not response.is_success:
                raise self._error(response)
        except PublishError as error:
            return [f"the video is on YouTube but its {what} could not be added ({error.reason})"]
        self._state.note(post.key, **{what: "added"})
        return []

    def _caption_language(self, post: Post) -> str | None:
        return post.language or (str(self.config.options.get("language") or "") or None)

    def _captions(self, video: str, media: MediaFile, language: str) -> tuple[str, Build]:
        """`captions.insert` as a multipart/related upload, streamed from the file."""
        assert media.captions is not None
        path = media.captions
        boundary = secrets.token_hex(16)
        snippet = {"videoId": video, "language": language, "name": "", "isDraft": False}
        metadata = json.dumps({"snippet": snippet}).encode()
        head = (
            f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode()
            + metadata
            + f"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
        )
        tail = f"\r\n--{boundary}--\r\n".encode()

        def build(auth: dict[str, str]) -> httpx.Request:
            size = file_size(path)
            _, body = file_range(path, 0, size)
            return self._client.build_request(
                "POST",
                "/upload/youtube/v3/captions",
                params={"uploadType": "multipart", "part": "snippet"},
                content=_joined(head, body, tail),
                headers={
                    **auth,
                    "Content-Type": f"multipart/related; boundary={boundary}",
                    "Content-Length": str(len(head) + size + len(tail)),
                },
            )

        return "captions.insert", build

    def _thumbnail(self, video: str, path: Path) -> tuple[str, Build]:
        kind = "image/png" if path.suffix.lower() == ".png" else "image/jpeg"

        def build(auth: dict[str, str]) -> httpx.Request:
            headers, body = file_range(path, 0, file_size(path))
            return self._client.build_request(
                "POST",
                "/upload/youtube/v3/thumbnails/set",
                params={"videoId": video, "uploadType": "media"},
                content=body,
                headers={**auth, **headers, "Content-Type": kind},
            )

        return "thumbnails.set", build

    def _comment(self, post: Post, root: PlatformRef) -> Published:
        """A thread's later part, as a comment on the video of its first part."""
        if post.media:
            raise Rejected(
                "a later thread part goes on YouTube as a comment on the video, and comments "
                "carry text only: remove its media"
            )
        video = root.extra.get("video") or root.id
        self._quota.afford({"commentThreads.insert": 1}, _now(), "commenting")
        body = {
            "snippet": {
                "videoId": video,
                "topLevelComment": {"snippet": {"textOriginal": post.text}},
            }
        }

        def build(auth: dict[str, str]) -> httpx.Request:
            return self._client.build_request(
                "POST",
                "/youtube/v3/commentThreads",
                params={"part": "snippet"},
                json=body,
                headers=auth,
            )

        response = self._exchange(build, "commentThreads.insert", "creates")
        if not response.is_success:
            raise self._error(response, creates=True)
        created = json_body(response)
        thread = str(created.get("id") or "") if isinstance(created, dict) else ""
        if not thread:
            raise Ambiguous("YouTube accepted the comment but did not say its id")
        return Published(comment_ref(video, thread))

    # -- requests -----------------------------------------------------------------------

    def _exchange(
        self, build: Build, method: str | None, sending: Sending = "safe"
    ) -> httpx.Response:
        """Send with the channel's access token (a new one once if YouTube refuses it),
        counting the call against the day's quota. A `method` of None is a chunk of an
        upload, part of its videos.insert."""
        for attempt in (1, 2):
            request = build({"Authorization": f"Bearer {self._tokens.current()}"})
            if method is not None:
                self._quota.spend(method, _now())
            if method is None:
                response = self._client.send(request)
            elif sending == "creates":
                response = send(self._client, request, "YouTube")
            else:
                response = send_safe(self._client, request, "YouTube")
            if response.status_code != 401 or attempt == 2:
                return response
            self._tokens.forget()
        raise AssertionError("unreachable")

    def _error(self, response: httpx.Response, *, creates: bool = False) -> PublishError:
        return classify(response, self._quota, _now(), creates=creates)

    def _trusted(self, url: httpx.URL) -> bool:
        own = self._client.base_url
        if url.host == own.host and url.port == own.port:
            return True
        return url.scheme == "https" and url.host.endswith(".googleapis.com")

    def _read(self, method: str, path: str, params: dict[str, str]) -> dict[str, Any]:
        """A GET of the API that must succeed; its JSON body."""

        def build(auth: dict[str, str]) -> httpx.Request:
            return self._client.build_request("GET", path, params=params, headers=auth)

        response = self._exchange(build, method)
        if not response.is_success:
            raise self._error(response)
        body = json_body(response)
        return body if isinstance(body, dict) else {}

    # -- lookup, check and figures ------------------------------------------------------

    def lookup(self, post: Post) -> PlatformRef | None:
        root = post.thread_root or post.reply_to
        if root is not None:
            return self._find_comment(post, root)
        entry = self._state.get(post.key) or {}
        if entry.get("video"):
            return video_ref(entry["video"])
        session = entry.get("session")
        if session is not None and post.media:
            size = file_size(post.media[0].path)
            done, offset = self._progress(session, size, final=True)
            if done is not None:
                return video_ref(self._made(post, done))
            if offset is not None:
                return None  # the session is still open: no video until it completes
        found = self._search(post)
        return video_ref(self._made(post, found)) if found else None

    def _search(self, post: Post) -> str | None:
        """The video among the channel's latest uploads that carries the delivery's tag."""
        self._quota.afford(
            {"channels.list": 1, "playlistItems.list": 1, "videos.list": 1},
            _now(),
            "looking for an earlier upload",
        )
        channel = self._read(
            "channels.list", "/youtube/v3/channels", {"part": "contentDetails", "mine": "true"}
        )
        items = channel.get("items") or [{}]
        uploads = items[0].get("contentDetails", {}).get("relatedPlaylists", {}).get("uploads")
        if not uploads:
            raise LookupUnavailable("YouTube did not name the channel's uploads")
        listed = self._read(
            "playlistItems.list",
            "/youtube/v3/playlistItems",
            {"part": "snippet", "playlistId": str(uploads), "maxResults": str(LOOKUP_COUNT)},
        )
        entries = [i.get("snippet", {}) for i in listed.get("items") or []]
        ids = [str(e.get("resourceId", {}).get("videoId")) for e in entries]
        ids = [i for i in ids if i and i != "None"]
        if not ids:
            return None
        videos = self._read(
            "videos.list", "/youtube/v3/videos", {"part": "snippet", "id": ",".join(ids)}
        )
        tag = marker(post)
        for video in videos.get("items") or []:
            if tag in (video.get("snippet", {}).get("tags") or []):
                return str(video["id"])
        since = (post.due - LOOKUP_SLACK).isoformat()
        if len(entries) >= LOOKUP_COUNT and all(
            str(e.get("publishedAt") or "") >= since for e in entries
        ):
            raise LookupUnavailable(
                f"the channel uploaded more than {LOOKUP_COUNT} videos since this one was due"
            )
        return None

    def _find_comment(self, post: Post, root: PlatformRef) -> PlatformRef | None:
        video = root.extra.get("video") or root.id
        found = self._read(
            "commentThreads.list",
            "/youtube/v3/commentThreads",
            {"part": "snippet", "videoId": video, "maxResults": "100", "textFormat": "plainText"},
        )
        for thread in found.get("items") or []:
            top = thread.get("snippet", {}).get("topLevelComment", {}).get("snippet", {})
            if top.get("textOriginal") == post.text or top.get("textDisplay") == post.text:
                return comment_ref(video, str(thread["id"]))
        return None

    def check(self) -> CheckReport:
        rules = self.capabilities.rules
        limits = {"title_length": TITLE_MAX, "max_bytes": rules.max_bytes or 0}
        now = _now()
        problems = []
        if self._kids is None:
            problems.append(MADE_FOR_KIDS)
        if self._privacy not in PRIVACY:
            problems.append(
                f"options.privacy is '{self._privacy}': write public, unlisted or private"
            )
        try:
            body = self._read(
                "channels.list", "/youtube/v3/channels", {"part": "snippet,status", "mine": "true"}
            )
        except PublishError as error:
            budgets = self._quota.budgets(now)
            return CheckReport(False, None, limits, budgets, [*problems, error.reason])
        if self._tokens.scope is not None and SCOPE not in self._tokens.scope.split():
            problems.append(
                "the refresh token was granted without the youtube.force-ssl scope that "
                "captions and comments need: run `clarion login` for the channel again"
            )
        items = body.get("items") or []
        if not items:
            problems.append("the Google account has no YouTube channel: create it on YouTube")
            return CheckReport(False, None, limits, self._quota.budgets(now), problems)
        snippet, status = items[0].get("snippet", {}), items[0].get("status", {})
        account = str(snippet.get("title") or items[0].get("id"))
        if snippet.get("customUrl"):
            account += f" ({snippet['customUrl']})"
        ok = not problems
        if status.get("longUploadsStatus") not in (None, "allowed"):
            problems.append(
                "note: videos longer than 15 minutes are not allowed on this channel yet: "
                "verify the channel (youtube.com/verify) before posting longer ones"
            )
        if self._kids is not None:
            problems.append(
                f"note: every video is declared {'' if self._kids else 'not '}made for kids "
                "(options.made_for_kids)"
            )
        return CheckReport(ok, account, limits, self._quota.budgets(now), problems)

    def figures(self, ref: PlatformRef) -> Figures:
        if ref.extra.get("video"):
            raise FiguresUnavailable("YouTube gives no figures for a comment", why="unsupported")
        try:
            body = self._read(
                "videos.list", "/youtube/v3/videos", {"part": "statistics", "id": ref.id}
            )
        except PublishError as error:
            raise figures_error(error) from None
        items = body.get("items") or []
        if not items:
            raise FiguresUnavailable(f"the video {ref.id} is no longer on YouTube", why="gone")
        numbers = items[0].get("statistics", {})
        return Figures(
            likes=count(numbers.get("likeCount")),
            replies=count(numbers.get("commentCount")),
            views=count(numbers.get("viewCount")),
        )

    def close(self) -> None:
        self._client.close()


def comment_ref(video: str, thread: str) -> PlatformRef:
    return PlatformRef(thread, f"{WATCH}{video}&lc={thread}", {"video": video})


def _video_id(response: httpx.Response) -> str:
    body = json_body(response)
    video = body.get("id") if isinstance(body, dict) else None
    if not isinstance(video, str) or not video:
        raise Ambiguous("YouTube completed the upload but did not say the video's id")
    return video


def _received(response: httpx.Response) -> int:
    """The next byte to send after a 308: the end of its Range (`bytes=0-N`) plus one, or 0
    when it names none (nothing arrived)."""
    found = response.headers.get("range", "")
    _, _, last = found.partition("-")
    return int(last) + 1 if last.strip().isdigit() else 0


def _joined(head: bytes, body: Iterator[bytes], tail: bytes) -> Iterator[bytes]:
    yield head
    yield from body
    yield tail


def _now() -> datetime:
    return datetime.now(UTC)
