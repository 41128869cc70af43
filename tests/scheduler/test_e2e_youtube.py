"""YouTube through the `clarion` command, against the YouTube fake: `validate --config` insists
on made_for_kids, `preview` shows the video post, `login` gets a refresh token through the
loopback redirect, `check` names the channel and its quota, and `run` uploads the video,
its captions and the thread's comment; a daemon killed while YouTube makes the video finds
it after the restart instead of uploading it again."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.fakes.server import Fault
from connectors.platforms.youtube.fake import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, YouTubeFake
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
    CLARION,
    FAST,
    DaemonProcess,
    daemon_process,
    instant,
    reading,
    soon,
    sqlite_url,
    wait_until,
    write_config,
)
from tests.videos import clip

pytestmark = pytest.mark.slow

SECRETS = {
    "YT_CLIENT_ID": CLIENT_ID,
    "YT_CLIENT_SECRET": CLIENT_SECRET,
    "YT_REFRESH": REFRESH_TOKEN,
}
UPLOAD = "/upload/youtube/v3/videos"


def channel(fake: YouTubeFake, **options: Any) -> dict[str, Any]:
    return {
        "platform": "youtube",
        "base_url": fake.base_url,
        "credentials": {
            "client_id": "${YT_CLIENT_ID}",
            "client_secret": "${YT_CLIENT_SECRET}",
            "refresh_token": "${YT_REFRESH}",
        },
        "options": options,
        "timeout": "5s",
    }


def plan(folder: Path, at: str, *, thread: bool = True) -> None:
    media = folder / "plans" / "media"
    media.mkdir(parents=True, exist_ok=True)
    clip(media / "clip.mp4", seconds=1, size=(240, 320))
    (media / "clip.en.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:00.900\nSay no.\n")
    first = "Say no to sextortion\nTell someone you trust. #SayNo"
    post: dict[str, Any] = {
        "id": "clip",
        "at": at,
        "link": "none",
        "media": [{"file": "media/clip.mp4", "captions": {"en": "media/clip.en.vtt"}}],
    }
    if thread:
        post["thread"] = [first, "Where to get help: call 116 111"]
    else:
        post["text"] = first
    campaign = {
        "campaign": "yt",
        "title": "YouTube",
        "timezone": "UTC",
        "languages": ["en"],
        "channels": ["youtube-main"],
        "min_gap": "0s",
        "defaults": {"not_after": "10m"},
        "posts": [post],
    }
    (folder / "plans" / "yt.yaml").write_text(json.dumps(campaign))


def clarion(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLARION), *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=config.parent,
        env={**os.environ, **SECRETS},
    )


def run_until_sent(config: Path, url: str, count: int) -> str:
    """Run the daemon until `count` deliveries are sent; its log."""

    def sent() -> bool:
        with reading(url) as ledger:
            return ledger.counts()[State.SENT] == count

    with daemon_process(config, env=SECRETS) as daemon:
        wait_until(sent, 60, 0.2, f"{count} deliveries sent")
        assert daemon.stop() == 0, daemon.text()
    return daemon.text()


def test_validate_preview_check_and_run_post_the_video_once(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    with YouTubeFake() as fake:
        config = write_config(tmp_path, {"youtube-main": channel(fake)}, ledger=url, listen=None)
        plan(tmp_path, instant(soon(4)))

        refused = clarion(config, "validate")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "config.yaml:15:15: error: youtube needs options.made_for_kids: true or false" in (
            refused.stderr
        )
        assert "COPPA" in refused.stderr

        config = write_config(
            tmp_path, {"youtube-main": channel(fake, made_for_kids=False)}, ledger=url, listen=None
        )
        valid = clarion(config, "validate")
        assert valid.returncode == 0, valid.stdout + valid.stderr
        preview = clarion(config, "preview", "--format", "json")
        assert preview.returncode == 0, preview.stderr
        assert "Say no to sextortion" in preview.stdout and "clip.mp4" in preview.stdout

        check = clarion(config, "check")
        assert check.returncode == 0, check.stdout + check.stderr
        assert "youtube-main (youtube): ok, posting as SayNo Campaign (@saynocampaign)" in (
            check.stdout
        )
        assert "rate: video uploads per day: 100 of 100 left" in check.stdout
        assert "not made for kids" in check.stdout

        log = run_until_sent(config, url, 2)
        [video] = fake.videos
        assert video["snippet"]["title"] == "Say no to sextortion"
        assert video["status"]["selfDeclaredMadeForKids"] is False
        assert [c["snippet"]["language"] for c in fake.captions] == ["en"]
        assert [c["text"] for c in fake.comments] == ["Where to get help: call 116 111"]
        assert CLIENT_SECRET not in log and REFRESH_TOKEN not in log


def test_login_through_the_loopback_redirect(tmp_path: Path) -> None:
    with YouTubeFake() as fake:
        config = write_config(tmp_path, {"youtube-main": channel(fake, made_for_kids=True)})
        login = subprocess.Popen(
            [str(CLARION), "login", "youtube-main", "--config", str(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "YT_CLIENT_ID": CLIENT_ID, "YT_CLIENT_SECRET": CLIENT_SECRET},
        )
        assert login.stderr is not None and login.stdin is not None
        address = ""
        while not address:
            line = login.stderr.readline()
            assert line, "login ended before printing the address"
            found = re.match(r"^    (http\S+)$", line.rstrip("\n"))
            address = found[1] if found else ""
        google = httpx.get(address)  # the user allows Clarion; Google redirects the browser
        assert httpx.get(google.headers["location"]).status_code == 200
        out, err = login.communicate("ok\n", timeout=60)
        assert login.returncode == 0, err
        [line] = out.splitlines()
        assert line.startswith("export YT_REFRESH=")
        assert line.removeprefix("export YT_REFRESH=").strip("'") in fake.refresh_tokens
        assert "videos will go out on the YouTube channel SayNo Campaign" in err


def test_a_daemon_killed_while_youtube_makes_the_video_never_uploads_it_twice(
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path)
    with YouTubeFake() as fake:
        config = write_config(
            tmp_path,
            {"youtube-main": channel(fake, made_for_kids=False)},
            ledger=url,
            policies={**FAST, "lease": "6s"},
            listen=None,
        )
        plan(tmp_path, instant(soon(3)), thread=False)
        fake.inject(Fault("stall", seconds=2.0, method="PUT", path=UPLOAD))  # the last chunk

        daemon = DaemonProcess(config, env=SECRETS)
        try:
            wait_until(
                lambda: any(r.method == "PUT" for r in fake.requests), 60, 0.01, "the upload"
            )
        finally:
            daemon.kill()  # while YouTube still works on it: the answer is lost
        wait_until(lambda: fake.videos, 10, 0.05, "YouTube made the video all the same")

        run_until_sent(config, url, 1)
        assert len(fake.videos) == 1
        assert sum(r.method == "POST" and r.path == UPLOAD for r in fake.requests) == 1
    with reading(url) as ledger:  # the killed claim became unknown, and the look-up found it
        [key] = ledger.keys("yt")
        assert State.UNKNOWN in [step.to_state for step in ledger.history(key)]
