"""A channel's rate budget is kept in the ledger and shared by every daemon on it.

On PostgreSQL three daemons post one burst on one Telegram channel; mid-burst one is killed
(`kill -9`) and another frozen (SIGSTOP) until the burst is out, then woken. Together they
respect the channel's budget (read from the ledger's history: when each post was claimed),
post nothing twice, and lose nothing: every delivery is sent, or unknown for an operator (the
publish in flight when a daemon died or froze). On SQLite one daemon, killed and restarted,
goes through the same code path. Before the budgets were shared, each daemon had its own,
and three daemons posted three times as fast.
"""

from __future__ import annotations

import signal
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from connectors.platforms.telegram.fake import TOKEN, TelegramFake
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
    FAST,
    DaemonProcess,
    burst,
    count,
    reading,
    soon,
    sqlite_url,
    telegram_channel,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow

POSTS, PER = 4, timedelta(seconds=2)
TOTAL = 36
SHORT_LEASE = {**FAST, "lease": "3s"}


def most_in_any_window(claims: list[datetime], per: timedelta) -> int:
    """The most claims in any window of `per` (half-open, as the budget counts)."""
    claims = sorted(claims)
    most, first = 0, 0
    for last, at in enumerate(claims):
        while claims[first] + per <= at:
            first += 1
        most = max(most, last - first + 1)
    return most


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_daemons_share_a_channel_budget_nothing_twice_nothing_lost(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")
    fake = TelegramFake(latency=0.02)
    daemons: list[DaemonProcess] = []
    with fake:
        channel = {
            **telegram_channel(fake.base_url),
            "rate": {"posts": POSTS, "per": "2s"},
            "timeout": "2s",  # shorter than the short lease
        }
        config = write_config(
            tmp_path, {"tg": channel}, ledger=url, policies=SHORT_LEASE, listen=None
        )
        (tmp_path / "plans" / "burst.yaml").write_text(burst("budget", ["tg"], TOTAL, soon(4)))

        def posted() -> int:
            return len(fake.posts)

        def settled() -> bool:
            with reading(url) as ledger:
                return count(ledger, State.SENT, State.UNKNOWN) == TOTAL

        try:
            if backend == "postgresql":
                daemons = [DaemonProcess(config, token=TOKEN) for _ in range(3)]
                wait_until(lambda: posted() >= 8, 90, 0.01, "posts before the kill")
                daemons[0].kill()
                wait_until(lambda: posted() >= 16, 90, 0.01, "posts before the freeze")
                daemons[1].signal(signal.SIGSTOP)
                wait_until(settled, 120, 0.2, "every delivery sent or unknown")
                daemons[1].signal(signal.SIGCONT)
            else:
                first = DaemonProcess(config, token=TOKEN)
                daemons.append(first)
                wait_until(lambda: posted() >= 12, 90, 0.01, "posts before the kill")
                first.kill()
                daemons.append(DaemonProcess(config, token=TOKEN))
                wait_until(settled, 120, 0.2, "every delivery sent or unknown")
            for daemon in daemons[1:]:
                assert daemon.stop() == 0, daemon.text()
        finally:
            for daemon in daemons:
                if daemon.process.poll() is None:
                    daemon.kill()
        texts = Counter(str(post.get("text")) for post in list(fake.posts))
    assert max(texts.values()) == 1, "a post went out twice"
    with reading(url) as ledger:
        rows = ledger.rows("budget")
        claims = [
            step.at
            for row in rows
            for step in ledger.history(row.key)
            if step.to_state == State.CLAIMED
        ]
    sent = [row for row in rows if row.state == State.SENT]
    unknown = [row for row in rows if row.state == State.UNKNOWN]
    assert len(sent) + len(unknown) == TOTAL
    assert len(unknown) <= 2  # at most the publish in flight when a daemon died or froze
    assert {row.delivery.text for row in sent} <= set(texts)
    assert most_in_any_window(claims, PER) <= POSTS
