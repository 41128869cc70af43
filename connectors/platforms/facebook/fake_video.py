"""The video side of the Facebook fake: the Resumable Upload API and `/{page-id}/videos`.

As Meta documents it: `POST /{app-id}/uploads` opens a session; `POST /upload:{id}` with the
`Authorization: OAuth` and `file_offset` headers appends the body at that offset (any other
offset is refused) and answers with the file handle `h` once the file is whole; `GET
/upload:{id}` gives the `file_offset` reached. `accept_next` keeps only the first bytes of
the next transfer, as when a connection drops mid-upload (a test injects the drop). A video
posted with a handle is processed for `processing_reads` status reads, then `ready`, or
`error` when its bytes are not a video (read with PyAV).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from connectors.fakes.server import Request, Response
from connectors.fakes.videofile import playable

APP = "987654321012345"
FILE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4"})


def graph_error(status: int, code: int, message: str, *, subcode: int | None = None) -> Response:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    return Response(status, {"error": error | {"fbtrace_id": "AbCdEfGhIj"}})


@dataclass
class Session:
    name: str
    length: int
    kind: str
    data: bytearray = field(default_factory=bytearray)


@dataclass
class Video:
    id: str
    description: str
    content: bytes
    reads_left: int
    failure: str | None


class FacebookVideos:
    def __init__(self, token: str) -> None:
        self.token = token
        self.sessions: dict[str, Session] = {}
        self.handles: dict[str, Session] = {}
        self.videos: dict[str, Video] = {}
        self.accept_next: int | None = None
        self.processing_reads = 1
        self._ids = itertools.count(77_000_001)

    def start(self, request: Request, args: dict[str, Any]) -> Response:
        if request.match["node"] != APP:
            return graph_error(400, 100, "Unsupported post request.", subcode=33)
        kind = str(args.get("file_type") or "")
        length = str(args.get("file_length") or "")
        if kind not in FILE_TYPES:
            return graph_error(400, 100, f"(#100) Invalid file_type: {kind}")
        if not length.isdigit() or int(length) <= 0:
            return graph_error(400, 100, "(#100) The parameter file_length is required")
        session = f"upload:MTphdHRhY2htZW50{next(self._ids)}"
        self.sessions[session] = Session(str(args.get("file_name") or ""), int(length), kind)
        return Response(200, {"id": session})

    def transfer(self, request: Request) -> Response:
        session = self._session(request)
        if isinstance(session, Response):
            return session
        offset = request.header("file_offset")
        if offset != str(len(session.data)):
            return graph_error(
                400, 100, f"(#100) file_offset {offset} does not match {len(session.data)}"
            )
        body = request.body
        if self.accept_next is not None:
            body, self.accept_next = body[: self.accept_next], None
        session.data += body[: session.length - len(session.data)]
        if len(session.data) < session.length:
            return Response(200, {"id": request.match["session"], "file_offset": len(session.data)})
        handle = f"4:{session.name}:{next(self._ids)}"
        self.handles[handle] = session
        return Response(200, {"h": handle})

    def offset(self, request: Request) -> Response:
        session = self._session(request)
        if isinstance(session, Response):
            return session
        return Response(200, {"id": request.match["session"], "file_offset": len(session.data)})

    def _session(self, request: Request) -> Session | Response:
        if request.header("authorization") != f"OAuth {self.token}":
            return graph_error(400, 190, "Error validating access token")
        session = self.sessions.get(f"upload:{request.match['session']}")
        return session if session is not None else graph_error(400, 100, "Invalid upload id")

    def post(self, args: dict[str, Any]) -> Video | Response:
        """The video posted with an uploaded file's handle."""
        session = self.handles.get(str(args.get("fbuploader_video_file_chunk")))
        if session is None or not session.kind.startswith("video/"):
            return graph_error(400, 100, "(#100) Invalid file handle")
        content = bytes(session.data)
        video = Video(
            str(next(self._ids)),
            str(args.get("description") or ""),
            content,
            self.processing_reads,
            None if playable(content) else "The video file you uploaded is not supported",
        )
        self.videos[video.id] = video
        return video

    def status(self, video: Video) -> Response:
        phase: dict[str, Any]
        if video.reads_left > 0:
            video.reads_left -= 1
            state, phase = "processing", {"status": "in_progress"}
        elif video.failure:
            state = "error"
            phase = {"status": "error", "errors": [{"code": 1363008, "message": video.failure}]}
        else:
            state, phase = "ready", {"status": "complete"}
        return Response(
            200, {"id": video.id, "status": {"video_status": state, "processing_phase": phase}}
        )
