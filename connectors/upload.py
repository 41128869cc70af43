"""Sending a file in byte ranges, read from disk as each range goes out.

Platforms that take large videos take them in chunks (TikTok, X, LinkedIn, YouTube,
Facebook): a chunk is a byte range of the file, sent with its length and, for most, a
`Content-Range`. `spans` cuts a file the way a platform wants it cut; `stream` reads one span
from disk a piece at a time for httpx to send, so that memory stays bounded whatever the file's
size (a 4 GB video costs one piece, 1 MiB, at a time).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

PIECE = 1 << 20
"""Bytes read from disk at a time."""


@dataclass(frozen=True, slots=True)
class Span:
    """One chunk: `length` bytes from `start` of a file of `total` bytes."""

    index: int
    start: int
    length: int
    total: int

    @property
    def end(self) -> int:
        """The chunk's last byte (inclusive, as Content-Range counts)."""
        return self.start + self.length - 1

    @property
    def last(self) -> bool:
        return self.start + self.length == self.total

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.total}"


def spans(total: int, chunk_size: int, *, tail: Literal["merge", "own"]) -> list[Span]:
    """The file cut into chunks of `chunk_size` bytes. The bytes left over at the end either
    go into the last full chunk (`merge`: TikTok, whose chunks may not be smaller than its
    minimum) or make a shorter chunk of their own (`own`: most platforms)."""
    if total <= 0 or chunk_size <= 0:
        raise ValueError("an upload needs a file of at least one byte and a positive chunk size")
    count = total // chunk_size if tail == "merge" else -(-total // chunk_size)
    count = max(count, 1)
    found = []
    for index in range(count):
        start = index * chunk_size
        length = total - start if index == count - 1 else chunk_size
        found.append(Span(index, start, length, total))
    return found


def stream(path: Path, span: Span, piece: int = PIECE) -> Iterator[bytes]:
    """The span's bytes, read from disk `piece` bytes at a time.

    Raises OSError when the file is shorter than the span: it changed since it was measured,
    and a chunk of the wrong length must not go out."""
    with path.open("rb") as source:
        source.seek(span.start)
        left = span.length
        while left:
            data = source.read(min(piece, left))
            if not data:
                raise OSError(f"{path.name} became shorter while it was being uploaded")
            left -= len(data)
            yield data


def chunk_headers(span: Span, mime: str) -> dict[str, str]:
    """What a chunk sent as a plain PUT or POST body says of itself. Content-Length is given
    so that httpx sends the streamed body as is, not in HTTP chunked encoding (which upload
    servers refuse)."""
    return {
        "Content-Type": mime,
        "Content-Length": str(span.length),
        "Content-Range": span.content_range,
    }
