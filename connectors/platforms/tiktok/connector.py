"""TikTok through its Content Posting API.

A video goes in three steps: the creator-info query (TikTok requires it before each direct
post: which privacy levels and interactions the account allows, and how long its videos may
be), the init that returns a publish id and an upload address, and the upload of the file in
chunks, streamed from disk. TikTok starts posting when the last chunk arrives; the status
fetch then says how it went (`PUBLISH_COMPLETE`, `SEND_TO_USER_INBOX` for a draft, `FAILED`).
In `mode: inbox` the video goes to the creator's TikTok inbox as a draft instead, and someone
must post it from the app. Photos are fetched by TikTok from `options.media_base_url`.

Never twice: nothing is posted before the last chunk of a video arrives, so an init or an
upload cut short can be abandoned and started again; its upload address expires within an
hour and nothing ever completes it. While the address is valid (with ten minutes to spare),
the next attempt (after a crash too) goes on with the same upload instead: TikTok takes its
chunks in order at that one address, and the status fetch's `uploaded_bytes` says how many
it has, so the first chunk it lacks is sent next. Just before the last chunk leaves, the
delivery's entry in the channel's state file says so; from then on, every attempt and
`lookup` asks TikTok the publish id's status instead of uploading again. A photo post's
init is what posts it: it is recorded before it leaves, and when its answer is lost there is
no publish id to ask about, so the delivery is left to an operator (ambiguous).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx

from connectors.base import (
    Ambiguous,
    AuthFailed,
    Capabilities,
    ChannelAccess,
    CheckReport,
    Connector,
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
from connectors.http import send, send_safe
from connectors.mediaurl import media_base_url, media_url
from connectors.platforms.tiktok import PLATFORM
from connectors.platforms.tiktok.api import TikTokApi
from connectors.platforms.tiktok.auth import Tokens
from connectors.upload import Span, file_size, file_version, spans

CREATOR_INFO = "/v2/post/publish/creator_info/query/"
VIDEO_INIT = "/v2/post/publish/video/init/"
INBOX_INIT = "/v2/post/publish/inbox/video/init/"
PHOTO_INIT = "/v2/post/publish/content/init/"
STATUS = "/v2/post/publish/status/fetch/"
USER_INFO = "/v2/user/info/"

CHUNK = 10_000_000
"""Bytes per chunk: TikTok takes 5 to 64 MB (a file under 5 MB goes whole), at most 1,000
chunks, the bytes left over joining the last one."""
INBOX_MAX_SECONDS = 600
"""The longest video the inbox upload takes; the creator's own limit applies in the app."""
UPLOAD_LIFETIME = timedelta(hours=1, minutes=5)
"""TikTok's upload address is valid for one hour (plus a margin for clocks)."""
RESUMABLE = timedelta(minutes=50)
"""How long after the init an upload cut short goes on rather than starting again: the
address stays valid ten minutes more, for the rest of the file to arrive."""
PRIVACY = {
    "public": "PUBLIC_TO_EVERYONE",
    "friends": "MUTUAL_FOLLOW_FRIENDS",
    "followers": "FOLLOWER_OF_CREATOR",
    "private": "SELF_ONLY",
}
EARLIER = "published by an earlier attempt"
INBOX_NOTE = "sent to the creator's TikTok inbox as a draft: someone must open TikTok and post it"
FAILURES: dict[str, tuple[type[PublishError], str]] = {
    "file_format_check_failed": (Rejected, "TikTok cannot read the file's format"),
    "duration_check_failed": (Rejected, "the video is too long or too short for TikTok"),
    "frame_rate_check_failed": (Rejected, "TikTok takes 23 to 60 frames per second"),
    "picture_size_check_failed": (Rejected, "TikTok takes 360 to 4096 pixels a side"),
    "internal": (RetryLater, "TikTok failed inside"),
    "video_pull_failed": (RetryLater, "TikTok could not download the video"),
    "photo_pull_failed": (
        RetryLater,
        "TikTok could not download the photos from media_base_url",
    ),
    "publish_cancelled": (Rejected, "the post was cancelled"),
    "auth_removed": (AuthFailed, "the creator removed the app's access"),
    "spam_risk_too_many_posts": (RetryLater, "the account reached TikTok's daily cap of posts"),
    "spam_risk_user_banned_from_posting": (AuthFailed, "TikTok has banned the account"),
    "spam_risk_text": (Rejected, "TikTok judged the text risky or spammy"),
    "spam_risk": (Rejected, "TikTok judged the post risky"),
}


