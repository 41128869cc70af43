"""Issue 7 point 18: what `clarion validate` says of a post in the past is what the daemon
does: within its not_after it goes out late; past it, it expires and is not posted."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
    CLARION,
    PostSpec,
    campaign_text,
    daemon_process,
    instant,
    mastodon_channels,
    reading,
    sqlite_url,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_validate_says_what_the_daemon_does_with_past_posts(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")
    now = datetime.now(UTC).replace(microsecond=0)
    posts = [
        PostSpec("late", instant(now - timedelta(minutes=5)), "five minutes late"),
        PostSpec("gone", instant(now - timedelta(minutes=30)), "half an hour late"),
    ]
    fake = MastodonFake(status_limit=None)
    with fake:
        config = write_config(tmp_path, mastodon_channels(["m0"], [fake.base_url]), ledger=url)
        (tmp_path / "plans" / "past.yaml").write_text(
            campaign_text("past", ["m0"], posts, timezone="UTC", not_after="20m")
        )
        checked = subprocess.run(
            [str(CLARION), "validate", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert checked.returncode == 0, checked.stderr
        deadline = now + timedelta(minutes=15)
        late, gone = (
            next(line for line in checked.stdout.splitlines() if f"post '{post}'" in line)
            for post in ("late", "gone")
        )
        assert late.endswith(
            "unless already sent, it goes out late if the daemon loads this plan before "
            f"{deadline:%Y-%m-%d %H:%M} UTC (not_after), and not at all after that"
        )
        assert "will not go out" not in late
        assert gone.endswith(
            "its not_after deadline has passed too, so it will not go out (the daemon records "
            "it as expired)"
        )
        with daemon_process(config, token=ACCESS_TOKEN) as daemon:
            daemon.ready()
            wait_until(lambda: len(fake.posts) == 1, 30, what="the late post")
            assert daemon.stop() == 0
    assert [p["text"] for p in fake.posts] == ["five minutes late"]
    with reading(url) as ledger:
        states = {row.post: row.state for row in ledger.rows("past")}
    assert states == {"late": State.SENT, "gone": State.EXPIRED}
