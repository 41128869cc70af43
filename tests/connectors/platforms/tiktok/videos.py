"""Test videos for TikTok: real H.264 clips, made larger where a test needs it."""

from __future__ import annotations

import struct
from pathlib import Path

from tests.videos import clip


def video(path: Path, *, seconds: int = 2, size: int | None = None) -> Path:
    """A real clip of `seconds`, grown to `size` bytes with an MP4 `free` box: padding that
    every reader skips, so the file stays a valid video of the same length."""
    clip(path, seconds=seconds, rate=25, size=(360, 360))
    if size is not None:
        padding = size - path.stat().st_size - 8
        assert padding >= 0, "the clip is already larger"
        with path.open("ab") as out:
            out.write(struct.pack(">I4s", padding + 8, b"free"))
            out.truncate(size)
    return path
