"""Images, GIFs and videos for X through the v2 media endpoints (tweepy has only v1.1's).

An image up to 5 MB goes up in one request; GIFs, videos and larger files in chunks
(initialize, append, finalize), after which X may process them for a while. Alt text is set
afterwards with `POST /2/media/metadata`. Nothing here is public until the post is created,
so every failure is a plain retry or rejection, never ambiguous. A piece that fails on its
way (a server error, a time-out) is sent again, so that one bad moment does not start a large
upload over. A file sent in chunks is not sent again by the next attempt while X still holds it
(a day): the connector keeps its id per delivery, and how far an unfinished upload got, so
that the next attempt (after a crash too) goes on from the first piece X does not have.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from connectors.base import AuthFailed, MediaFile, Rejected, RetryLater
from connectors.upload import file_size, opened, pieces

SIMPLE_MAX_BYTES = 5 * 1024 * 1024
APPEND_TRIES = 3
"""Sendings of one piece while X answers it with a server error or the connection fails: the
upload goes on from that piece instead of starting again at the next attempt."""
APPEND_PAUSE = 1.0
CHUNK_BYTES = 4 * 1024 * 1024
"""X asks for appends of at most 5 MB, multipart overhead included; each piece is read from
disk only when it is sent, so a video of any size holds one piece in memory."""


class Call(Protocol):
    """One X API request, classified: the JSON body of a success, or a PublishError."""

    def __call__(
        self,
        method: str,
        route: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]: ...


def category(mime: str) -> str:
    if mime == "image/gif":
        return "tweet_gif"
    if mime.startswith("video/"):
        return "tweet_video"
    return "tweet_image"


def upload(
    call: Call,
    media: MediaFile,
    *,
    timeout: float,
    earlier: str | None = None,
    uploaded: Callable[[str], None] = lambda media_id: None,
    begun: tuple[str, int] | None = None,
    progress: Callable[[str, int], None] = lambda media_id, count: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Upload one file with its alt text and return its media id, ready to attach.

    `earlier` is the id of this file's upload by an earlier attempt: while X still holds it
    (processed, or still processing) it is used instead of sending the file again. `uploaded`
    is told the id of a file sent in chunks as soon as X has it all, before the wait.
    `begun` is an upload in chunks that an earlier attempt did not finish (its id and how many
    pieces X has): it goes on from there while X still holds it; `progress` is told how far
    each upload in chunks got, piece by piece."""
    media_id, info = _held(call, earlier) if earlier else (None, None)
    if media_id is None:
        media_id, info = _send(call, media, _Chunks(uploaded, begun, progress, sleep))
    _wait(call, media, media_id, info, clock() + timeout, sleep, clock)
    if media.alt:
        call(
            "POST",
            "/2/media/metadata",
            json={"id": media_id, "metadata": {"alt_text": {"text": media.alt}}},
        )
    return media_id


@dataclass(frozen=True, slots=True)
class _Chunks:
    """What an upload in chunks is told and where it may start."""

    uploaded: Callable[[str], None]
    begun: tuple[str, int] | None
    progress: Callable[[str, int], None]
    sleep: Callable[[float], None]


def _send(call: Call, media: MediaFile, chunks: _Chunks) -> tuple[str, dict[str, Any] | None]:
    kind = category(media.mime)
    size = file_size(media.path)
    with opened(media.path) as file:
        if kind == "tweet_image" and size <= SIMPLE_MAX_BYTES:
            body = call(
                "POST",
                "/2/media/upload",
                data={"media_category": kind},
                files={"media": (media.path.name, file.read(), media.mime)},
            )
            return _media_id(body), _info(body)
        body = _chunked(call, media, file, size, kind, chunks)
    media_id = _media_id(body)
    chunks.uploaded(media_id)
    return media_id, _info(body)


def _held(call: Call, media_id: str) -> tuple[str | None, dict[str, Any] | None]:
    """The earlier upload and its processing, or no id when X no longer has it (it discards
    unused uploads after a day)."""
    try:
        body = _status(call, media_id)
    except (Rejected, AuthFailed) as exc:
        if isinstance(exc, AuthFailed) and exc.status != 404:
            raise
        return None, None
    return media_id, _info(body)


