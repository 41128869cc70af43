from __future__ import annotations

from pathlib import Path

import av
import pytest

from campaigns.video import UnreadableVideo, probe


def clip(
    path: Path, *, seconds: int = 2, rate: int = 25, size: tuple[int, int] = (320, 240)
) -> Path:
    """A short black H.264 clip in an MP4 container, made here rather than downloaded."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for index in range(seconds * rate):
            frame = av.VideoFrame(size[0], size[1], "yuv420p")
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def test_a_clip_reads_as_what_it_is(tmp_path: Path) -> None:
    info = probe(clip(tmp_path / "clip.mp4", seconds=2, rate=25, size=(320, 240)))
    assert (info.video_codec, info.audio_codec) == ("h264", None)
    assert "mp4" in info.container
    assert (info.width, info.height, info.frame_rate) == (320, 240, 25.0)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert info.size == (tmp_path / "clip.mp4").stat().st_size


def test_a_file_that_is_no_video_says_so(tmp_path: Path) -> None:
    fake = tmp_path / "clip.mp4"
    fake.write_text("hello")
    with pytest.raises(UnreadableVideo, match="not a video file"):
        probe(fake)
