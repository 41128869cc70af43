"""Claims under contention: pause is checked inside the claim, and no row is claimed twice.

Each test uses its own SqlLedger per thread or process, as separate daemons and operator
commands would. Threads are bounded by joins with time-outs; nothing asserts on timing.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text, update

from scheduler.config import RateSettings
from scheduler.ledger import sql
from scheduler.ledger.api import Claim, LedgerUnavailable, Sent, State
from scheduler.ledger.sql import SqlLedger, open_ledger
from scheduler.ledger.tables import campaign_controls
from tests.scheduler.ledgerkit import LEASE, NOW, delivery, ref

ROOT = Path(__file__).resolve().parents[2]
JOIN = 30.0


@contextmanager
def opened(url: str) -> Iterator[SqlLedger]:
    ledger = open_ledger(url, process="test:2")
    try:
        yield ledger
    finally:
        ledger.close()


def start(target: Callable[[], None]) -> threading.Thread:
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    return worker


PAUSE_CHECK = {"sqlite": "UPDATE deliveries SET state", "postgresql": "WITH claimed AS"}
"""The claim's statement: on SQLite its write lock keeps pause out; on PostgreSQL it reads the
campaign's pause under a shared lock, held until the claim commits."""


def stop_at_pause_check(
    ledger: SqlLedger, when: str, reached: threading.Event, go: threading.Event
) -> None:
    """Hold the claiming thread just before (or after) it checks the campaign's pause."""
    check = PAUSE_CHECK[ledger.engine.dialect.name]

    def hook(*args: Any) -> None:
        if str(args[2]).lstrip().startswith(check):
            reached.set()
            assert go.wait(JOIN)

    event.listen(ledger.engine, f"{when}_cursor_execute", hook)


def test_pause_waits_for_a_claim_in_flight(ledger_url: str) -> None:
    """A claim that read "not paused" commits before pause returns, never after."""
    item = delivery("a")
    with opened(ledger_url) as claimer, opened(ledger_url) as operator:
        claimer.sync([item], NOW)
        reached, go = threading.Event(), threading.Event()
        stop_at_pause_check(claimer, "after", reached, go)
        result: list[Claim | None] = []
        state_when_pause_returned: list[State] = []

        def pause() -> None:
            operator.pause("sayno", None, "alice", NOW)
            state_when_pause_returned.append(operator.find(item.key).state)

        claiming = start(lambda: result.append(claimer.claim("x-main", "d", LEASE, NOW)))
        assert reached.wait(JOIN)
        pausing = start(pause)
        pausing.join(0.3)  # room for a broken pause to return early
        go.set()
        claiming.join(JOIN)
        pausing.join(JOIN)
        assert result and result[0] is not None
        assert state_when_pause_returned == [State.CLAIMED]


@pytest.mark.postgres
@pytest.mark.parametrize("finishing", [False, True], ids=["claim", "finish-and-claim"])
def test_a_claim_that_meets_a_pause_being_committed_gives_up(pg_url: str, finishing: bool) -> None:
    """A pause under way when the claim starts: the claim chooses the row (the campaign is not
    paused as it began), waits for the pause on the campaign's lock, sees it, and claims
    nothing; a result recorded with it is kept. (On SQLite the claim's write lock makes pause
    wait instead: the test above.)"""
    first, second = delivery("a"), delivery("b")
    with opened(pg_url) as claimer, claimer.engine.connect() as watcher:
        claimer.sync([first, second], NOW)
        previous = claimer.claim("x-main", "d", LEASE, NOW)
        assert previous is not None
        result: list[object] = []

        def claim() -> None:
            if finishing:
                assert previous is not None
                result.append(claimer.finish_and_claim(previous, Sent(ref(1)), NOW, LEASE))
            else:
                result.append(claimer.claim("x-main", "d", LEASE, NOW))

        with claimer.engine.connect() as pausing:
            pausing.execute(
                update(campaign_controls)
                .where(campaign_controls.c.campaign == "sayno")
                .values(paused=True)
            )
            claiming = start(claim)
            waiting = text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            for _ in range(1000):
                if watcher.scalar(waiting):
                    break
                watcher.rollback()  # the activity statistics are read once per transaction
                time.sleep(0.01)
            else:
                pytest.fail("the claim never waited for the pause")
            pausing.commit()
        claiming.join(JOIN)
        assert result == [(True, None)] if finishing else [None]
        assert claimer.find(first.key).state == (State.SENT if finishing else State.CLAIMED)
        assert claimer.find(second.key).state == State.PLANNED
        assert [h.to_state for h in claimer.history(second.key)] == [State.PLANNED]


