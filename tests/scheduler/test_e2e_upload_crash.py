"""Crash safety of video posts: `kill -9` the daemon while it uploads a video, restart it.

The upload is not the post (docs/design.md rule 5 holds as for any publish): a delivery
killed mid-upload is claimed, then unknown once its lease runs out, and reconciled by
LinkedIn's look-up of the Page's posts; nothing is posted twice and every delivery is sent.
The upload killed goes on at the next attempt from the parts LinkedIn lacks.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from connectors.platforms.linkedin.fake import ORGANIZATION, TOKEN, LinkedInFake
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
    FAST,
    TOKEN_ENV,
    DaemonProcess,
    count,
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

POSTS = 8
KILLS = 2


def test_a_daemon_killed_mid_upload_posts_each_video_once(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    with LinkedInFake(latency=0.03) as fake:
        fake.videos.part_size = 1024  # several parts a clip, each a request
        fake.videos.processing_reads = 0
        channel = {
            "platform": "linkedin",
            "base_url": fake.base_url,
            "credentials": {"access_token": "${" + TOKEN_ENV + "}"},
            "options": {"author": ORGANIZATION},
            "timeout": "5s",
        }
        config = write_config(
            tmp_path, {"li": channel}, ledger=url, policies={**FAST, "lease": "6s"}, listen=None
        )
        (tmp_path / "plans" / "media").mkdir(parents=True)
        clip(tmp_path / "plans" / "media" / "clip.mp4", seconds=4)
        at = instant(soon(3))
        plan = {
            "campaign": "videos",
            "title": "Videos",
            "timezone": "UTC",
            "channels": ["li"],
            "min_gap": "0s",
            "defaults": {"not_after": "10m"},
            "posts": [
                {
                    "id": f"v{i}",
                    "at": at,
                    "link": "none",
                    "text": f"Video {i}: say no",
                    "media": [{"file": "media/clip.mp4", "alt": "A hand saying no"}],
                }
                for i in range(POSTS)
            ],
        }
        (tmp_path / "plans" / "videos.yaml").write_text(json.dumps(plan))

        def uploading() -> bool:
            with fake.lock:
                return len(fake.videos.videos) > len(fake.posts)

        for kill in range(KILLS):
            daemon = DaemonProcess(config, token=TOKEN)
            try:
                wait_until(
                    lambda: uploading() and len(fake.posts) >= kill,  # noqa: B023
                    60,
                    0.005,
                    "an upload in flight",
                )
            finally:
                daemon.kill()

        def done() -> bool:
            with reading(url) as ledger:
                return ledger.counts()[State.SENT] == POSTS

        with daemon_process(config, token=TOKEN) as daemon:
            wait_until(done, 90, 0.2, "every delivery sent")
            assert daemon.stop() == 0, daemon.text()
        texts = Counter(post["text"] for post in fake.posts)
        videos = len(fake.videos.videos)
    assert sorted(texts) == sorted(f"Video {i}: say no" for i in range(POSTS))
    assert set(texts.values()) == {1}
    # A killed upload goes on where it stopped (or, killed before its record was written,
    # is made again): at most one video more per kill, and never two posts.
    assert POSTS <= videos <= POSTS + KILLS
    with reading(url) as ledger:
        assert count(ledger, State.UNKNOWN, State.PLANNED, State.CLAIMED, State.FAILED) == 0
        # Each kill caught an upload in flight, and reconciliation settled it.
        history = [step for key in ledger.keys("videos") for step in ledger.history(key)]
        assert sum(step.to_state == State.UNKNOWN for step in history) >= KILLS
