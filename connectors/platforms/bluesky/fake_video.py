"""Bluesky's video service (video.bsky.app) on loopback, beside a FakeBluesky PDS.

It answers as the lexicons (app.bsky.video.*) and the service itself do where the two differ:
`uploadVideo` answers the job status unwrapped (bluesky-social/atproto#3026), a video the
account uploaded before answers 409 `already_exists` with its earlier job, and `getJobStatus`
needs no token. Each `getJobStatus` moves a job one processing state on (created, encoding,
scanning, uploading, completed); at the end the video is stored on the PDS as a blob, whose
ref the status carries. A file that is not an MP4 fails with `validation_failure`.

Calls are authenticated with the PDS's service-auth tokens, checked as the service checks them
(xrpc-server's verifyJwt): signature, expiry, audience and method (`lxm`).
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connectors.fakes.server import FakeServer, Request, Response

if TYPE_CHECKING:
    from connectors.platforms.bluesky.fake import FakeBluesky

_STATES = (
    "JOB_STATE_CREATED",
    "JOB_STATE_ENCODING",
    "JOB_STATE_SCANNING",
    "JOB_STATE_UPLOADING",
    "JOB_STATE_COMPLETED",
)
DAILY_VIDEOS = 25
DAILY_BYTES = 10_000_000_000


@dataclass(slots=True)
class Job:
    id: str
    did: str
    name: str
    content: bytes = field(repr=False)
    step: int = 0
    failure: tuple[str, str] | None = None
    """(failureCode, message) once the job failed."""
    blob: dict[str, Any] | None = None


@dataclass(slots=True)
class Allowance:
    videos: int = DAILY_VIDEOS
    bytes: int = DAILY_BYTES
    can_upload: bool = True
    message: str | None = None


class FakeBlueskyVideo(FakeServer):
    error_text_fields = ("message",)

    def __init__(self, pds: FakeBluesky, *, latency: float = 0.0) -> None:
        self.pds = pds
        self.jobs: dict[str, Job] = {}
        self.allowances: dict[str, Allowance] = {}
        self._processed: dict[tuple[str, str], str] = {}
        self._failures: list[tuple[str, str]] = []
        self._ids = itertools.count(1)
        super().__init__(latency=latency)

    @property
    def did(self) -> str:
        """The service's DID, from its address as clients derive it."""
        return "did:web:127.0.0.1%3A" + self.base_url.rsplit(":", 1)[1]

    def routes(self) -> None:
        xrpc = "/xrpc/app.bsky.video."
        self.route("GET", xrpc + "getUploadLimits", self._limits)
        self.route("POST", xrpc + "uploadVideo", self._upload)
        self.route("GET", xrpc + "getJobStatus", self._status)

    # -- for tests -----------------------------------------------------------------------

    def allowance(self, did: str) -> Allowance:
        with self.lock:
            return self.allowances.setdefault(did, Allowance())

    def fail_next(self, code: str, message: str) -> None:
        """The next video uploaded fails processing with this failureCode and message."""
        with self.lock:
            self._failures.append((code, message))

    # -- the service ---------------------------------------------------------------------

    def _limits(self, request: Request) -> Response:
        did = self.pds.service_caller(request, self.did, "app.bsky.video.getUploadLimits")
        if isinstance(did, Response):
            return did
        allowance = self.allowance(did)
        body: dict[str, Any] = {
            "canUpload": allowance.can_upload and allowance.videos > 0 and allowance.bytes > 0,
            "remainingDailyVideos": allowance.videos,
            "remainingDailyBytes": allowance.bytes,
        }
        if allowance.message:
            body["message"] = allowance.message
        return Response(200, body)

    def _upload(self, request: Request) -> Response:
        did = (request.query.get("did") or [""])[0]
        caller = self.pds.service_caller(
            request, self.pds.service_did, "com.atproto.repo.uploadBlob"
        )
        if isinstance(caller, Response):
            return caller
        if caller != did:
            return _error(401, "BadJwtIssuer", "jwt issuer does not match the did parameter")
        allowance = self.allowance(did)
        if not allowance.can_upload or allowance.videos < 1 or allowance.bytes < len(request.body):
            # the shape of the service's refusals (bluesky-social/atproto#3097)
            error = allowance.message or "limit_exceeded"
            status = {"did": "", "error": error, "jobId": "", "state": ""}
            return Response(400, {"jobStatus": status})
        digest = hashlib.sha256(request.body).hexdigest()
        earlier = self._processed.get((did, digest))
        if earlier is not None:
            return Response(
                409,
                {
                    "did": did,
                    "error": "already_exists",
                    "jobId": earlier,
                    "message": "Video already processed",
                    "state": "JOB_STATE_COMPLETED",
                },
            )
        allowance.videos -= 1
        allowance.bytes -= len(request.body)
        job = Job(
            f"job{next(self._ids):06d}", did, (request.query.get("name") or [""])[0], request.body
        )
        if self._failures:
            job.failure = self._failures.pop(0)
        elif request.body[4:8] != b"ftyp":
            job.failure = ("validation_failure", "Video is not a valid MP4 file")
        self.jobs[job.id] = job
        self._processed[(did, digest)] = job.id
        return Response(200, {"did": did, "jobId": job.id, "state": _STATES[0]})

    def _status(self, request: Request) -> Response:
        job = self.jobs.get((request.query.get("jobId") or [""])[0])
        if job is None:
            return _error(404, "NotFound", "job not found")
        job.step = min(job.step + 1, len(_STATES) - 1)
        status: dict[str, Any] = {"jobId": job.id, "did": job.did}
        if job.failure and job.step >= 2:  # it fails while encoding
            code, message = job.failure
            status |= {
                "state": "JOB_STATE_FAILED",
                "failureCode": code,
                "error": f"video processing error for job: {job.id}",
                "message": message,
            }
            self._processed.pop((job.did, hashlib.sha256(job.content).hexdigest()), None)
        elif _STATES[job.step] == "JOB_STATE_COMPLETED":
            if job.blob is None:
                job.blob = self.pds.store_blob(job.content, "video/mp4")
            status |= {"state": "JOB_STATE_COMPLETED", "blob": job.blob}
        else:
            status |= {"state": _STATES[job.step], "progress": 50}
        return Response(200, {"jobStatus": status})


def _error(status: int, code: str, message: str) -> Response:
    return Response(status, {"error": code, "message": message})
