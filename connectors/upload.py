"""A file's bytes sent from disk in bounded pieces: large videos are never read whole.

httpx sends an iterator of bytes as the request body; with an explicit Content-Length it is
sent as is (not chunk-encoded), which every upload endpoint here expects. So an upload holds
at most one `CHUNK` of the file in memory, whatever the file's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from connectors.base import Rejected

CHUNK = 1 << 20
"""Bytes read from disk at a time."""


def file_size(path: Path) -> int:
    """The file's size; a file that went missing since the plan was checked fails the post
    (Rejected), as `connectors.media.read_media` does."""
    try:
        return path.stat().st_size
    except OSError as exc:
        raise Rejected(f"cannot read the media file {path.name}: {exc.strerror}") from None


def file_range(path: Path, start: int, end: int) -> tuple[dict[str, str], Iterator[bytes]]:
    """The headers and body of a request that sends bytes `start` to `end - 1` of the file."""
    return {"Content-Length": str(end - start)}, _read(path, start, end)


def _read(path: Path, start: int, end: int) -> Iterator[bytes]:
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            left = end - start
            while left > 0:
                piece = handle.read(min(CHUNK, left))
                if not piece:
                    raise Rejected(f"the media file {path.name} changed while it was uploaded")
                left -= len(piece)
                yield piece
    except OSError as exc:
        raise Rejected(f"cannot read the media file {path.name}: {exc.strerror}") from None
