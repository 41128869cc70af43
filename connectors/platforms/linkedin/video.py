"""LinkedIn videos through the Videos API: register, upload in parts, finalize, wait.

`initializeUpload` answers with the video's URN and one upload address per byte range
(4 MB each); each part is PUT from disk and answers with an ETag; `finalizeUpload` names the
ETags in order; LinkedIn then processes the video (`PROCESSING`) until it is `AVAILABLE`, and
only then may a post name it. Nothing here is public: a video no post names is never shown,
so every failure is safe to retry. A part that fails in transit or with a server error is
sent again on its own; the others are not. A video still processing when the waiting ends
is remembered (in memory) for the delivery's next attempt, which waits for it rather than
uploading again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from connectors.base import MediaFile, PublishError, Rejected, RetryLater
from connectors.http import json_body, send_safe
from connectors.upload import file_range, file_size

Refusal = Callable[[httpx.Response], PublishError]


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
    ) -> None:
        self._client = client
        self._owner = owner
        self._refusal = refusal
        self._trusted = trusted
        self._processing: dict[str, str] = {}
        """Delivery key to the video LinkedIn was still processing when its attempt ended."""

    def upload(self, media: MediaFile, key: str) -> str:
        """The URN of the video, uploaded and AVAILABLE, ready for a post to name."""
        video = self._processing.pop(key, None) or self._send(media)
        self._wait_until_available(video, media, key)
        return video

    # -- uploading ----------------------------------------------------------------------

    def _send(self, media: MediaFile) -> str:
        size = file_size(media.path)
        registered = self._register(media, size)
        etags = [self._part(media.path, part) for part in registered.parts]
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
                    "uploadedPartIds": etags,
                }
            },
        )
        return registered.video

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
        return Registered(
            str(value["video"]),
            parts,
            str(value.get("uploadToken") or ""),
            self._address(captions) if media.captions and captions else None,
            self._address(thumbnail) if media.thumbnail and thumbnail else None,
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
            "attempt uploads it again",
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
