"""The preview's projected times on a rate-limited channel are the times the daemon keeps.

`clarion preview --format json` projects when each post goes out once the channel's `rate`
has had its say; `clarion run` then posts them to a loopback Mastodon fake, which notes when
each status arrived. Both are real processes reading the same config.yaml.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from tests.scheduler.daemonkit import (
    CLARION,
    PostSpec,
    campaign_text,
    daemon_process,
    instant,
    mastodon_channels,
    soon,
    sqlite_url,
    write_config,
)

pytestmark = pytest.mark.slow

TOLERANCE_S = 3.0
"""How far apart a projected and an actual time may be: the daemon's alarm and sweeper
granularity, and a loaded machine."""


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_projected_times_are_what_the_daemon_does(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")
    fake = MastodonFake(status_limit=None)
    fake.windows["all"].limit = None
    with fake:
        channels = mastodon_channels(["rated"], [fake.base_url])
        channels["rated"]["rate"] = {"posts": 2, "per": "8s", "min_interval": "2s"}
        config = write_config(tmp_path, channels, ledger=url)
        due = soon(10)
        posts = [PostSpec(f"p{i}", instant(due), f"post number {i}") for i in range(4)]
        (tmp_path / "plans" / "rated.yaml").write_text(campaign_text("rated", ["rated"], posts))
        preview = subprocess.run(
            [str(CLARION), "preview", "--config", str(config), "--format", "json"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert preview.returncode == 0, preview.stderr
        items = {item["post"]: item for item in json.loads(preview.stdout)}
        predicted = {
            post: datetime.fromisoformat(item["projected_utc"] or item["due_utc"])
            for post, item in items.items()
        }
        moved = sorted((post, (when - due).total_seconds()) for post, when in predicted.items())
        assert moved == [("p0", 0), ("p1", 2), ("p2", 8), ("p3", 10)]
        assert items["p1"]["projected_reason"] == "rated allows 2 posts per 8s, at least 2s apart"
        with daemon_process(config, "--exit-when-idle", token=ACCESS_TOKEN) as daemon:
            daemon.ready()
            assert daemon.wait(120) == 0, daemon.text()
        sent = {post["text"].rsplit(" ", 1)[-1]: post["created_at"] for post in fake.posts}
    assert len(sent) == 4
    for post, when in predicted.items():
        actual = sent[post.removeprefix("p")]
        assert abs((actual - when).total_seconds()) <= TOLERANCE_S, (post, when, actual)