@dataclass(frozen=True, slots=True)
class Creator:
    """What the creator-info query says the account allows now."""

    username: str
    nickname: str
    privacy_options: tuple[str, ...]
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool
    max_seconds: int


class TikTokConnector(Connector):
    platform: ClassVar[str] = "tiktok"
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORM.rules, idempotency="container", lookup=True
    )
    chunk_size = CHUNK
    chunk_tries = 3
    """Sendings of a chunk while TikTok answers 5xx ("you should retry submitting this chunk")."""
    status_checks = 24
    status_interval = 5.0
    """Seconds between status fetches after an upload (TikTok allows 30 a minute)."""

    def __init__(self, config: ChannelAccess) -> None:
        super().__init__(config)
        options = config.options
        mode = str(options.get("mode") or "")
        if mode not in ("direct", "inbox"):
            raise ValueError("tiktok needs options.mode: 'direct' or 'inbox'")
        self.mode: Literal["direct", "inbox"] = "direct" if mode == "direct" else "inbox"
        self.privacy = _privacy(options.get("privacy")) if self.mode == "direct" else None
        self.allow = {name: options.get(name) is True for name in ("comments", "duets", "stitches")}
        state = options.get("state_dir")
        folder = Path(state) if state else None
        token_file = options.get("token_file")
        tokens = Tokens(
            dict(config.credentials),
            Path(token_file).expanduser()
            if token_file
            else folder / f"tiktok-{config.name}-tokens.json"
            if folder
            else None,
        )
        self._store = DeliveryState(folder, config.name, "tiktok", "TikTok")
        self._api = TikTokApi(config, tokens)

    def secrets(self) -> list[str]:
        return super().secrets() + self._api.tokens.secrets()

    # -- publishing ---------------------------------------------------------------------

    def publish(self, post: Post) -> Published:
        entry = self._store.get(post.key)
        if entry is not None:
            earlier = self._earlier(post, entry)
            if earlier is not None:
                return earlier
        if not post.media:
            raise Rejected("TikTok posts need a video or photos: give this post 'media'")
        videos = [m for m in post.media if m.mime.startswith("video/")]
        creator = self._creator() if self.mode == "direct" else None
        if videos:
            return self._video(post, videos[0], creator)
        return self._photos(post, creator)

    def _earlier(self, post: Post, entry: dict[str, str]) -> Published | None:
        """What an earlier attempt made, if it went out; None when it surely did not and
        never will (start again)."""
        if entry.get("done"):
            return Published(self._ref(entry), note=EARLIER)
        if not entry.get("sent"):
            resumed = self._resume(post, entry)
            if resumed is None:  # the last chunk never left: nothing can complete it
                self._store.forget(post.key)
            return resumed
        if not entry.get("publish_id"):
            raise Ambiguous(
                "an earlier attempt sent the photo post to TikTok but its answer was lost, and "
                "TikTok gives no way to find out whether it was posted: look at the account"
            )
        status = self._status(entry["publish_id"], recovering=True)
        if status.get("status") in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX", "FAILED"):
            settled = self._settled(post, entry, status)
            return replace(settled, note=settled.note or EARLIER)
        if self._abandoned(entry, status):
            self._store.forget(post.key)
            return None
        raise RetryLater(
            f"TikTok is still processing the upload of an earlier attempt (publish id "
            f"{entry['publish_id']}); checking again in a minute",
            retry_at=datetime.now(UTC) + timedelta(minutes=1),
        )

    def _video(self, post: Post, media: MediaFile, creator: Creator | None) -> Published:
        seconds = _duration(media)
        limit = creator.max_seconds if creator else INBOX_MAX_SECONDS
        if seconds > limit:
            raise Rejected(
                f"'{media.path.name}' lasts {seconds:.0f} s, and this TikTok account may post "
                f"videos of up to {limit} s (TikTok sets it per account): shorten the video"
            )
        size = file_size(media.path)
        if size == 0:
            raise Rejected(f"'{media.path.name}' is empty")
        chunks = spans(size, min(size, self.chunk_size), tail="merge")
        source = {
            "source": "FILE_UPLOAD",
            "video_size": size,
            "chunk_size": chunks[0].length,
            "total_chunk_count": len(chunks),
        }
        if creator is None:
            path, body = INBOX_INIT, {"source_info": source}
        else:
            info = self._post_info(creator) | {
                "title": post.text,
                "disable_duet": not self.allow["duets"] or creator.duet_disabled,
                "disable_stitch": not self.allow["stitches"] or creator.stitch_disabled,
            }
            path, body = VIDEO_INIT, {"post_info": info, "source_info": source}
        # Safe to repeat: nothing is posted before the last chunk arrives.
        data = self._api.call(path, body, "start the upload")
        publish_id, upload_url = str(data.get("publish_id")), str(data.get("upload_url"))
        username = creator.username if creator else ""
        self._store.put(
            post.key,
            publish_id=publish_id,
            size=str(size),
            username=username,
            upload_url=upload_url,
            chunk_size=str(chunks[0].length),
            file=file_version(media.path),
            issued=datetime.now(UTC).isoformat(),
        )
        self._upload(post.key, publish_id, media, chunks, upload_url)
        return self._outcome(post, publish_id, creator)

    def _resume(self, post: Post, entry: dict[str, str]) -> Published | None:
        """Go on with the upload an earlier attempt began and did not finish, from the first
        chunk TikTok lacks, while its address stays valid and the file is unchanged; None
        when it cannot (start again)."""
        videos = [m for m in post.media if m.mime.startswith("video/")]
        issued, url = entry.get("issued"), entry.get("upload_url")
        if not videos or not issued or not url or entry.get("file") != file_version(videos[0].path):
            return None
        if datetime.now(UTC) > datetime.fromisoformat(issued) + RESUMABLE:
            return None
        try:
            status = self._status(entry["publish_id"], recovering=False)
        except Rejected:
            return None
        size, chunk = int(entry["size"]), int(entry["chunk_size"])
        uploaded = status.get("uploaded_bytes")
        if (
            status.get("status") != "PROCESSING_UPLOAD"
            or not isinstance(uploaded, int)
            or uploaded % chunk
            or uploaded >= size
        ):
            return None
        chunks = spans(size, chunk, tail="merge")
        self._upload(post.key, entry["publish_id"], videos[0], chunks[uploaded // chunk :], url)
        return self._outcome(post, entry["publish_id"], None)

    def _upload(
        self, key: str, publish_id: str, media: MediaFile, chunks: list[Span], url: str
    ) -> None:
        """Send the chunks in order. A chunk answered with a 5xx is sent again at once, as
        TikTok's guide asks: the same range of the same upload can complete it only once."""
        for span in chunks:
            if span.last:
                self._store.put(key, sent=datetime.now(UTC).isoformat())
            try:
                response = self._chunk(media, span, url)
            except Ambiguous:
                if self._received_all(publish_id, span.total):
                    return
                if self._store.durable:  # the next attempt asks TikTok before anything else
                    raise RetryLater(
                        "the answer to the last chunk was lost; the next attempt asks TikTok "
                        "whether it arrived"
                    ) from None
                raise
            except RetryLater:
                if span.last:  # the connection failed: not a byte of it left
                    self._store.forget(key)
                raise
            if response.status_code == (201 if span.last else 206):
                continue
            reason = (
                f"TikTok refused chunk {span.index + 1} of {len(chunks)} of "
                f"'{media.path.name}' ({response.status_code})"
            )
            if span.last and self._received_all(publish_id, span.total):
                return  # an earlier sending of it arrived after all
            if response.status_code >= 500:
                raise RetryLater(f"{reason}; the next attempt asks TikTok first")
            self._store.forget(key)  # refused outright: this upload can never complete
            raise RetryLater(f"{reason}; the upload starts again", status=response.status_code)

    def _chunk(self, media: MediaFile, span: Span, url: str) -> httpx.Response:
        """One chunk's answer, after up to `chunk_tries` sendings while TikTok answers 5xx.
        A failure in transit is a RetryLater before the last chunk, and Ambiguous (it may
        have arrived) for the last one."""
        client = self._api.client
        for attempt in range(self.chunk_tries):
            headers, content = span.body(media.path)
            request = client.build_request(
                "PUT", url, content=content, headers=headers | {"Content-Type": media.mime}
            )
            response = (send if span.last else send_safe)(client, request, "TikTok")
            if response.status_code < 500 or attempt + 1 == self.chunk_tries:
                return response
            time.sleep(self.status_interval)
        raise AssertionError("unreachable")  # pragma: no cover

    def _received_all(self, publish_id: str, size: int) -> bool:
        """Whether TikTok has the whole file (or is done with it), by the upload's status."""
        try:
            status = self._status(publish_id, recovering=False)
        except PublishError:
            return False
        uploaded = status.get("uploaded_bytes")
        done = status.get("status") in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX", "FAILED")
        return done or (isinstance(uploaded, int) and uploaded >= size)

    def _photos(self, post: Post, creator: Creator | None) -> Published:
        base = media_base_url(self.config)
        if not base:
            raise Rejected(
                "TikTok fetches photos from a public address: publish the media folder on a "
                "web host whose domain the app has verified, and set options.media_base_url"
            )
        info: dict[str, Any] = {"description": post.text}
        if creator is not None:
            info |= self._post_info(creator) | {"auto_add_music": False}
        body = {
            "post_info": info,
            "source_info": {
                "source": "PULL_FROM_URL",
                "photo_cover_index": 0,
                "photo_images": [media_url(base, media) for media in post.media],
            },
            "post_mode": "DIRECT_POST" if creator else "MEDIA_UPLOAD",
            "media_type": "PHOTO",
        }
        self._store.put(post.key, sent=datetime.now(UTC).isoformat())
        data = self._api.call(PHOTO_INIT, body, "post the photos", creates=True)
        publish_id = str(data.get("publish_id"))
        self._store.put(
            post.key, publish_id=publish_id, username=creator.username if creator else ""
        )
        return self._outcome(post, publish_id, creator)

    def _post_info(self, creator: Creator) -> dict[str, Any]:
        assert self.privacy is not None
        if self.privacy not in creator.privacy_options:
            raise AuthFailed(
                f"the channel posts as {self.privacy}, which this TikTok account does not "
                f"offer (it offers {', '.join(creator.privacy_options)}): change "
                "options.privacy"
            )
        return {
            "privacy_level": self.privacy,
            "disable_comment": not self.allow["comments"] or creator.comment_disabled,
            "brand_content_toggle": self.config.options.get("brand_content") is True,
            "brand_organic_toggle": self.config.options.get("brand_organic") is True,
        }

    def _outcome(self, post: Post, publish_id: str, creator: Creator | None) -> Published:
        """Follow the post through TikTok's processing until it is out, failed, or still
        being processed with the whole file received (it is then as good as sent)."""
        entry = self._store.get(post.key) or {"publish_id": publish_id}
        status: dict[str, Any] = {}
        for attempt in range(self.status_checks):
            status = self._status(publish_id, recovering=False)
            if status.get("status") in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX", "FAILED"):
                return self._settled(post, entry, status, creator)
            if attempt + 1 < self.status_checks:
                time.sleep(self.status_interval)
        self._store.note(post.key, done="processing")
        return Published(
            self._ref(entry),
            note=f"TikTok received the whole post and is still processing it (publish id "
            f"{publish_id}); it normally appears within minutes, but moderation can take hours",
        )

    def _settled(
        self,
        post: Post,
        entry: dict[str, str],
        status: dict[str, Any],
        creator: Creator | None = None,
    ) -> Published:
        state = status.get("status")
        if state == "FAILED":
            self._store.forget(post.key)
            reason = str(status.get("fail_reason") or "unknown")
            kind, words = FAILURES.get(reason, (Rejected, "TikTok did not post it"))
            raise kind(f"{words} ({reason})", code=reason)
        found = status.get("publicaly_available_post_id")  # TikTok's spelling
        post_id = str(found[0]) if isinstance(found, list) and found else ""
        username = creator.username if creator else entry.get("username", "")
        self._store.note(post.key, done=str(state), post_id=post_id, username=username)
        ref = self._ref(self._store.get(post.key) or entry)
        return Published(ref, note=INBOX_NOTE if state == "SEND_TO_USER_INBOX" else None)

    def _abandoned(self, entry: dict[str, str], status: dict[str, Any]) -> bool:
        """Whether an upload whose last chunk may have left can no longer complete: TikTok
        has not all of it and its upload address has expired."""
        size, uploaded = entry.get("size"), status.get("uploaded_bytes")
        if not size or not isinstance(uploaded, int) or uploaded >= int(size):
            return False
        return datetime.now(UTC) > datetime.fromisoformat(entry["sent"]) + UPLOAD_LIFETIME

    def _ref(self, entry: dict[str, str]) -> PlatformRef:
        publish_id, post_id = entry.get("publish_id", ""), entry.get("post_id", "")
        username = entry.get("username", "")
        url = (
            f"https://www.tiktok.com/@{username}/video/{post_id}" if post_id and username else None
        )
        return PlatformRef(post_id or publish_id, url, {"publish_id": publish_id})

    # -- reading ------------------------------------------------------------------------

    def _creator(self) -> Creator:
        data = self._api.call(CREATOR_INFO, None, "read what the account allows")
        options = data.get("privacy_level_options")
        seconds = data.get("max_video_post_duration_sec")
        return Creator(
            username=str(data.get("creator_username") or ""),
            nickname=str(data.get("creator_nickname") or ""),
            privacy_options=tuple(str(o) for o in options) if isinstance(options, list) else (),
            comment_disabled=data.get("comment_disabled") is True,
            duet_disabled=data.get("duet_disabled") is True,
            stitch_disabled=data.get("stitch_disabled") is True,
            max_seconds=seconds if isinstance(seconds, int) else INBOX_MAX_SECONDS,
        )

    def _status(self, publish_id: str, *, recovering: bool) -> dict[str, Any]:
        try:
            return self._api.call(STATUS, {"publish_id": publish_id}, "read the post's status")
        except Rejected as error:
            if not recovering or error.code != "invalid_publish_id":
                raise
            raise Ambiguous(
                f"TikTok no longer knows the upload of an earlier attempt (publish id "
                f"{publish_id}), so whether it was posted cannot be told: look at the account"
            ) from None

    def lookup(self, post: Post) -> PlatformRef | None:
        entry = self._store.get(post.key)
        if entry is None:
            if self._store.durable:
                return None  # an entry is on file before anything can be posted
            raise LookupUnavailable(
                "nothing on record for this delivery: the TikTok connector keeps its records "
                "under options.state_dir"
            )
        if entry.get("done"):
            return self._ref(entry)
        if not entry.get("sent"):
            return None
        if not entry.get("publish_id"):
            raise LookupUnavailable(
                "the photo post's request may have reached TikTok, which gives no way to find "
                "out: look at the account"
            )
        status = self._status(entry["publish_id"], recovering=True)
        state = status.get("status")
        if state in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX"):
            return self._settled(post, entry, status).ref
        if state == "FAILED" or self._abandoned(entry, status):
            self._store.forget(post.key)
            return None
        raise LookupUnavailable(
            f"TikTok is still processing the upload (publish id {entry['publish_id']}): ask "
            "again later"
        )

    def check(self) -> CheckReport:
        rules = self.capabilities.rules
        limits = {"max_length": rules.max_length, "max_media": rules.max_media}
        notes = [
            "TikTok lets an app that it has not audited post only to private accounts, and "
            "only as SELF_ONLY (visible to the creator alone): see docs/platforms/tiktok.md"
        ]
        problems: list[str] = []
        try:
            if self.mode == "inbox":
                user = self._api.call(
                    USER_INFO,
                    None,
                    "read the account",
                    method="GET",
                    params={"fields": "open_id,display_name"},
                ).get("user")
                account = str(user.get("display_name")) if isinstance(user, dict) else None
                limits["max_video_seconds"] = INBOX_MAX_SECONDS
                notes.insert(
                    0,
                    "posts land in the creator's TikTok inbox as drafts: someone "
                    "must open TikTok and post each one (at most 5 drafts may wait "
                    "in 24 hours)",
                )
            else:
                creator = self._creator()
                account = f"@{creator.username}"
                limits["max_video_seconds"] = creator.max_seconds
                notes.insert(0, f"posts go out directly, as {self.privacy}")
                if self.privacy not in creator.privacy_options:
                    problems.append(
                        f"options.privacy is {self.privacy}, which this account does not "
                        f"offer: it offers {', '.join(creator.privacy_options)}"
                    )
        except PublishError as error:
            return CheckReport(ok=False, limits=limits, problems=[error.reason], notes=notes)
        return CheckReport(
            ok=not problems, account=account, limits=limits, problems=problems, notes=notes
        )

    def close(self) -> None:
        self._api.close()


def _privacy(value: Any) -> str:
    found = PRIVACY.get(str(value or "").strip().lower())
    if found is None:
        raise ValueError(
            "tiktok with mode 'direct' needs options.privacy: public, friends, followers or "
            "private (TikTok asks each post's audience to be chosen, never assumed)"
        )
    return found


def _duration(media: MediaFile) -> float:
    from campaigns.video import UnreadableVideo, probe

    try:
        return probe(media.path).duration
    except UnreadableVideo as error:
        raise Rejected(f"'{media.path.name}' cannot be posted: {error}") from None
