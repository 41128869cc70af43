"""`clarion validate` and `preview` on a campaign with a video: its limits checked per channel,
its length and size in every preview format."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from icalendar import Calendar

from tests.scheduler.test_cli_plan import BIN, run
from tests.videos import clip

CAMPAIGN = """\
campaign: video
title: Video
timezone: Europe/Brussels
anchors: {sid: 2027-02-09}
channels: [x-main, mastodon-main]
posts:
  - id: clip
    at: sid 12:00
    text: "Say no. #SayNo"
    media:
      - file: media/clip.mp4
        alt: A phone is put down.
"""


@pytest.fixture
def plans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("CLARION_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "plans"
    (folder / "media").mkdir(parents=True)
    clip(folder / "media" / "clip.mp4", seconds=3, rate=10, audio=True)
    (folder / "video.yaml").write_text(CAMPAIGN, encoding="utf-8")
    return folder


def test_validate_accepts_a_video_within_the_limits(plans: Path) -> None:
    result = run("validate", str(plans))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].endswith(
        "0 errors, 0 warnings; 2 deliveries on 2 channels"
    )


def test_validate_says_what_the_video_is_and_what_the_platform_takes(plans: Path) -> None:
    clip(plans / "media" / "clip.mp4", seconds=1, rate=2, size=(1920, 1080))
    result = run("validate", str(plans))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:2] == [
        f"{plans / 'video.yaml'}:11:15: error: 'media/clip.mp4' is 1920x1080; X takes videos "
        "up to 1280x1024 (x-main)",
        "    hint: make it smaller",
    ]


def test_a_broken_video_is_a_located_error_from_the_installed_command(plans: Path) -> None:
    (plans / "media" / "clip.mp4").write_bytes(b"GIF89a" + bytes(64))
    done = subprocess.run(
        [str(BIN / "clarion"), "validate", "plans"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert "plans/video.yaml:11:15: error: 'media/clip.mp4' cannot be posted" in done.stdout


def test_preview_shows_the_length_and_size_of_each_video(
    plans: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    size = (plans / "media" / "clip.mp4").stat().st_size
    shown = f"video, 3 s, {size / 1000:.1f} kB"
    table = run("preview", str(plans))
    assert table.exit_code == 0, table.output
    assert f"📎 media/clip.mp4 ({shown}) alt: A phone is put down." in table.stdout
    items = json.loads(run("preview", str(plans), "--format", "json").stdout)
    (media,) = items[0]["media"]
    assert media["file"] == "media/clip.mp4" and media["size"] == size
    assert media["duration"] == pytest.approx(3.0, abs=0.1)
    markdown = run("preview", str(plans), "--format", "markdown").stdout
    assert f"📎 media/clip.mp4 ({shown}): A phone is put down." in markdown
    calendar = Calendar.from_ical(run("preview", str(plans), "--format", "ics").stdout)
    event = next(iter(calendar.walk("VEVENT")))
    assert f"Media: media/clip.mp4 ({shown}) (alt: A phone is put down.)" in str(
        event["DESCRIPTION"]
    )


def test_the_html_preview_plays_the_video(plans: Path, tmp_path: Path) -> None:
    result = run("preview", str(plans), "--format", "html", "--output", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    pages = [p.read_text(encoding="utf-8") for p in (tmp_path / "site").rglob("*.html")]
    post = next(page for page in pages if "<video" in page)
    assert 'controls preload="metadata" aria-label="A phone is put down."' in post
    assert '<p class="video-facts">video, 3 s, ' in post
    copied = [p for p in (tmp_path / "site" / "media").iterdir()]
    assert copied and copied[0].read_bytes() == (plans / "media" / "clip.mp4").read_bytes()
