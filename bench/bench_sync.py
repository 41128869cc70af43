"""How fast the ledger takes a plan of 10,000 deliveries, and how fast it dispatches.

Targets on SQLite: sync into an empty ledger under 1.5 s; re-sync after editing one post under
0.3 s. Also: re-sync of an unchanged plan; claim + finish per delivery, each its own
transaction, and with each finish claiming the channel's next delivery in the same one (as the
dispatcher does); and a burst of 1,000 deliveries due at once on 50 channels, dispatched by 50
threads through a connector that takes 50 ms per post (1 s at best). Runs on PostgreSQL too
when the local server (127.0.0.1:5432, user postgres) answers. Prints a table; asserts no
timing. Run: python bench/bench_sync.py
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plangen import CHANNELS, write_plan

from campaigns import KnownChannel, LoadOptions, load_plan
from campaigns.delivery import Delivery
from campaigns.platforms import PLATFORMS
from connectors.base import (
    Capabilities,
    ChannelAccess,
    CheckReport,
    Connector,
    PlatformRef,
    Post,
    Published,
)
from scheduler.config import Policies
from scheduler.dispatch import Dispatcher
from scheduler.ledger.api import Sent
from scheduler.ledger.sql import SqlLedger, open_ledger

RUNS = 5
CLAIMS = 500
LEASE = timedelta(minutes=5)
BURST, BURST_CHANNELS, POST_SECONDS = 1000, 50, 0.05
SERVER = "postgres@127.0.0.1:5432"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


Timing = tuple[float, float]
"""(median wall-clock seconds, median CPU seconds)"""


def median(runs: int, setup: Callable[[], Callable[[], object]]) -> Timing:
    """Medians of `work`, each run on a fresh `setup()`."""
    wall, cpu = [], []
    for _ in range(runs):
        work = setup()
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def edited(deliveries: list[Delivery]) -> list[Delivery]:
    """The plan after a campaign manager reworded one post (all its languages and channels)."""
    first = deliveries[0].post
    return [
        dataclasses.replace(d, text=d.text + " (edited)", content_hash="") if d.post == first else d
        for d in deliveries
    ]


@contextmanager
def sqlite_urls() -> Iterator[Callable[[], str]]:
    with tempfile.TemporaryDirectory() as folder:
        yield lambda: f"sqlite:///{folder}/{uuid.uuid4().hex}.db"


@contextmanager
def postgres_urls() -> Iterator[Callable[[], str]]:
    import psycopg

    name = f"clarion_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"postgresql://{SERVER}/postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')

    def url() -> str:
        schema = f"s_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"postgresql://{SERVER}/{name}", autocommit=True) as c:
            c.execute(f'CREATE SCHEMA "{schema}"')
        return f"postgresql+psycopg://{SERVER}/{name}?options=-csearch_path%3D{schema}"

    try:
        yield url
    finally:
        with psycopg.connect(f"postgresql://{SERVER}/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def figures(fresh_url: Callable[[], str], plan: list[Delivery]) -> list[tuple[str, Timing, str]]:
    changed = edited(plan)
    opened: list[SqlLedger] = []

    def empty() -> Callable[[], object]:
        opened.append(open_ledger(fresh_url()))
        return partial(opened[-1].sync, plan, NOW)

    ledger = open_ledger(fresh_url())
    opened.append(ledger)
    ledger.sync(plan, NOW)
    versions = iter([changed, plan] * RUNS)

    def one_edit() -> Callable[[], object]:
        return partial(ledger.sync, next(versions), NOW)

    rows = [
        ("sync into an empty ledger", median(RUNS, empty), "target < 1.5 s (SQLite)"),
        ("re-sync, one post edited", median(RUNS, one_edit), "target < 0.3 s (SQLite)"),
        ("re-sync, nothing changed", median(RUNS, lambda: partial(ledger.sync, plan, NOW)), ""),
    ]
    due = sorted(plan, key=lambda d: (d.due_utc, d.key))[:CLAIMS]

    def loaded() -> SqlLedger:
        opened.append(open_ledger(fresh_url()))
        opened[-1].sync(plan, NOW)
        return opened[-1]

    def one_by_one() -> Callable[[], object]:
        loaded_ledger = loaded()

        def work() -> None:
            for item in due:
                claim = loaded_ledger.claim(item.channel, "bench", LEASE, item.due_utc)
                assert claim is not None and claim.row.key == item.key
                loaded_ledger.finish(claim, Sent(PlatformRef(item.key)), item.due_utc)

        return work

    def chained() -> Callable[[], object]:
        """Each channel's deliveries in turn, each finish claiming the next one when due."""
        loaded_ledger = loaded()

        def work() -> None:
            for channel in CHANNELS:
                mine = [item for item in due if item.channel == channel]
                claim = loaded_ledger.claim(channel, "bench", LEASE, mine[0].due_utc)
                for following in mine[1:]:
                    assert claim is not None
                    sent = Sent(PlatformRef(claim.row.key))
                    _, claim = loaded_ledger.finish_and_claim(claim, sent, following.due_utc, LEASE)
                    assert claim is not None and claim.row.key == following.key
                assert claim is not None
                loaded_ledger.finish(claim, Sent(PlatformRef(claim.row.key)), mine[-1].due_utc)

        return work

    wall, cpu = median(3, one_by_one)
    rows.append(("claim + finish, per delivery", (wall / CLAIMS, cpu / CLAIMS), f"of {CLAIMS}"))
    wall, cpu = median(3, chained)
    rows.append(("finish and claim the next, per delivery", (wall / CLAIMS, cpu / CLAIMS), ""))
    burst_plan = [
        dataclasses.replace(
            item,
            key=f"burst/{n}",
            channel=f"c{n % BURST_CHANNELS}",
            due_utc=NOW,
            deadline_utc=None,
            parent_key=None,
        )
        for n, item in enumerate(plan[:BURST])
    ]

    def burst() -> Callable[[], object]:
        burst_ledger = open_ledger(fresh_url())
        opened.append(burst_ledger)
        burst_ledger.sync(burst_plan, NOW)
        return partial(dispatch_burst, burst_ledger)

    rows.append((f"burst of {BURST:,} on {BURST_CHANNELS} channels", median(3, burst), "ideal 1 s"))
    for each in opened:
        each.close()
    return rows


