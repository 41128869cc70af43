"""TikTok end to end through the `clarion` command against the TikTok fake: login, validate,
preview, check, and a daemon that uploads a video in chunks and records the post once."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.platforms.tiktok.fake import CLIENT_KEY, CLIENT_SECRET, REFRESH_TOKEN, TikTokFake
from scheduler.ledger.api import State
from tests.connectors.platforms.tiktok.videos import video
from tests.scheduler.daemonkit import (
    CLARION,
    FAST,
    daemon_process,
    instant,
    reading,
    soon,
    sqlite_url,
    wait_until,
    write_config,
)

ENV = {
    "TIKTOK_CLIENT_KEY": CLIENT_KEY,
    "TIKTOK_CLIENT_SECRET": CLIENT_SECRET,
    "TIKTOK_REFRESH_TOKEN": REFRESH_TOKEN,
}


@pytest.fixture
def fake() -> Iterator[TikTokFake]:
    with TikTokFake() as server:
        yield server


def channel(fake: TikTokFake, **options: Any) -> dict[str, Any]:
    return {
        "platform": "tiktok",
        "base_url": fake.base_url,
        "credentials": {name.removeprefix("TIKTOK_").lower(): f"${{{name}}}" for name in ENV},
        "options": {"mode": "direct", "privacy": "public", **options},
        "timeout": "10s",
    }


def clarion(config: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLARION), *args, "--config", str(config)],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        cwd=config.parent,
        env={**os.environ, **ENV},
    )


def plan(folder: Path, at: str, size: int | None = None) -> None:
    media = folder / "plans" / "media"
    media.mkdir(parents=True, exist_ok=True)
    video(media / "clip.mp4", seconds=2, size=size)
    campaign = {
        "campaign": "sayno",
        "title": "#SayNo on TikTok",
        "timezone": "Europe/Brussels",
        "channels": ["tiktok-main"],
        "defaults": {"not_after": "10m"},
        "posts": [
            {
                "id": "clip",
                "at": at,
                "link": "none",
                "text": "Talk to someone you trust. #SayNo #SaferInternetDay",
                "media": [{"file": "media/clip.mp4"}],
            },
            {"id": "words", "at": at, "link": "none", "text": "No video here"},
        ],
    }
    (folder / "plans" / "sayno.yaml").write_text(json.dumps(campaign, indent=1))


def test_validate_preview_check_and_run_post_a_video_once(fake: TikTokFake, tmp_path: Path) -> None:
    config = write_config(tmp_path, {"tiktok-main": channel(fake)}, policies=FAST)
    plan(tmp_path, instant(soon(4)), size=12_000_000)

    validate = clarion(config, "validate")
    assert validate.returncode == 1, validate.stdout
    [problem] = [line for line in validate.stdout.splitlines() if ": error:" in line]
    assert "TikTok" in problem and "video or photos" in problem
    campaign = json.loads((tmp_path / "plans" / "sayno.yaml").read_text())
    campaign["posts"] = campaign["posts"][:1]
    (tmp_path / "plans" / "sayno.yaml").write_text(json.dumps(campaign))
    validate = clarion(config, "validate")
    assert validate.returncode == 0, validate.stdout + validate.stderr

    preview = clarion(config, "preview", "--format", "json")
    [delivery] = json.loads(preview.stdout)
    assert delivery["channel"] == "tiktok-main" and delivery["media"]

    check = clarion(config, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "tiktok-main (tiktok): ok, posting as @sayno_europe" in check.stdout
    assert "note: posts go out directly, as PUBLIC_TO_EVERYONE" in check.stdout
    assert CLIENT_SECRET not in check.stdout + check.stderr

    with daemon_process(config, env=ENV) as daemon:
        daemon.ready()
        url = sqlite_url(tmp_path)

        def sent() -> bool:
            with reading(url) as ledger:
                return any(r.state is State.SENT for r in ledger.rows("sayno"))

        try:
            wait_until(sent, 60, what="the video posted")
        except AssertionError:
            raise AssertionError(daemon.text()[-3000:]) from None
        assert daemon.stop() == 0
    [made] = fake.posts
    assert made.title == "Talk to someone you trust. #SayNo #SaferInternetDay"
    assert made.chunk_lengths == [12_000_000]
    status = clarion(config, "status", "--format", "json")
    assert f"https://www.tiktok.com/@sayno_europe/video/{made.post_id}" in status.stdout
    tokens = tmp_path / "state" / "channels" / "tiktok-tiktok-main-tokens.json"
    assert json.loads(tokens.read_text())["refresh_token"] in fake.refresh_tokens


def test_check_says_an_inbox_channel_sends_drafts(fake: TikTokFake, tmp_path: Path) -> None:
    config = write_config(tmp_path, {"tiktok-main": channel(fake, mode="inbox")})
    check = clarion(config, "check", "--format", "json")
    assert check.returncode == 0, check.stdout + check.stderr
    [found] = json.loads(check.stdout)["channels"]
    assert any("inbox as drafts: someone must open TikTok" in n for n in found["notes"])


def test_login_prints_the_refresh_token_for_the_environment(
    fake: TikTokFake, tmp_path: Path
) -> None:
    config = write_config(tmp_path, {"tiktok-main": channel(fake)})
    process = subprocess.Popen(
        [str(CLARION), "login", "tiktok-main", "--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, **ENV},
    )
    assert process.stderr is not None and process.stdin is not None
    address = ""
    while not address:
        line = process.stderr.readline()
        assert line, "clarion login ended before showing the address"
        if "/v2/auth/authorize/" in line:
            address = line.strip()
    back = httpx.get(address).headers["location"]  # TikTok's consent page, agreed to
    out, err = process.communicate(back + "\n", timeout=60)
    assert process.returncode == 0, err
    found = re.search(r"^export TIKTOK_REFRESH_TOKEN=(\S+)$", out, re.MULTILINE)
    assert found and found.group(1) in fake.refresh_tokens
