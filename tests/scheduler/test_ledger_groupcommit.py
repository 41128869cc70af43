"""Group commit (scheduler/ledger/groupcommit.py): writes that wait together share one
transaction, each writer gets its own result only once that transaction is committed, a
failure in a batch (a write's or the commit's) fails only the writes that meet it when they
run again alone, and a process killed in the middle of a batch never acted on a write that was
not committed.

Threads are bounded by joins with time-outs; nothing asserts on timing.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, event, text

from scheduler.ledger.api import Sent, State
from scheduler.ledger.groupcommit import GroupCommit
from scheduler.ledger.sql import SqlLedger, open_ledger
from tests.scheduler.ledgerkit import LEASE, NOW, delivery, ref

ROOT = Path(__file__).resolve().parents[2]
JOIN = 30.0


def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite as the ledger runs it: transactions begun by SQLAlchemy, not by the driver."""
    made = create_engine(f"sqlite:///{tmp_path}/t.db")
    event.listen(made, "connect", _no_driver_transactions)
    event.listen(made, "begin", _begin)
    with made.begin() as connection:
        connection.execute(text("CREATE TABLE t (k TEXT PRIMARY KEY)"))
    yield made
    made.dispose()


def stored(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(text("SELECT k FROM t")))


def insert(k: str) -> Callable[[Connection], str]:
    def work(connection: Connection) -> str:
        connection.execute(text("INSERT INTO t VALUES (:k)"), {"k": k})
        return k

    return work


def start(target: Callable[[], None]) -> threading.Thread:
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    return worker


def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + JOIN
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.01)


