"""A burst: 200 deliveries due in the same second, on a platform that takes 0.5 s per post.

One channel posts one part after another (thread order, rate budgets), so 200 posts on one
channel at 0.5 s would take 100 s by design, and a 10 min deadline would still hold, but tell
nothing about the daemon. The realistic burst is a campaign going out at one instant on many
accounts: 20 channels x 10 posts. The channels post in parallel, so the whole burst takes
about 10 x 0.5 s = 5 s, and nothing may be late enough to expire or be dropped.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
    burst,
    count,
    daemon_process,
    mastodon_channels,
    reading,
    soon,
    sqlite_url,
    write_config,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def fake() -> MastodonFake:
    fake = MastodonFake(latency=0.5, status_limit=None)
    fake.windows["all"].limit = None
    return fake


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_200_deliveries_due_in_one_second_all_go_out(
    backend: str, fake: MastodonFake, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")
    names = [f"m{i:02d}" for i in range(20)]
    with fake:
        config = write_config(tmp_path, mastodon_channels(names, [fake.base_url]), ledger=url)
        (tmp_path / "plans" / "burst.yaml").write_text(burst("burst", names, 10, soon(6)))
        with daemon_process(config, "--exit-when-idle", token=ACCESS_TOKEN) as daemon:
            daemon.ready()
            assert daemon.wait(90) == 0, daemon.text()
        with reading(url) as ledger:
            assert ledger.counts()[State.SENT] == 200
            assert count(ledger, State.EXPIRED, State.FAILED, State.UNKNOWN, State.PLANNED) == 0
        keys = Counter(post["idempotency_key"] for post in fake.posts)
        assert len(keys) == 200 and set(keys.values()) == {1}
    sent = daemon.find(lambda line: line["message"].startswith("sent"))
    assert len(sent) == 200
    assert all({"key", "campaign", "channel"} <= line.keys() for line in sent)
    late = max(line["late_s"] for line in sent)
    assert late < 600  # well inside not_after; the benchmark measures the real figures
