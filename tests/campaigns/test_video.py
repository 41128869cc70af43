from __future__ import annotations

from pathlib import Path

import pytest

from campaigns.video import UnreadableVideo, probe
from tests.videos import clip, gif


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


def test_other_codecs_sound_and_shapes_read_as_what_they_are(tmp_path: Path) -> None:
    info = probe(clip(tmp_path / "a.mov", seconds=1, size=(240, 320), codec="mpeg4", audio=True))
    assert (info.video_codec, info.audio_codec, info.width, info.height) == (
        "mpeg4",
        "aac",
        240,
        320,
    )
    assert info.pixel_format == "yuv420p"
    assert info.bit_rate and info.bit_rate > 0
    assert probe(gif(tmp_path / "loop.gif")).container == "gif"


def test_a_file_cut_short_says_so(tmp_path: Path) -> None:
    whole = clip(tmp_path / "whole.mp4", faststart=True).read_bytes()
    (tmp_path / "cut.mp4").write_bytes(whole[: len(whole) * 3 // 4])
    with pytest.raises(UnreadableVideo, match="cut short"):
        probe(tmp_path / "cut.mp4")


def test_a_turned_picture_reads_as_players_show_it(tmp_path: Path) -> None:
    info = probe(clip(tmp_path / "upright.mp4", seconds=1, size=(320, 180), rotation=90))
    assert (info.width, info.height) == (180, 320)
    assert info.rotation in (90, 270)
    assert probe(clip(tmp_path / "flat.mp4", seconds=1, size=(320, 180))).rotation == 0
