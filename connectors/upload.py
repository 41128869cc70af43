"""A file's bytes sent from disk in bounded pieces: large videos are never read whole.

httpx sends an iterator of bytes as the request body; with an explicit Content-Length it is
sent as is (not chunk-encoded), which every upload endpoint here expects. So an upload holds
at most one `CHUNK` of the file in memory, whatever the file's size. A multipart upload
streams the `opened` file instead (httpx reads it 64 KiB at a time); an upload in parts of
the platform's size (X's appends) takes the file's `pieces`; one whose parts have their own
rules and a Content-Range each (TikTok) cuts the file with `spans`. `Uploads` remembers, per
delivery, the files a platform already holds (X, Mastodon), so that no attempt sends one twice,
and how far an upload in parts got (X, LinkedIn), so that the next attempt goes on from there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from connectors.base import Rejected
from connectors.deliverystate import DeliveryState

CHUNK = 1 << 20
"""Bytes read from disk at a time."""


def file_size(path: Path) -> int:
    """The file's size; a file that went missing since the plan was checked fails the post
    (Rejected), as `connectors.media.read_media` does."""
    try:
        return path.stat().st_size
    except OSError as exc:
        raise Rejected(f"cannot read the media file {path.name}: {exc.strerror}") from None


def file_version(path: Path) -> str:
    """Size and modification time: what tells an earlier upload of the file is of this one."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise Rejected(f"cannot read the media file {path.name}: {exc.strerror}") from None
    return f"{stat.st_size}:{stat.st_mtime_ns}"


@contextmanager
def opened(path: Path) -> Iterator[BinaryIO]:
    """The file open for reading, for a multipart request to stream from disk."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise Rejected(f"cannot read the media file {path.name}: {exc.strerror}") from None
    with handle:
        yield handle


def pieces(handle: BinaryIO, size: int) -> Iterator[bytes]:
    """The rest of an `opened` file in pieces of `size` bytes (the last one shorter)."""
    while True:
        try:
            piece = handle.read(size)
        except OSError as exc:
            raise Rejected(f"cannot read the media file: {exc.strerror}") from None
        if not piece:
            return
        yield piece


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


@dataclass(frozen=True, slots=True)
class Span:
    """One part of an upload: `length` bytes from `start` of a file of `total` bytes."""

    index: int
    start: int
    length: int
    total: int

    @property
    def end(self) -> int:
        """The part's last byte (inclusive, as Content-Range counts)."""
        return self.start + self.length - 1

    @property
    def last(self) -> bool:
        return self.start + self.length == self.total

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.total}"

    def body(self, path: Path) -> tuple[dict[str, str], Iterator[bytes]]:
        """The headers (Content-Length and Content-Range) and body that send this part."""
        headers, content = file_range(path, self.start, self.start + self.length)
        return headers | {"Content-Range": self.content_range}, content


def spans(total: int, part_size: int, *, tail: Literal["merge", "own"]) -> list[Span]:
    """The file cut into parts of `part_size` bytes. The bytes left over at the end either
    join the last full part (`merge`: TikTok, whose parts may not be smaller than its
    minimum) or make a shorter part of their own (`own`: most platforms)."""
    if total <= 0 or part_size <= 0:
        raise ValueError("an upload needs a file of at least one byte and a positive part size")
    count = max(total // part_size if tail == "merge" else -(-total // part_size), 1)
    return [
        Span(
            index,
            index * part_size,
            total - index * part_size if index == count - 1 else part_size,
            total,
        )
        for index in range(count)
    ]


class Uploads:
    """The files of each delivery that a platform holds from an earlier attempt (their media
    ids), kept in the channel's state folder: the next attempt, after a crash or a wait for
    processing cut short, uses what the platform still has instead of sending the file again.
    An upload is not the post, so a lost record only costs sending the file once more."""

    def __init__(self, state_dir: str | None, channel: str, platform: str, label: str) -> None:
        folder = Path(state_dir) if state_dir else None
        self._state = DeliveryState(folder, channel, platform, label)

    def earlier(self, key: str, index: int, path: Path) -> tuple[str | None, Callable[[str], None]]:
        """The media id of the delivery's `index`th file from an earlier attempt, if the file
        is unchanged since, and what records a new upload of the file as it is now."""
        found, record = self._kept(key, f"media{index}", index, path)
        return found, lambda media_id: record(media_id, **{f"part{index}": ""})

    def unfinished(
        self, key: str, index: int, path: Path
    ) -> tuple[tuple[str, int] | None, Callable[[str, int], None]]:
        """The upload of the delivery's `index`th file that an earlier attempt began in pieces
        and did not finish, if the file is unchanged since: its id and how many pieces the
        platform has; and what records how far a new or continued upload got."""
        found, record = self.begun(key, index, path)
        media_id, _, count = (found or "").rpartition(":")
        started = (media_id, int(count)) if media_id and count.isdigit() else None
        return started, lambda media_id, count: record(f"{media_id}:{count}")

    def begun(self, key: str, index: int, path: Path) -> tuple[str | None, Callable[[str], None]]:
        """What an earlier attempt wrote down of an upload of the delivery's `index`th file
        that it began and did not finish (in the platform's own terms: an id and a count for
        X, the parts' addresses and ETags for LinkedIn), if the file is unchanged since; and
        what writes down how far a new or continued upload got (nothing: it is finished)."""
        found, record = self._kept(key, f"part{index}", index, path)
        return found or None, record

    def _kept(
        self, key: str, name: str, index: int, path: Path
    ) -> tuple[str | None, Callable[..., None]]:
        """The value kept as `name` for the delivery's `index`th file, if the file is unchanged
        since it was written; and what writes it (with `more` values beside it) for the file
        as it is now."""
        version = f"file{index}"
        current = file_version(path)
        entry = self._state.get(key) or {}
        found = entry.get(name) if entry.get(version) == current else None

        def record(value: str, **more: str) -> None:
            self._state.note(key, **{name: value, version: current, **more})

        return found, record

    def forget(self, key: str) -> None:
        """The post is made: its uploads are attached for good."""
        self._state.forget(key)
