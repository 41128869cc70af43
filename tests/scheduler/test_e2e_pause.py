"""Pause while a burst is in flight (docs/design.md rule 4): once `clarion pause` returns,
nothing more is claimed; the publishes already under way complete; `clarion resume` lets the
rest go out."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
    CLARION,
    burst,
    daemon_process,
    mastodon_channels,
    reading,
    soon,
    sqlite_url,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow

CHANNELS = [f"m{i}" for i in range(6)]
TOTAL = 6 * 15


def clarion(config: Path, *args: str) -> datetime:
    """Run a clarion command to its end; returns the instant it returned."""
    done = subprocess.run(
        [str(CLARION), *args, "--config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return datetime.now(UTC)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_nothing_is_claimed_after_pause_returns(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")
    # 15 posts of 0.5 s per channel: `pause` lands mid-burst even on a busy machine
    fake = MastodonFake(latency=0.5, status_limit=None)
    fake.windows["all"].limit = None
    with fake:
        config = write_config(tmp_path, mastodon_channels(CHANNELS, [fake.base_url]), ledger=url)
        (tmp_path / "plans" / "ps.yaml").write_text(burst("ps", CHANNELS, 15, soon(3)))
        with daemon_process(config, token=ACCESS_TOKEN) as daemon:
            daemon.ready()
            wait_until(lambda: len(fake.posts) >= 12, 30, 0.01, "the burst under way")
            paused_at = clarion(config, "pause", "ps")
            posted_at_pause = len(fake.posts)
            time.sleep(3)  # several sweeps and wake-ups later, still nothing is claimed
            with reading(url) as ledger:
                claims = [
                    step
                    for key in ledger.keys("ps")
                    for step in ledger.history(key)
                    if step.to_state == State.CLAIMED
                ]
                late_claims = [step for step in claims if step.at > paused_at]
                planned = ledger.counts("ps")[State.PLANNED]
            assert late_claims == []
            assert planned > 0
            after = [p for p in fake.posts if p["created_at"] > paused_at]
            assert len(after) <= len(CHANNELS)  # at most the publish in flight per channel
            assert len(fake.posts) <= posted_at_pause + len(CHANNELS)

            clarion(config, "resume", "ps")

            def all_sent() -> bool:
                with reading(url) as ledger:
                    return ledger.counts("ps")[State.SENT] == TOTAL

            wait_until(all_sent, 60, 0.2, "every post after resume")
            assert daemon.stop() == 0
    assert len({p["idempotency_key"] for p in fake.posts}) == len(fake.posts) == TOTAL
