"""Video files for the connectors' tests: real clips (made with PyAV, never downloaded),
broken ones, oversized ones, and cover images."""

from __future__ import annotations

from pathlib import Path

from connectors.base import MediaFile
from tests.videos import clip

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


def video(tmp_path: Path, alt: str = "A black screen, two seconds", **kw: Path) -> MediaFile:
    """A two-second H.264 clip; `thumbnail=` or `captions=` as the plan gives them."""
    return MediaFile(clip(tmp_path / "clip.mp4"), alt, "video/mp4", **kw)


def broken(tmp_path: Path) -> MediaFile:
    """A clip cut off halfway, as by an interrupted copy: its index never got written."""
    whole = clip(tmp_path / "whole.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: len(whole) // 2])
    return MediaFile(cut, "cut", "video/mp4")


def sparse(path: Path, size: int) -> Path:
    """A file of `size` bytes that takes no room on disk (zeros)."""
    with path.open("wb") as file:
        file.truncate(size)
    return path


def padded(tmp_path: Path, size: int) -> MediaFile:
    """A real clip followed by zeros up to `size` bytes: FFmpeg still reads it as the clip."""
    path = sparse(tmp_path / "long.mp4", size)
    with path.open("r+b") as file:
        file.write(clip(tmp_path / "clip.mp4").read_bytes())
    return MediaFile(path, "long", "video/mp4")


def cover(tmp_path: Path, size: int = 2_000, name: str = "cover.jpg") -> Path:
    path = tmp_path / name
    path.write_bytes(JPEG + bytes(size - len(JPEG)))
    return path