class Sleeping(Connector):
    """Takes POST_SECONDS per post, as a platform would, without using the CPU."""

    platform = "x"
    capabilities = Capabilities(rules=PLATFORMS["x"], idempotency="none", lookup=False)

    def publish(self, post: Post) -> Published:
        time.sleep(POST_SECONDS)
        return Published(PlatformRef(post.key))

    def check(self) -> CheckReport:
        return CheckReport(ok=True)


def dispatch_burst(ledger: SqlLedger) -> None:
    """Every channel dispatched by its own thread, as the daemon's workers do."""
    channels = [f"c{n}" for n in range(BURST_CHANNELS)]
    connectors = {name: Sleeping(ChannelAccess(name, "x")) for name in channels}
    dispatcher = Dispatcher(ledger, connectors, Policies(), "bench", clock=lambda: NOW)
    threads = [
        threading.Thread(target=dispatcher.run_channel, args=(name, threading.Event()))
        for name in channels
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def main() -> None:
    channels = {name: KnownChannel(name, name.split("-")[0]) for name in CHANNELS}
    options = LoadOptions(channels, strict_channels=False, now=NOW)
    with tempfile.TemporaryDirectory() as folder:
        plan = list(load_plan([write_plan(Path(folder))], options).deliveries)
    print(f"plan: {len(plan):,} deliveries, {len({d.post for d in plan})} posts")
    table: list[tuple[str, ...]] = []
    backends: list[tuple[str, Callable[[], AbstractContextManager[Callable[[], str]]]]] = [
        ("SQLite", sqlite_urls),
        ("PostgreSQL", postgres_urls),
    ]
    for backend, urls in backends:
        try:
            with urls() as fresh_url:
                for what, (wall, cpu), note in figures(fresh_url, plan):
                    table.append((backend, what, f"{wall:.4f}", f"{cpu:.4f}", note))
        except Exception as exc:
            table.append((backend, "-", "-", "-", f"skipped: {type(exc).__name__}: {exc}"[:100]))
    header = ("back-end", "what", "median wall s", "median CPU s", "note")
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
    for row in [header, *table]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
