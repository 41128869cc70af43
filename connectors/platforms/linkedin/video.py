"""LinkedIn videos through the Videos API: register, upload in parts, finalize, wait.

`initializeUpload` answers with the video's URN and one upload address per byte range
(4 MB each); each part is PUT from disk and answers with an ETag; `finalizeUpload` names the
ETags in order; LinkedIn then processes the video (`PROCESSING`) until it is `AVAILABLE`, and
only then may a post name it. Nothing here is public: a video no post names is never shown,
so every failure is safe to retry. A part that fails in transit or with a server error is
sent again on its own; the others are not. An upload cut short (a crash, a part refused three
times) goes on at the next attempt: the channel's state folder keeps the video's URN, its
upload addresses with their expiry (`uploadUrlsExpireAt`) and each finished part's ETag
(`connectors.upload.Uploads.begun`), and while the addresses are valid only the parts without
an ETag are sent before finalizing; otherwise, or if LinkedIn refuses them, the upload starts
over. A video still processing when the waiting ends is remembered (in memory) for the
delivery's next attempt, which waits for it rather than uploading again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from connectors.base import MediaFile, PublishError, Rejected, RetryLater
from connectors.http import json_body, send_safe
from connectors.upload import Uploads, file_range, file_size

Refusal = Callable[[httpx.Response], PublishError]
RESUME_MARGIN_MS = 10 * 60 * 1000
"""An earlier attempt's upload goes on only if its addresses stay valid this much longer."""
STALE = (400, 403, 404, 410)
"""How LinkedIn refuses a part or a finalize for an upload it no longer takes."""


@dataclass(frozen=True, slots=True)
class Part:
    url: httpx.URL
    first: int
    last: int
    """Inclusive, as LinkedIn gives it."""


@dataclass(frozen=True, slots=True)
class Registered:
    video: str
    parts: tuple[Part, ...]
    token: str
    captions: httpx.URL | None
    thumbnail: httpx.URL | None
    expires_ms: int
    """When the upload addresses stop working (`uploadUrlsExpireAt`, milliseconds)."""
    etags: tuple[str, ...]
    """Each part's ETag once LinkedIn has it, "" before."""

    def written(self) -> str:
        """The upload and how far it got, for the state folder."""
        return json.dumps(
            {
                "video": self.video,
                "token": self.token,
                "expires": self.expires_ms,
                "parts": [[str(p.url), p.first, p.last] for p in self.parts],
                "captions": str(self.captions or ""),
                "thumbnail": str(self.thumbnail or ""),
                "etags": self.etags,
            }
        )


