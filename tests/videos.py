"""Small real videos, made by the tests with PyAV (FFmpeg) rather than downloaded."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av


def clip(
    path: Path,
    *,
    seconds: float = 2,
    rate: int = 25,
    size: tuple[int, int] = (320, 240),
    codec: str = "libx264",
    audio: bool = False,
    container: str | None = None,
    faststart: bool = False,
    rotation: int = 0,
) -> Path:
    """A short black clip: H.264 in an MP4 (or the container the name says: .mov, .mkv, .gif),
    with a silent AAC track when `audio`; `faststart` puts the index first, as phones do;
    `rotation` turns the picture on display, as phones filming upright do."""
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", format=container, options=options) as out:
        video = out.add_stream(codec, rate=rate)
        assert isinstance(video, av.VideoStream)
        video.width, video.height = size
        video.pix_fmt = "rgb8" if codec == "gif" else "yuv420p"
        if rotation:
            video.set_display_rotation(rotation)
        sound = out.add_stream("aac", rate=48_000) if audio else None
        assert sound is None or isinstance(sound, av.AudioStream)
        frames = round(seconds * rate)
        for index in range(frames):
            frame = av.VideoFrame(size[0], size[1], "yuv420p")
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            if codec == "gif":
                frame = frame.reformat(format="rgb8")
            frame.pts = index
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            _silence(out, sound, seconds)
    return path


def _silence(out: av.container.OutputContainer, stream: av.AudioStream, seconds: float) -> None:
    samples = 1024
    for index in range(round(seconds * 48_000 / samples)):
        frame = av.AudioFrame(format="fltp", layout="stereo", samples=samples)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate = 48_000
        frame.pts = index * samples
        frame.time_base = Fraction(1, 48_000)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def gif(path: Path, *, frames: int = 10, size: tuple[int, int] = (64, 48)) -> Path:
    """An animated GIF of `frames` frames at 10 per second."""
    return clip(path, seconds=frames / 10, rate=10, size=size, codec="gif", container="gif")


def truncated(source: Path, path: Path, keep: float) -> Path:
    """The first `keep` (0 to 1) of `source`'s bytes, as a download cut short leaves them."""
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def still(path: Path, *, size: tuple[int, int] = (1080, 1080)) -> Path:
    """A black JPEG photo, from FFmpeg's MJPEG encoder (Instagram's feed takes JPEG only)."""
    with av.open(str(path), "w", format="image2") as out:
        stream = out.add_stream("mjpeg", rate=1)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = size
        stream.pix_fmt = "yuvj420p"
        frame = av.VideoFrame(size[0], size[1], "yuvj420p")
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path
