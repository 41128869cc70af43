"""A ledger that fails in the middle of a burst does not stop the daemon: claims and finishes
that fail are retried or settle through the lease, the sweeper says so and recovers, and
every delivery still goes out exactly once.

SQLite: another connection holds the write lock for a while (with a 1 s busy time-out instead
of 30 s, so that the writes really fail). PostgreSQL: the daemon's connections are killed
with pg_terminate_backend, twice. And a post whose sending cannot be recorded has its address
in the log.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest

from connectors.fakes.server import Request, Response
from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from connectors.platforms.telegram.fake import TOKEN, TelegramFake
from scheduler.ledger.api import State
from tests.scheduler.conftest import PG_ADMIN
from tests.scheduler.daemonkit import (
    FAST,
    TOKEN_ENV,
    burst,
    daemon_in_process,
    daemon_process,
    mastodon_channels,
    soon,
    sqlite_url,
    telegram_channel,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow

CHANNELS = [f"m{i}" for i in range(4)]
TOTAL = 4 * 30
POLICIES = {**FAST, "lease": "6s"}  # longer than the channels' 5 s timeout


def run_burst_with(
    tmp_path: Path, url: str, break_ledger: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> Counter[str]:
    """Break the ledger once the burst is under way; returns the posts made, by key."""
    monkeypatch.setenv(TOKEN_ENV, ACCESS_TOKEN)
    fakes = [MastodonFake(latency=0.05, status_limit=None) for _ in CHANNELS]
    with ExitStack() as stack:
        for fake in fakes:
            fake.windows["all"].limit = None
            stack.enter_context(fake)
        channels = mastodon_channels(CHANNELS, [fake.base_url for fake in fakes])
        config = write_config(tmp_path, channels, ledger=url, policies=POLICIES, listen=None)
        (tmp_path / "plans" / "b.yaml").write_text(burst("b", CHANNELS, 30, soon(2)))
        daemon, _ = stack.enter_context(daemon_in_process(config))
        wait_until(lambda: sum(len(f.posts) for f in fakes) >= 20, 30, 0.01, "the burst")
        break_ledger()
        wait_until(
            lambda: daemon.ledger.counts("b")[State.SENT] == TOTAL, 60, 0.2, "every post sent"
        )
        wait_until(lambda: daemon.health_report().ok, 10, what="health back to ok")
    return Counter(post["idempotency_key"] for fake in fakes for post in fake.posts)


def test_sqlite_locked_for_a_while(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from scheduler.ledger import sql

    monkeypatch.setattr(sql, "BUSY_TIMEOUT_S", 1)
    url = sqlite_url(tmp_path)

    def lock() -> None:
        blocker = sqlite3.connect(tmp_path / "state" / "ledger.db", isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        time.sleep(4)
        blocker.execute("ROLLBACK")
        blocker.close()

    with caplog.at_level(logging.INFO):
        keys = run_burst_with(tmp_path, url, lock, monkeypatch)
    assert len(keys) == TOTAL and set(keys.values()) == {1}
    messages = [r.getMessage() for r in caplog.records]
    # the sweep or the heartbeat, whichever meets the lock first
    assert any(m.startswith("ledger error (") for m in messages)
    assert any(m.startswith("ledger reachable again") for m in messages)


@pytest.mark.postgres
def test_postgresql_connections_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str, pg_database: str
) -> None:
    import psycopg

    def terminate() -> None:
        for _ in range(2):
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (pg_database,),
                )
            time.sleep(0.5)

    keys = run_burst_with(tmp_path, pg_url, terminate, monkeypatch)
    assert len(keys) == TOTAL and set(keys.values()) == {1}


class _LedgerBreakingTelegram(TelegramFake):
    """Makes the ledger fail while its answer to a new message is on its way."""

    def __init__(self, break_ledger: Callable[[], None]) -> None:
        super().__init__()
        self.break_ledger = break_ledger

    def _handle(self, request: Request) -> Response:
        response = super()._handle(request)
        if request.path.endswith("/sendMessage") and response.status == 200:
            self.break_ledger()
        return response


@pytest.mark.postgres
def test_a_post_whose_sending_cannot_be_recorded_has_its_address_logged(
    tmp_path: Path, pg_url: str
) -> None:
    """Issue 7: when recording "sent" failed, the post's URL was not logged, and the operator
    had no way to `resolve KEY --sent URL` it."""
    import psycopg

    ledger = psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"))
    ledger.autocommit = True

    def move_the_table(source: str, target: str) -> None:
        ledger.execute(f"ALTER TABLE {source} RENAME TO {target}")

    fake = _LedgerBreakingTelegram(lambda: move_the_table("deliveries", "deliveries_away"))
    try:
        with fake:
            config = write_config(
                tmp_path,
                {"tg": telegram_channel(fake.base_url)},
                ledger=pg_url,
                policies=POLICIES,
                listen=None,
            )
            (tmp_path / "plans" / "b.yaml").write_text(burst("b", ["tg"], 1, soon(3)))
            with daemon_process(config, token=TOKEN) as daemon:
                line = daemon.wait_log(
                    lambda x: x["message"].endswith("then becomes unknown"), 60, "the failure"
                )
                move_the_table("deliveries_away", "deliveries")
                assert daemon.stop() == 0
    finally:
        ledger.close()
    (message,) = fake.posts
    assert "could not record Sent (it went out: https://t.me/" in line["message"]
    assert f"/{message['message_id']})" in line["message"]
