"""The Videos API of the LinkedIn fake: multi-part uploads, ETags, finalizing, processing.

As LinkedIn documents it: `initializeUpload` gives one upload address per `part_size` bytes
(4 MB), valid until `uploadUrlsExpireAt`; each PUT part answers 200 with an ETag; an expired
address answers 403; `finalizeUpload` must name every part's ETag in order; the video is then
`PROCESSING` for `processing_reads` status reads and ends `AVAILABLE`, or
`PROCESSING_FAILED` when its bytes are not a video (read with PyAV, as `clarion validate`
reads them).
"""

from __future__ import annotations

import hashlib
import itertools
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from connectors.fakes.params import params
from connectors.fakes.server import Request, Response
from connectors.fakes.videofile import playable

PART_SIZE = 4 * 1024 * 1024
MAX_BYTES = 500 * 1024 * 1024
URL_LIFETIME_MS = 3_600_000


def problem(status: int, code: str, message: str) -> Response:
    return Response(status, {"status": status, "code": code, "message": message})


@dataclass
class Video:
    urn: str
    owner: str
    size: int
    parts: list[tuple[int, int]]
    expires_ms: int
    received: dict[int, bytes] = field(default_factory=dict)
    etags: dict[int, str] = field(default_factory=dict)
    captions: bytes | None = None
    thumbnail: bytes | None = None
    status: str = "WAITING_UPLOAD"
    reads_left: int = 0
    failure: str | None = None

    def content(self) -> bytes:
        return b"".join(self.received[i] for i in range(len(self.parts)))


class LinkedInVideos:
    """Videos by URN; the fake routes `/rest/videos` and the upload addresses here."""

    def __init__(self, owners: set[str]) -> None:
        self.owners = owners
        self.videos: dict[str, Video] = {}
        self.part_size = PART_SIZE
        self.processing_reads = 1
        """Status reads a finalized video spends PROCESSING."""
        self.url_lifetime_ms = URL_LIFETIME_MS
        self._ids = itertools.count(4_000_001)

    def action(self, request: Request) -> Response:
        action = params(request).get("action")
        body = request.json() or {}
        if action == "initializeUpload":
            return self._initialize(request, body.get("initializeUploadRequest") or {})
        if action == "finalizeUpload":
            return self._finalize(body.get("finalizeUploadRequest") or {})
        return problem(400, "ILLEGAL_ARGUMENT", f"unknown action {action}")

    def _initialize(self, request: Request, asked: dict[str, Any]) -> Response:
        owner, size = asked.get("owner"), asked.get("fileSizeBytes")
        if owner not in self.owners:
            return problem(
                403,
                "ACCESS_DENIED",
                "Accessing this video resource is forbidden. Please check your permissions "
                "for this resource",
            )
        if not isinstance(size, int) or size <= 0:
            return problem(400, "ILLEGAL_ARGUMENT", "/fileSizeBytes :: field is required")
        if size > MAX_BYTES:
            return problem(400, "ILLEGAL_ARGUMENT", f"/fileSizeBytes :: {size} exceeds 500 MB")
        token = f"C5505AQ{next(self._ids)}"
        starts = range(0, size, self.part_size)
        video = Video(
            urn=f"urn:li:video:{token}",
            owner=str(owner),
            size=size,
            parts=[(start, min(start + self.part_size, size) - 1) for start in starts],
            expires_ms=int(time.time() * 1000) + self.url_lifetime_ms,
        )
        self.videos[video.urn] = video
        base = f"http://{request.header('host') or '127.0.0.1'}/dms-uploads/videos/{token}"
        value: dict[str, Any] = {
            "uploadUrlsExpireAt": video.expires_ms,
            "video": video.urn,
            "uploadInstructions": [
                {"uploadUrl": f"{base}/parts/{i}", "firstByte": first, "lastByte": last}
                for i, (first, last) in enumerate(video.parts)
            ],
            "uploadToken": "",
            "captionsUploadUrl": f"{base}/captions" if asked.get("uploadCaptions") else "",
            "thumbnailUploadUrl": f"{base}/thumbnail" if asked.get("uploadThumbnail") else "",
        }
        return Response(200, {"value": value})

    def expire(self) -> None:
        """Every upload address handed out so far expires now."""
        for video in self.videos.values():
            video.expires_ms = 0

    def upload(self, request: Request) -> Response:
        video = self.videos.get(f"urn:li:video:{request.match['video']}")
        if video is None:
            return problem(404, "NOT_FOUND", "unknown upload")
        if time.time() * 1000 > video.expires_ms:
            return problem(403, "FORBIDDEN", "Request has expired")
        what = request.match["what"]
        if what in ("captions", "thumbnail"):
            setattr(video, what, request.body)
            return Response(201)
        index = int(what.rsplit("/", 1)[1])
        first, last = video.parts[index]
        if len(request.body) != last - first + 1:
            return problem(
                400, "ILLEGAL_ARGUMENT", f"part {index} must be {last - first + 1} bytes"
            )
        video.received[index] = request.body
        video.etags[index] = "/" + hashlib.md5(request.body).hexdigest()
        return Response(200, None, {"ETag": video.etags[index]})

    def _finalize(self, asked: dict[str, Any]) -> Response:
        video = self.videos.get(str(asked.get("video")))
        if video is None:
            return problem(404, "NOT_FOUND", "unknown video")
        wanted = [video.etags.get(i) for i in range(len(video.parts))]
        if asked.get("uploadedPartIds") != wanted or None in wanted:
            return problem(
                400, "ILLEGAL_ARGUMENT", "/uploadedPartIds :: the parts do not match the upload"
            )
        video.status, video.reads_left = "PROCESSING", self.processing_reads
        if not playable(video.content()):
            video.failure = "Media processing error: the file is not a playable video"
        return Response(200, None)

    def read(self, request: Request) -> Response:
        video = self.videos.get(unquote(request.match["urn"]))
        if video is None:
            return problem(404, "NOT_FOUND", "Not Found")
        if video.status == "PROCESSING":
            if video.reads_left <= 0:
                video.status = "PROCESSING_FAILED" if video.failure else "AVAILABLE"
            video.reads_left -= 1
        body: dict[str, Any] = {"id": video.urn, "owner": video.owner, "status": video.status}
        if video.status == "PROCESSING_FAILED":
            body["processingFailureReason"] = video.failure
        return Response(200, body)

    def available(self, urn: str) -> bool:
        video = self.videos.get(urn)
        return video is not None and video.status == "AVAILABLE"