class Blocked:
    """A group commit whose first batch waits, inside its transaction, until let go; the
    batches it commits are counted."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.commits: list[int] = []
        self.reached, self.go = threading.Event(), threading.Event()
        self.group = GroupCommit(self._transaction)
        self._works = 0

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            self._works = 0
            yield connection
        self.commits.append(self._works)

    def hold(self, k: str) -> Callable[[Connection], str]:
        def work(connection: Connection) -> str:
            self.reached.set()
            assert self.go.wait(JOIN)
            return self.count(insert(k))(connection)

        return work

    def count(self, work: Callable[[Connection], str]) -> Callable[[Connection], str]:
        def counted(connection: Connection) -> str:
            self._works += 1
            return work(connection)

        return counted

    def waiting(self, n: int) -> bool:
        return len(self.group._waiting) == n


def test_writes_that_wait_together_share_one_commit(engine: Engine) -> None:
    blocked = Blocked(engine)
    seen: dict[str, tuple[str, bool]] = {}

    def write(work: Callable[[Connection], str], k: str) -> None:
        result = blocked.group.run(work)
        seen[k] = (result, k in stored(engine))  # committed by the time run() returns

    first = start(lambda: write(blocked.hold("a"), "a"))
    assert blocked.reached.wait(JOIN)
    others = [
        start(lambda k=k: write(blocked.count(insert(k)), k))  # type: ignore[misc]
        for k in "bcdef"
    ]
    until(lambda: blocked.waiting(5))
    blocked.go.set()
    for worker in [first, *others]:
        worker.join(JOIN)
    assert blocked.commits == [1, 5]
    assert seen == {k: (k, True) for k in "abcdef"}
    assert stored(engine) == set("abcdef")


def test_a_write_that_fails_fails_alone(engine: Engine) -> None:
    blocked = Blocked(engine)
    outcomes: dict[str, object] = {}

    def broken(connection: Connection) -> str:
        insert("half-done")(connection)
        raise ValueError("this write is wrong")

    def write(work: Callable[[Connection], str], k: str) -> None:
        try:
            outcomes[k] = blocked.group.run(work)
        except ValueError as exc:
            outcomes[k] = exc

    first = start(lambda: write(blocked.hold("a"), "a"))
    assert blocked.reached.wait(JOIN)
    others = []
    for k, work in [("b", insert("b")), ("broken", broken), ("c", insert("c"))]:
        others.append(start(lambda k=k, work=work: write(work, k)))  # type: ignore[misc]
        queued = len(others)
        until(lambda: blocked.waiting(queued))  # noqa: B023 - called at once
    blocked.go.set()
    for worker in [first, *others]:
        worker.join(JOIN)
    assert outcomes["a"] == "a" and outcomes["b"] == "b" and outcomes["c"] == "c"
    assert isinstance(outcomes["broken"], ValueError)
    assert stored(engine) == {"a", "b", "c"}


@pytest.mark.parametrize("lasting", [True, False])
def test_after_a_commit_that_fails_each_write_of_the_batch_runs_alone(
    engine: Engine, lasting: bool
) -> None:
    """A failure that lasts fails each write; a passing one, none."""
    reached, go = threading.Event(), threading.Event()
    batches = 0

    @contextmanager
    def transaction() -> Iterator[Connection]:
        nonlocal batches
        batches += 1
        with engine.connect() as connection, connection.begin() as begun:
            yield connection
            if batches == 2 or (lasting and batches > 2):
                begun.rollback()
                raise OSError("disk I/O error")

    group = GroupCommit(transaction)
    outcomes: dict[str, object] = {}

    def first(connection: Connection) -> str:
        reached.set()
        assert go.wait(JOIN)
        return insert("a")(connection)

    def write(work: Callable[[Connection], str], k: str) -> None:
        try:
            outcomes[k] = group.run(work)
        except OSError as exc:
            outcomes[k] = exc

    leader = start(lambda: write(first, "a"))
    assert reached.wait(JOIN)
    others = [start(lambda k=k: write(insert(k), k)) for k in "bcd"]  # type: ignore[misc]
    until(lambda: len(group._waiting) == 3)
    go.set()
    for worker in [leader, *others]:
        worker.join(JOIN)
    assert outcomes["a"] == "a"
    assert batches == 5  # a; b, c and d together; then each alone
    if lasting:
        assert all(isinstance(outcomes[k], OSError) for k in "bcd")
        assert stored(engine) == {"a"}
    else:
        assert {k: outcomes[k] for k in "bcd"} == {k: k for k in "bcd"}
        assert stored(engine) == set("abcd")


def test_a_transaction_that_cannot_begin_fails_the_whole_batch_at_once(engine: Engine) -> None:
    """The ledger unavailable (its writer lock held too long, say): every write of the batch
    fails with that, none tries again alone."""
    reached, go = threading.Event(), threading.Event()
    opened = 0

    @contextmanager
    def transaction() -> Iterator[Connection]:
        nonlocal opened
        opened += 1
        if opened > 1:
            raise OSError("the ledger is unavailable")
        with engine.begin() as connection:
            yield connection

    group = GroupCommit(transaction)
    outcomes: dict[str, object] = {}

    def first(connection: Connection) -> str:
        reached.set()
        assert go.wait(JOIN)
        return insert("a")(connection)

    def write(work: Callable[[Connection], str], k: str) -> None:
        try:
            outcomes[k] = group.run(work)
        except OSError as exc:
            outcomes[k] = exc

    leader = start(lambda: write(first, "a"))
    assert reached.wait(JOIN)
    others = [start(lambda k=k: write(insert(k), k)) for k in "bcd"]  # type: ignore[misc]
    until(lambda: len(group._waiting) == 3)
    go.set()
    for worker in [leader, *others]:
        worker.join(JOIN)
    assert outcomes["a"] == "a"
    assert all(isinstance(outcomes[k], OSError) for k in "bcd")
    assert opened == 2
    assert stored(engine) == {"a"}


def test_many_writers_all_get_their_own_result(engine: Engine) -> None:
    group = GroupCommit(engine.begin)
    results: dict[str, list[str]] = {}

    def writer(name: str) -> None:
        results[name] = [group.run(insert(f"{name}-{i}")) for i in range(20)]

    workers = [start(lambda n=n: writer(f"w{n}")) for n in range(10)]  # type: ignore[misc]
    for worker in workers:
        worker.join(JOIN)
    assert results == {f"w{n}": [f"w{n}-{i}" for i in range(20)] for n in range(10)}
    assert len(stored(engine)) == 200


def test_channel_workers_dispatch_each_delivery_once_through_shared_commits(
    ledger_url: str,
) -> None:
    """The dispatcher's writes (claim, finish and claim the next) from one thread per
    channel, as in a burst: every delivery claimed once and sent once, its history whole."""
    channels = [f"c{n}" for n in range(8)]
    items = [delivery(f"p{i:02}", channel=c) for c in channels for i in range(10)]
    ledger = open_ledger(ledger_url, process="test:1")
    try:
        ledger.sync(items, NOW)
        ready = threading.Barrier(len(channels))
        made: list[str] = []

        def drain(channel: str) -> None:
            ready.wait(JOIN)
            claim = ledger.claim(channel, "d", LEASE, NOW)
            while claim is not None:
                assert ledger.holds(claim)
                made.append(claim.row.key)
                finished, claim = ledger.finish_and_claim(
                    claim, Sent(ref(claim.row.key)), NOW, LEASE
                )
                assert finished

        workers = [start(lambda c=c: drain(c)) for c in channels]  # type: ignore[misc]
        for worker in workers:
            worker.join(JOIN)
        assert sorted(made) == sorted(d.key for d in items)
        assert ledger.counts()[State.SENT] == len(items)
        for d in items[::7]:
            assert [h.to_state for h in ledger.history(d.key)] == [
                State.PLANNED,
                State.CLAIMED,
                State.SENT,
            ]
    finally:
        ledger.close()


CRASH = """
import os, sys, threading
from sqlalchemy import event
from scheduler.ledger.api import Sent
from scheduler.ledger.sql import open_ledger
from tests.scheduler.ledgerkit import LEASE, NOW, ref
ledger = open_ledger(sys.argv[1], process="crashing")
commits = 0
def die_at_commit(*_):
    global commits
    commits += 1
    if commits == int(sys.argv[2]):
        os._exit(9)  # before this batch's commit: none of its writes happened