@pytest.mark.postgres
def test_a_daemon_frozen_inside_a_claim_does_not_hold_up_the_others(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon frozen (SIGSTOP, a suspended machine) in the middle of a claim holds its
    channel's budget lock: PostgreSQL ends its session once it has been idle in the transaction
    too long, the other daemons' claims go on, and the frozen one, woken, finds the ledger
    unavailable and its claim undone. Before, every other daemon waited as long as it slept."""
    monkeypatch.setattr(sql, "IDLE_IN_TRANSACTION", timedelta(seconds=1))
    rate = RateSettings(posts=10, per=timedelta(hours=1))
    frozen_result: list[object] = []
    other_result: list[Claim | None] = []
    with opened(pg_url) as frozen, opened(pg_url) as other:
        frozen.sync([delivery("a"), delivery("b")], NOW)
        reached, go = threading.Event(), threading.Event()
        stop_at_pause_check(frozen, "after", reached, go)

        def freeze() -> None:
            try:
                frozen_result.append(frozen.claim("x-main", "frozen", LEASE, NOW, rate=rate))
            except LedgerUnavailable as exc:
                frozen_result.append(exc)

        freezing = start(freeze)
        try:
            assert reached.wait(JOIN)
            claiming = start(
                lambda: other_result.append(other.claim("x-main", "other", LEASE, NOW, rate=rate))
            )
            claiming.join(JOIN)
            assert not claiming.is_alive(), "the frozen daemon's lock held the other one up"
        finally:
            go.set()
            freezing.join(JOIN)
        claimed = other_result[0]
        assert claimed is not None and claimed.row.key == delivery("a").key
        assert claimed.owner == "other"
        assert len(frozen_result) == 1 and isinstance(frozen_result[0], LedgerUnavailable)
        assert [h.to_state for h in other.history(claimed.row.key)] == [
            State.PLANNED,
            State.CLAIMED,
        ]


def test_no_claim_succeeds_once_pause_has_returned(ledger_url: str) -> None:
    channels = ["x-main", "mastodon-main", "bluesky-main"]
    with opened(ledger_url) as setup:
        setup.sync([delivery(f"p{i}", channel=c) for c in channels for i in range(150)], NOW)
    paused, warmed_up = threading.Event(), threading.Event()
    late_claims: list[str] = []
    made: list[str] = []

    def hammer(channel: str) -> None:
        with opened(ledger_url) as ledger:
            while True:
                after_pause = paused.is_set()
                found = ledger.claim(channel, f"daemon-{channel}", LEASE, NOW)
                if found is None:
                    if after_pause:
                        return
                    continue
                made.append(found.row.key)
                if len(made) >= 6:
                    warmed_up.set()
                if after_pause:
                    late_claims.append(found.row.key)

    workers = [start(lambda c=c: hammer(c)) for c in channels]  # type: ignore[misc]
    assert warmed_up.wait(JOIN)
    with opened(ledger_url) as operator:
        operator.pause("sayno", "stop now", "alice", NOW)
        paused.set()
        for worker in workers:
            worker.join(JOIN)
        assert not any(w.is_alive() for w in workers)
        assert late_claims == []
        assert operator.counts()[State.PLANNED] > 0, "the hammer ran out of rows before pausing"
        assert len(made) == len(set(made))


def test_concurrent_claimers_never_share_a_row(ledger_url: str) -> None:
    items = [delivery(f"p{i:02}") for i in range(40)]
    with opened(ledger_url) as setup:
        setup.sync(items, NOW)
    taken: list[list[str]] = [[] for _ in range(4)]

    def drain(mine: list[str]) -> None:
        with opened(ledger_url) as ledger:
            while (found := ledger.claim("x-main", "d", LEASE, NOW)) is not None:
                mine.append(found.row.key)

    workers = [start(lambda m=m: drain(m)) for m in taken]  # type: ignore[misc]
    for worker in workers:
        worker.join(JOIN)
    everything = [key for mine in taken for key in mine]
    assert sorted(everything) == sorted(d.key for d in items)


DRAIN = """
import sys
from datetime import timedelta
from scheduler.ledger.sql import open_ledger
from tests.scheduler.ledgerkit import NOW
ledger = open_ledger(sys.argv[1])
sys.stdin.readline()
while (claim := ledger.claim("x-main", sys.argv[2], timedelta(minutes=5), NOW)) is not None:
    print(claim.row.key, flush=True)
"""


def test_daemon_processes_never_share_a_row(ledger_url: str) -> None:
    items = [delivery(f"p{i:02}") for i in range(60)]
    with opened(ledger_url) as setup:
        setup.sync(items, NOW)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", DRAIN, ledger_url, f"proc-{n}"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    outputs = []
    for child in children:  # all started and migrated before any claims
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    for child in children:
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 0
        outputs += out.split()
    assert sorted(outputs) == sorted(d.key for d in items)


@pytest.mark.postgres
def test_sync_leaves_alone_a_row_claimed_while_it_was_reading(pg_url: str) -> None:
    removed, kept = delivery("removed"), delivery("kept", channel="m")
    with opened(pg_url) as syncer, opened(pg_url) as daemon:
        syncer.sync([removed, kept], NOW)
        reached, go = threading.Event(), threading.Event()

        def hook(*args: Any) -> None:
            if str(args[2]).lstrip().startswith("SELECT deliveries.key, deliveries.campaign"):
                reached.set()
                assert go.wait(JOIN)

        event.listen(syncer.engine, "after_cursor_execute", hook)
        reports: list[Any] = []
        syncing = start(lambda: reports.append(syncer.sync([kept], NOW)))
        assert reached.wait(JOIN)
        found = daemon.claim("x-main", "daemon-b", LEASE, NOW)
        assert found is not None and found.row.key == removed.key
        go.set()
        syncing.join(JOIN)
        assert reports and reports[0].cancelled == []
        assert daemon.find(removed.key).state == State.CLAIMED
        assert [h.to_state for h in daemon.history(removed.key)] == [State.PLANNED, State.CLAIMED]


def test_writers_in_one_process_take_turns_on_an_sqlite_file(tmp_path: Path) -> None:
    """Ledgers on one file in one process never write at the same time: each waits for its
    turn in the process instead of in SQLite's busy handler, which sleeps in growing steps."""
    url = f"sqlite:///{tmp_path}/ledger.db"
    channels = ["a", "b", "c", "d"]
    writing: set[Any] = set()
    most = 0
    count = threading.Lock()

    def entering(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        """A write transaction wants to start."""
        nonlocal most
        if statement == "BEGIN IMMEDIATE":
            with count:
                writing.add(connection.connection.dbapi_connection)
                most = max(most, len(writing))

    def left(dbapi_connection: Any, _record: Any) -> None:
        """Back in the pool: committed (or rolled back) and done."""
        with count:
            writing.discard(dbapi_connection)

    def drain(ledger: SqlLedger, channel: str) -> None:
        ready.wait(JOIN)
        while (claim := ledger.claim(channel, "d", LEASE, NOW)) is not None:
            assert ledger.finish(claim, Sent(ref(claim.row.key)), NOW)

    ready = threading.Barrier(len(channels))
    with ExitStack() as stack:
        ledgers = [stack.enter_context(opened(url)) for _ in channels]
        ledgers[0].sync([delivery(f"p{i:02}", channel=c) for c in channels for i in range(30)], NOW)
        for ledger in ledgers:
            event.listen(ledger.engine, "before_cursor_execute", entering)
            event.listen(ledger.engine, "checkin", left)
        workers = [
            start(lambda ledger=ledger, c=c: drain(ledger, c))  # type: ignore[misc]
            for ledger, c in zip(ledgers, channels, strict=True)
        ]
        for worker in workers:
            worker.join(JOIN)
        assert ledgers[0].counts()[State.SENT] == 120
    assert most == 1


def test_an_sqlite_write_that_waits_too_long_for_its_turn_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scheduler.ledger import sql

    url = f"sqlite:///{tmp_path}/ledger.db"
    with opened(url) as daemon, opened(url) as operator:
        daemon.sync([delivery("a")], NOW)
        reached, go = threading.Event(), threading.Event()
        stop_at_pause_check(daemon, "after", reached, go)

        def claim() -> None:
            daemon.claim("x-main", "d", LEASE, NOW)

        claiming = start(claim)
        assert reached.wait(JOIN)
        monkeypatch.setattr(sql, "BUSY_TIMEOUT_S", 0.1)
        with pytest.raises(LedgerUnavailable, match="another write in this process took longer"):
            operator.pause("sayno", None, "alice", NOW)
        go.set()
        claiming.join(JOIN)
