"""A crash between a video's upload and its post: `kill -9` the daemon while the platform is
still processing the uploaded video, restart it, and the post goes out exactly once.

The upload is not the post (docs/design.md rule 5): the claim of the killed daemon runs out of
lease and becomes unknown; reconciliation finds no post (X: the account's timeline; Mastodon:
the same Idempotency-Key sent again), so the delivery is published again. The connector kept
the upload's id in the channel's state folder (connectors.upload.Uploads) and uses it, since
the platform still holds the file: it is not sent twice either.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from connectors.platforms.x import fake as x_fake
from connectors.platforms.x.fake import XFake
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
    FAST,
    TOKEN_ENV,
    DaemonProcess,
    daemon_process,
    instant,
    mastodon_channels,
    reading,
    soon,
    sqlite_url,
    wait_until,
    write_config,
)
from tests.videos import clip

pytestmark = pytest.mark.slow

CRASHY = {**FAST, "lease": "6s"}
X_ENV = {
    "X_CONSUMER_KEY": x_fake.CONSUMER_KEY,
    "X_CONSUMER_SECRET": x_fake.CONSUMER_SECRET,
    "X_ACCESS_TOKEN": x_fake.ACCESS_TOKEN,
    "X_ACCESS_TOKEN_SECRET": x_fake.ACCESS_TOKEN_SECRET,
}


def x_channel(base_url: str) -> dict[str, Any]:
    return {
        "platform": "x",
        "base_url": base_url,
        "credentials": {name.lower()[2:]: "${" + name + "}" for name in X_ENV},
        "options": {"media_timeout": 600},
        "timeout": "5s",
    }


def video_plan(folder: Path, channel: str) -> None:
    clip(folder / "plans" / "clip.mp4")
    plan = {
        "campaign": "film",
        "title": "A film",
        "timezone": "UTC",
        "channels": [channel],
        "defaults": {"not_after": "10m"},
        "posts": [
            {
                "id": "trailer",
                "at": instant(soon(2)),
                "link": "none",
                "text": "The trailer #SayNo",
                "media": [{"file": "clip.mp4", "alt": "Two seconds of a black screen"}],
            }
        ],
    }
    (folder / "plans" / "film.yaml").write_text(json.dumps(plan))


def crash_while_processing(
    tmp_path: Path,
    channels: dict[str, Any],
    processing: Callable[[], bool],
    finish: Callable[[], None],
    env: dict[str, str],
) -> str:
    """Run the daemon until the platform holds the uploaded video in processing, kill it,
    let processing end, restart; returns the ledger's address once the delivery is sent."""
    url = sqlite_url(tmp_path)
    config = write_config(tmp_path, channels, ledger=url, policies=CRASHY, listen=None)
    video_plan(tmp_path, next(iter(channels)))
    daemon = DaemonProcess(config, env=env)
    try:
        wait_until(processing, 60, 0.05, "the upload, then a look at its processing")
    finally:
        daemon.kill()
    finish()

    def sent() -> bool:
        with reading(url) as ledger:
            return ledger.counts()[State.SENT] == 1

    with daemon_process(config, env=env) as again:
        wait_until(sent, 90, 0.2, "the delivery sent after the restart")
        assert again.stop() == 0, again.text()
    return url


def test_x_a_crash_while_x_processes_the_video_posts_it_once_with_the_same_upload(
    tmp_path: Path,
) -> None:
    fake = XFake(post_limit=None, processing_polls=1_000_000)
    fake.check_after_secs = 1
    with fake:

        def processing() -> bool:
            return any(r.method == "GET" and r.path == "/2/media/upload" for r in fake.requests)

        def finish() -> None:
            for media in fake.media.values():
                media.polls_left = 1  # X ends processing the upload

        url = crash_while_processing(
            tmp_path, {"x-main": x_channel(fake.base_url)}, processing, finish, X_ENV
        )
        initialized = [r for r in fake.requests if r.path == "/2/media/upload/initialize"]
        posts = list(fake.posts)
        media = dict(fake.media)
    assert len(posts) == 1
    assert len(initialized) == 1  # not sent again after the restart: X had it
    [upload] = media.values()
    assert upload.state == "succeeded"
    assert posts[0]["media_ids"] == [upload.id]
    with reading(url) as ledger:
        [key] = ledger.keys("film")
        states = [step.to_state for step in ledger.history(key)]
    assert State.UNKNOWN in states  # the kill left it unknown; reconciliation settled it


def test_mastodon_a_crash_while_the_server_processes_the_video_posts_it_once_with_the_same_upload(
    tmp_path: Path,
) -> None:
    fake = MastodonFake(processing_polls=1_000_000, status_limit=None)
    with fake:

        def processing() -> bool:
            return any(
                r.method == "GET" and r.path.startswith("/api/v1/media/") for r in fake.requests
            )

        def finish() -> None:
            for attachment in fake.media.values():
                attachment.polls_left = 1  # the server ends processing the upload

        channels = mastodon_channels(["m"], [fake.base_url])
        crash_while_processing(tmp_path, channels, processing, finish, {TOKEN_ENV: ACCESS_TOKEN})
        uploads = [r for r in fake.requests if r.path == "/api/v2/media"]
        posts = list(fake.posts)
    assert len(posts) == 1
    assert len(uploads) == 1  # not sent again after the restart: the server had it
    assert posts[0]["media_ids"] == list(fake.media)
