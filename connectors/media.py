"""Reading a post's media files when it is published.

A video can be hundreds of megabytes: uploads never hold a whole file in memory. A request
either streams the open file (`opened`: httpx reads a multipart file 64 KiB at a time) or
sends it in bounded pieces (`pieces`: X's chunked upload).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from connectors.base import MediaFile, Rejected


def read_media(media: MediaFile) -> bytes:
    """The file's bytes, for small files only (images). A file that went missing since the
    plan was checked fails the post (Rejected) rather than holding the channel: the operator
    restores it and retries."""
    try:
        return media.path.read_bytes()
    except OSError as exc:
        raise _unreadable(media.path, exc) from None


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise _unreadable(path, exc) from None


@contextmanager
def opened(path: Path) -> Iterator[BinaryIO]:
    """The file open for reading, for a request to stream from disk."""
    try:
        file = path.open("rb")
    except OSError as exc:
        raise _unreadable(path, exc) from None
    with file:
        yield file


def pieces(file: BinaryIO, size: int) -> Iterator[bytes]:
    """The rest of the file in pieces of `size` bytes (the last one shorter)."""
    while True:
        try:
            piece = file.read(size)
        except OSError as exc:
            raise Rejected(f"cannot read the media file: {exc.strerror}") from None
        if not piece:
            return
        yield piece


def _unreadable(path: Path, exc: OSError) -> Rejected:
    return Rejected(f"cannot read the media file {path.name}: {exc.strerror}")
