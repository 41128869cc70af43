"""What a video file really is, read from its container with PyAV (FFmpeg's own demuxers),
never guessed from its name: a `.mp4` that holds a GIF or nothing at all says so here.

PyAV is imported on first use only: plans without video never pay for loading FFmpeg.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from av.container import InputContainer
    from av.stream import Stream


@dataclass(frozen=True, slots=True)
class VideoInfo:
    container: str
    """FFmpeg's name of the container format, such as 'mov,mp4,m4a,3gp,3g2,mj2' or 'gif'."""
    video_codec: str
    """Such as 'h264', 'hevc', 'vp9', 'gif'."""
    audio_codec: str | None
    duration: float
    """Seconds."""
    width: int
    height: int
    """As players show the picture: turned by `rotation` (a phone filming upright stores a
    1920x1080 picture turned 90 degrees, shown 1080x1920)."""
    frame_rate: float
    """Frames per second; 0.0 when the file does not say."""
    size: int
    """Bytes on disk."""
    pixel_format: str | None = None
    """FFmpeg's name of how pixels are stored, such as 'yuv420p'; None when the file does not
    say."""
    bit_rate: int | None = None
    """Bits per second of the whole file; None when the file does not say."""
    rotation: int = 0
    """Degrees (0, 90, 180, 270) players turn the stored picture, from the file's display
    matrix."""

    @property
    def aspect_ratio(self) -> Fraction:
        return Fraction(self.width, self.height)


ISO_MEDIA = "mov,mp4,m4a,3gp,3g2,mj2"
"""FFmpeg's one name for MP4 and QuickTime files, which share their structure."""


class UnreadableVideo(ValueError):
    """The file is not a video this machine can read: the message says why, in plain words."""


@cache
def _probe(path: Path, size: int, mtime_ns: int) -> VideoInfo:
    import av  # FFmpeg is loaded only when a plan has video

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise UnreadableVideo("the file holds no video stream")
            video = container.streams.video[0]
            audio = container.streams.audio[0] if container.streams.audio else None
            _whole(container.format.name, container.streams, size)
            if container.duration is not None:
                duration = container.duration / 1_000_000
            elif video.duration is not None and video.time_base is not None:
                duration = float(video.duration * video.time_base)
            else:
                duration = 0.0
            rate = video.average_rate or video.guessed_rate
            context = video.codec_context
            if context is None or not context.width or not context.height:
                raise UnreadableVideo("its video stream has no picture FFmpeg can read")
            rotation = _rotation(container)
            turned = rotation in (90, 270)
            return VideoInfo(
                container=container.format.name,
                video_codec=context.name,
                audio_codec=audio.codec_context.name if audio else None,
                duration=duration,
                width=context.height if turned else context.width,
                height=context.width if turned else context.height,
                frame_rate=float(rate) if rate else 0.0,
                size=size,
                pixel_format=context.pix_fmt,
                bit_rate=container.bit_rate or None,
                rotation=rotation,
            )
    except UnreadableVideo:
        raise
    except av.FFmpegError as error:
        raise UnreadableVideo(
            f"not a video file FFmpeg can read, or one cut short ({error.strerror})"
        ) from None
    except (ValueError, OverflowError, ZeroDivisionError) as error:  # nonsense in the headers
        raise UnreadableVideo(f"not a video file FFmpeg can read ({error})") from None


def _rotation(container: InputContainer) -> int:
    """How players turn the picture, read from its first frame (decoding it also shows that
    the pictures can be read at all)."""
    for frame in container.decode(video=0):
        return round(frame.rotation) % 360
    raise UnreadableVideo("its video stream holds no picture FFmpeg can decode")


def _whole(format_name: str, streams: Iterable[Stream], size: int) -> None:
    """UnreadableVideo when the file ends before the data its own index points to (a copy or
    download cut short): caught without reading the file, where the container has an index
    (MP4 and QuickTime always do)."""
    promised = 0
    for stream in streams:
        entries = stream.index_entries
        if len(entries):
            last = entries[len(entries) - 1]
            promised = max(promised, last.pos + last.size)
        elif format_name == ISO_MEDIA:
            raise UnreadableVideo("the file is cut short, or empty: it holds no frames")
    if promised > size:
        raise UnreadableVideo(
            f"the file is cut short: it has {size:,} bytes, and its own index says {promised:,}"
        )


def probe(path: Path) -> VideoInfo:
    """The file's real container, codecs, duration, dimensions and frame rate (read once per
    version of the file); UnreadableVideo when it is not a readable video, OSError when the
    file cannot be opened."""
    stat = path.stat()
    return _probe(path.resolve(), stat.st_size, stat.st_mtime_ns)
