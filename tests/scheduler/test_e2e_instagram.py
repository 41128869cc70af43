"""Instagram through the command line, against the Instagram fake: `clarion validate`,
`preview`, `check`, `login`, and `run` posting a photo and a thread (its later part a comment
on the first post), each delivery sent once."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.fakes.server import Made
from connectors.platforms.instagram.fake import (
    APP_ID,
    APP_SECRET,
    CDN,
    SHORT_TOKEN,
    TOKEN,
    USER,
    InstagramFake,
)
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
    CLARION,
    TOKEN_ENV,
    daemon_process,
    instant,
    reading,
    soon,
    sqlite_url,
    write_config,
)
from tests.videos import still


@pytest.fixture
def fake() -> Iterator[InstagramFake]:
    with InstagramFake() as fake:
        yield fake


def channel(fake: InstagramFake) -> dict[str, Any]:
    return {
        "platform": "instagram",
        "base_url": fake.base_url,
        "credentials": {"access_token": "${" + TOKEN_ENV + "}"},
        "options": {"user_id": USER, "media_base_url": CDN},
        "timeout": "5s",
    }


def plan(folder: Path, posts: list[dict[str, Any]]) -> Path:
    still(folder / "plans" / "card.jpg", size=(1080, 1350))
    path = folder / "plans" / "ig.yaml"
    text = {
        "campaign": "ig",
        "title": "#SayNo on Instagram",
        "timezone": "Europe/Brussels",
        "channels": ["instagram-main"],
        "min_gap": "0s",
        "defaults": {"not_after": "10m", "hashtags": ["#SayNo"]},
        "posts": posts,
    }
    path.write_text(json.dumps(text, indent=1))
    return path


def card(at: str) -> dict[str, Any]:
    media = [{"file": "card.jpg", "alt": "A hand raised: no"}]
    return {"id": "card", "at": at, "text": "Online coercion is a crime.", "media": media}


def tips(at: str) -> dict[str, Any]:
    media = [{"file": "card.jpg", "alt": "Three tips"}]
    thread = ["1/ Three tips to stay safe", "2/ Talk to someone you trust"]
    return {"id": "tips", "at": at, "thread": thread, "media": media}


def clarion(config: Path, *args: str, given: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLARION), *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=config.parent,
        input=given,
        env={**os.environ, TOKEN_ENV: TOKEN},
    )


def test_validate_and_preview_know_instagrams_rules(fake: InstagramFake, tmp_path: Path) -> None:
    config = write_config(tmp_path, {"instagram-main": channel(fake)}, listen=None)
    good = plan(tmp_path, [card("2027-02-09 09:00"), tips("2027-02-09 12:00")])
    checked = clarion(config, "validate", str(good))
    assert checked.returncode == 0, checked.stderr
    assert "Instagram has no threads: part 2 goes out as a comment" in checked.stdout

    shown = clarion(config, "preview", str(good), "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert "instagram-main" in shown.stdout and "#SayNo" in shown.stdout

    tags = " ".join(f"#t{i}" for i in range(6))
    bad = plan(tmp_path, [{"id": "bare", "at": "2027-02-09 09:00", "text": tags}])
    refused = clarion(config, "validate", str(bad))
    assert refused.returncode == 1
    said = refused.stdout + refused.stderr
    assert "Instagram posts need a video or photos" in said
    assert "has 7 hashtags; Instagram allows 5 in a post" in said
    assert "ig.yaml:" in said


def test_check_shows_the_account_and_the_publishing_limit(
    fake: InstagramFake, tmp_path: Path
) -> None:
    config = write_config(tmp_path, {"instagram-main": channel(fake)}, listen=None)
    checked = clarion(config, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    out = checked.stdout
    assert "@sayno_europe (professional account)" in out
    assert "posts per 24 h" in out and "100" in out
    fake.permissions.discard("instagram_content_publish")
    missing = clarion(config, "check")
    assert missing.returncode != 0
    assert "the token lacks the instagram_content_publish permission" in missing.stdout


def test_login_prints_the_long_lived_token(fake: InstagramFake, tmp_path: Path) -> None:
    config = write_config(tmp_path, {"instagram-main": channel(fake)}, listen=None)
    done = clarion(
        config, "login", "instagram-main", given=f"{APP_ID}\n{APP_SECRET}\n{SHORT_TOKEN}\n"
    )
    assert done.returncode == 0, done.stderr
    assert f"export {TOKEN_ENV}={TOKEN}" in done.stdout
    assert f"user_id: '{USER}'" in done.stderr


def test_run_posts_a_photo_and_a_thread_once(fake: InstagramFake, tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    config = write_config(tmp_path, {"instagram-main": channel(fake)}, ledger=url, listen=None)
    plan(tmp_path, [card(instant(soon(3))), tips(instant(soon(4)))])
    with daemon_process(config, "--exit-when-idle", token=TOKEN) as daemon:
        assert daemon.wait(90) == 0, daemon.text()
    [first] = [p["id"] for p in fake.posts if p["caption"].startswith("1/")]
    assert sorted(fake.published(), key=lambda m: m.text) == [
        Made("1/ Three tips to stay safe\n\n#SayNo", ("image/jpeg",), None),
        Made("2/ Talk to someone you trust", (), first),
        Made("Online coercion is a crime.\n\n#SayNo", ("image/jpeg",), None),
    ]
    with reading(url) as ledger:
        rows = ledger.rows("ig")
    assert [row.state for row in rows] == [State.SENT] * 3
    assert all(row.ref and row.ref.url and "instagram.com/p/" in row.ref.url for row in rows)