class LinkedInVideos:
    part_tries: ClassVar[int] = 3
    retry_pause: ClassVar[float] = 1.0
    ready_checks: ClassVar[int] = 15
    ready_interval: ClassVar[float] = 2.0

    def __init__(
        self,
        client: httpx.Client,
        owner: str,
        refusal: Refusal,
        trusted: Callable[[httpx.URL], bool],
        uploads: Uploads,
    ) -> None:
        self._client = client
        self._uploads = uploads
        self._owner = owner
        self._refusal = refusal
        self._trusted = trusted
        self._processing: dict[str, str] = {}
        """Delivery key to the video LinkedIn was still processing when its attempt ended."""

    def upload(self, media: MediaFile, key: str) -> str:
        """The URN of the video, uploaded and AVAILABLE, ready for a post to name."""
        video = self._processing.pop(key, None) or self._send(media, key)
        self._wait_until_available(video, media, key)
        return video

    # -- uploading ----------------------------------------------------------------------

    def _send(self, media: MediaFile, key: str) -> str:
        """Go on with an upload an earlier attempt began, while its addresses are valid and
        LinkedIn takes them; otherwise (or if there is none) start one."""
        found, progress = self._uploads.begun(key, 0, media.path)
        earlier = self._resumable(found, media) if found else None
        if earlier is not None:
            try:
                return self._finish(media, earlier, progress)
            except (RetryLater, Rejected) as error:
                if error.status not in STALE:
                    raise
        return self._finish(media, self._register(media, file_size(media.path)), progress)

    def _finish(
        self, media: MediaFile, registered: Registered, progress: Callable[[str], None]
    ) -> str:
        """Send the parts LinkedIn has no ETag for, each recorded once it has one, the
        captions and thumbnail, then finalize."""
        progress(registered.written())
        for index, part in enumerate(registered.parts):
            if not registered.etags[index]:
                etags = list(registered.etags)
                etags[index] = self._part(media.path, part)
                registered = replace(registered, etags=tuple(etags))
                progress(registered.written())
        for url, path in (
            (registered.captions, media.captions),
            (registered.thumbnail, media.thumbnail),
        ):
            if url is not None and path is not None:
                self._put(url, path, 0, file_size(path))
        self._action(
            "finalizeUpload",
            {
                "finalizeUploadRequest": {
                    "video": registered.video,
                    "uploadToken": registered.token,
                    "uploadedPartIds": list(registered.etags),
                }
            },
        )
        progress("")
        return registered.video

    def _resumable(self, found: str, media: MediaFile) -> Registered | None:
        """The earlier attempt's upload, if it was written down whole and its addresses
        (still on linkedin.com) stay valid long enough to finish it."""
        try:
            saved = json.loads(found)
            parts = tuple(
                Part(self._address(url), int(first), int(last))
                for url, first, last in saved["parts"]
            )
            etags = tuple(str(etag) for etag in saved["etags"])
            expires = int(saved["expires"])
            captions, thumbnail = saved["captions"], saved["thumbnail"]
            registered = Registered(
                str(saved["video"]),
                parts,
                str(saved["token"]),
                self._address(captions) if media.captions and captions else None,
                self._address(thumbnail) if media.thumbnail and thumbnail else None,
                expires,
                etags,
            )
        except (ValueError, KeyError, TypeError, Rejected):
            return None
        if len(etags) != len(parts) or expires < time.time() * 1000 + RESUME_MARGIN_MS:
            return None
        if (media.captions and not captions) or (media.thumbnail and not thumbnail):
            return None  # given since: only a new upload has an address for them
        return registered

    def _register(self, media: MediaFile, size: int) -> Registered:
        value = self._action(
            "initializeUpload",
            {
                "initializeUploadRequest": {
                    "owner": self._owner,
                    "fileSizeBytes": size,
                    "uploadCaptions": media.captions is not None,
                    "uploadThumbnail": media.thumbnail is not None,
                }
            },
        ).get("value")
        value = value if isinstance(value, dict) else {}
        instructions = value.get("uploadInstructions")
        if not value.get("video") or not isinstance(instructions, list) or not instructions:
            raise RetryLater("LinkedIn's video upload answer lacked the video or its parts")
        try:
            parts = tuple(
                Part(
                    self._address(item["uploadUrl"]), int(item["firstByte"]), int(item["lastByte"])
                )
                for item in instructions
            )
        except (KeyError, TypeError, ValueError):
            raise RetryLater("LinkedIn's video upload parts were not as documented") from None
        ends = [(part.first, part.last + 1) for part in parts]
        if [start for start, _ in ends] != [0, *(end for _, end in ends[:-1])] or ends[-1][
            1
        ] != size:
            raise RetryLater("LinkedIn's upload parts do not cover the video file exactly")
        captions, thumbnail = value.get("captionsUploadUrl"), value.get("thumbnailUploadUrl")
        expires = value.get("uploadUrlsExpireAt")
        return Registered(
            str(value["video"]),
            parts,
            str(value.get("uploadToken") or ""),
            self._address(captions) if media.captions and captions else None,
            self._address(thumbnail) if media.thumbnail and thumbnail else None,
            expires if isinstance(expires, int) else 0,
            ("",) * len(parts),
        )

    def _address(self, raw: Any) -> httpx.URL:
        url = httpx.URL(str(raw or ""))
        if not raw or not self._trusted(url):
            raise Rejected(
                f"LinkedIn gave an upload address on {url.host or 'no host'}; the token is sent "
                "only to linkedin.com"
            )
        return url

    def _part(self, path: Path, part: Part) -> str:
        """PUT one part, again on its own after a transit failure or a server error."""
        failure: PublishError | None = None
        for attempt in range(self.part_tries):
            if attempt:
                time.sleep(self.retry_pause)
            try:
                response = self._put(part.url, path, part.first, part.last + 1)
            except RetryLater as error:
                if error.status is not None and error.status < 500:
                    raise  # refused, not failed on its way: sending it again changes nothing
                failure = error
                continue
            etag = response.headers.get("etag")
            if not etag:
                raise RetryLater("LinkedIn accepted a part of the video but gave no ETag")
            return str(etag)
        assert failure is not None
        raise failure

    def _put(self, url: httpx.URL, path: Path, start: int, end: int) -> httpx.Response:
        headers, content = file_range(path, start, end)
        request = self._client.build_request(
            "PUT",
            url,
            content=content,
            headers={**headers, "Content-Type": "application/octet-stream"},
        )
        response = send_safe(self._client, request, "LinkedIn")
        if response.is_success:
            return response
        if response.status_code == 429 or response.status_code >= 500:
            raise self._refusal(response)
        raise RetryLater(
            f"LinkedIn refused an upload of {path.name} ({response.status_code} "
            f"{response.reason_phrase}); its upload addresses may have expired: the next "
            "attempt starts its upload again",
            status=response.status_code,
        )

    def _action(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        request = self._client.build_request(
            "POST", "/rest/videos", params={"action": action}, json=body
        )
        response = send_safe(self._client, request, "LinkedIn")
        if not response.is_success:
            raise self._refusal(response)
        answer = json_body(response)
        return answer if isinstance(answer, dict) else {}

    # -- processing ---------------------------------------------------------------------

    def _wait_until_available(self, video: str, media: MediaFile, key: str) -> None:
        status = None
        for attempt in range(self.ready_checks):
            if attempt:
                time.sleep(self.ready_interval)
            request = self._client.build_request("GET", f"/rest/videos/{quote(video, safe='')}")
            response = send_safe(self._client, request, "LinkedIn")
            if not response.is_success:
                raise self._refusal(response)
            body = json_body(response)
            body = body if isinstance(body, dict) else {}
            status = body.get("status")
            if status == "AVAILABLE":
                return
            if status == "PROCESSING_FAILED":
                reason = body.get("processingFailureReason") or "no reason given"
                raise Rejected(
                    f"LinkedIn could not process the video {media.path.name} ({reason}): check "
                    "that it is an MP4 of 3 seconds to 30 minutes and 75 KB to 500 MB"
                )
        if status == "PROCESSING":
            self._processing[key] = video
        raise RetryLater(
            f"LinkedIn is still processing the video {media.path.name}; the post goes out "
            "once it is ready",
            retry_at=datetime.now(UTC) + timedelta(minutes=1),
        )
