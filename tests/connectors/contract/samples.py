"""Media files of each kind a platform may take, made here (PyAV) rather than downloaded."""

from __future__ import annotations

from pathlib import Path

import av
from av.video.stream import VideoStream

from campaigns.platformrules import GIF, JPEG, MOV, MP4, PNG, WEBP
from connectors.base import MediaFile
from connectors.platform import PlatformSpec
from tests.videos import clip

STILLS = {
    PNG: ("png", "png", "rgb24", "image2"),
    JPEG: ("jpg", "mjpeg", "yuvj420p", "image2"),
    GIF: ("gif", "gif", "rgb8", "gif"),
    WEBP: ("webp", "libwebp", "yuv420p", "webp"),
}
VIDEOS = {MP4: "mp4", MOV: "mov"}
KINDS = (*STILLS, *VIDEOS)


def still(path: Path, codec: str, pixels: str, container: str) -> Path:
    """A black 16x16 picture in one frame."""
    with av.open(str(path), "w", format=container) as output:
        stream = output.add_stream(codec, rate=1)
        assert isinstance(stream, VideoStream)
        stream.width = stream.height = 16
        stream.pix_fmt = pixels
        frame = av.VideoFrame(16, 16, pixels)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.pts = 0
        output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return path


def sample(kind: str, folder: Path, name: str = "sample") -> MediaFile:
    if kind in VIDEOS:
        path = clip(folder / f"{name}.{VIDEOS[kind]}")
    else:
        suffix, codec, pixels, container = STILLS[kind]
        path = still(folder / f"{name}.{suffix}", codec, pixels, container)
    return MediaFile(path, f"A {kind} for the contract", kind)


def stills(spec: PlatformSpec) -> list[str]:
    """The picture types the platform takes, GIF aside (X takes one GIF alone)."""
    return [kind for kind in (PNG, JPEG, WEBP) if kind in spec.rules.media_types]