def _status(call: Call, media_id: str) -> dict[str, Any]:
    return call("GET", "/2/media/upload", params={"command": "STATUS", "media_id": media_id})


def _info(body: dict[str, Any]) -> dict[str, Any] | None:
    data = body.get("data")
    info = data.get("processing_info") if isinstance(data, dict) else None
    return info if isinstance(info, dict) else None


def _chunked(
    call: Call, media: MediaFile, file: BinaryIO, size: int, kind: str, chunks: _Chunks
) -> dict[str, Any]:
    """Initialize, append each piece, finalize; or go on with an upload an earlier attempt
    began, from its first missing piece, unless X no longer knows it (it discards unfinished
    uploads after a day): then from the start."""
    if chunks.begun is not None:
        media_id, start = chunks.begun
        try:
            return _pieces(call, media, file, (media_id, start, True), chunks)
        except _Forgotten:
            pass
    init = call(
        "POST",
        "/2/media/upload/initialize",
        json={"media_type": media.mime, "total_bytes": size, "media_category": kind},
    )
    media_id = _media_id(init)
    chunks.progress(media_id, 0)
    return _pieces(call, media, file, (media_id, 0, False), chunks)


def _pieces(
    call: Call, media: MediaFile, file: BinaryIO, where: tuple[str, int, bool], chunks: _Chunks
) -> dict[str, Any]:
    """Append the pieces of upload `media_id` from the `start`th on, then finalize. Going on
    with an earlier attempt's upload (`resuming`), a refusal of the first request means X no
    longer knows the upload: _Forgotten."""
    media_id, start, resuming = where
    file.seek(start * CHUNK_BYTES)
    try:
        for index, piece in enumerate(pieces(file, CHUNK_BYTES), start):
            _append(call, media, media_id, index, piece, chunks.sleep)
            resuming = False
            chunks.progress(media_id, index + 1)
        body = call("POST", f"/2/media/upload/{media_id}/finalize")
    except (Rejected, AuthFailed) as error:
        if resuming and (isinstance(error, Rejected) or error.status == 404):
            raise _Forgotten from None
        raise
    _media_id(body)
    return body


class _Forgotten(Exception):
    """X no longer holds an unfinished upload: it starts again."""


def _append(
    call: Call,
    media: MediaFile,
    media_id: str,
    index: int,
    piece: bytes,
    sleep: Callable[[float], None],
) -> None:
    """Send one piece, again (the same segment index, which X keeps once) after a server error
    or a failed connection; a rate limit or a refusal ends the upload at once."""
    for attempt in range(APPEND_TRIES):
        if attempt:
            sleep(APPEND_PAUSE)
        try:
            call(
                "POST",
                f"/2/media/upload/{media_id}/append",
                data={"segment_index": str(index)},
                files={"media": (media.path.name, piece, media.mime)},
            )
            return
        except RetryLater as error:
            transient = error.retry_at is None and (error.status or 500) >= 500
            if not transient or attempt + 1 == APPEND_TRIES:
                raise


def _wait(
    call: Call,
    media: MediaFile,
    media_id: str,
    info: dict[str, Any] | None,
    deadline: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> None:
    """Poll the upload's status until X has processed it, within the deadline."""
    while info and info.get("state") in ("pending", "in_progress"):
        delay = min(float(info.get("check_after_secs", 1)), 30.0)
        if clock() + delay >= deadline:
            raise RetryLater(f"X is still processing {media.path.name}; nothing was posted")
        sleep(delay)
        info = _info(_status(call, media_id))
    if info and info.get("state") == "failed":
        error = info.get("error")
        message = (error.get("message") if isinstance(error, dict) else None) or "it failed"
        raise Rejected(f"X could not process {media.path.name}: {message}")


def _media_id(body: dict[str, Any]) -> str:
    data = body.get("data")
    if not isinstance(data, dict) or not data.get("id"):
        raise RetryLater("X's media upload answered without a media id; nothing was posted")
    return str(data["id"])