event.listen(ledger.engine, "commit", die_at_commit)
channels = [f"c{n}" for n in range(8)]
ready = threading.Barrier(len(channels))
out = threading.Lock()
def drain(channel):
    ready.wait()
    claim = ledger.claim(channel, "d", LEASE, NOW)
    while claim is not None:
        with out:
            print("published", claim.row.key, flush=True)
        claim = ledger.finish_and_claim(claim, Sent(ref(claim.row.key)), NOW, LEASE)[1]
workers = [threading.Thread(target=drain, args=(c,)) for c in channels]
for w in workers:
    w.start()
for w in workers:
    w.join()
"""


@pytest.mark.slow
@pytest.mark.parametrize("commit", [2, 4, 6])
def test_a_process_killed_mid_batch_published_only_on_committed_claims(
    tmp_path: Path, commit: int
) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    items = [delivery(f"p{i:02}", channel=f"c{n}") for n in range(8) for i in range(6)]
    setup = open_ledger(url, process="setup")
    try:
        setup.sync(items, NOW)
    finally:
        setup.close()
    child = subprocess.run(
        [sys.executable, "-c", CRASH, url, str(commit)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == 9, child.stderr
    lines = [line.split() for line in child.stdout.splitlines()]
    published = [words[1] for words in lines if len(words) == 2]  # the last may be cut short
    assert len(published) == len(set(published))
    after: SqlLedger = open_ledger(url, process="after")
    try:
        states = {key: after.find(key).state for key in published}
        assert set(states.values()) <= {State.CLAIMED, State.SENT}, states
        assert after.counts()[State.SENT] < len(items)
    finally:
        after.close()
