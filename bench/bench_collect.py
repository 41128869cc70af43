"""What collecting figures costs over a ledger of 10,000 sent deliveries (10 channels).

Measured, with a connector that answers at once (so the cost is Clarion's and the ledger's, not
the platform's): scheduling the 10,000 posts the first time; looking for new ones among all
(once an hour); a round with nothing due (what the collector costs every
`policies.figures.every`); a round with every post due, reading
`per_round` (20) posts on each channel; reading all 10,000 on demand (`collect_now`, as
`clarion report --refresh` does); and the metrics' totals once 30,000 snapshots are stored.
Runs on PostgreSQL too when the local server (127.0.0.1:5432, user postgres) answers. Prints a
table; asserts no timing. Run: python bench/bench_collect.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plangen import ledger_delivery
from sqlalchemy import bindparam, update

from campaigns.delivery import Delivery
from campaigns.platforms import PLATFORMS
from campaigns.yamlsource import SourceMap
from connectors.base import (
    Capabilities,
    ChannelAccess,
    CheckReport,
    Connector,
    Figures,
    PlatformRef,
    Post,
    Published,
)
from scheduler.collect import Collector, collect_now
from scheduler.config import Config, ConfigFile
from scheduler.ledger.api import State
from scheduler.ledger.figures import FigureStore
from scheduler.ledger.sql import SqlLedger, open_ledger
from scheduler.ledger.tables import deliveries

POSTS, CHANNELS, RUNS = 10_000, 10, 5
SERVER = "postgres@127.0.0.1:5432"
SENT = datetime(2026, 12, 1, tzinfo=UTC)


class Instant(Connector):
    platform: ClassVar[str] = "x"
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORMS["x"], idempotency="none", lookup=False, figures=True
    )

    def publish(self, post: Post) -> Published:
        raise NotImplementedError

    def check(self) -> CheckReport:
        return CheckReport(ok=True)

    def figures(self, ref: PlatformRef) -> Figures:
        return Figures(likes=len(ref.id), reposts=1, replies=2, views=100)


def channel(n: int) -> str:
    return f"x-{n % CHANNELS}"


def delivery(n: int) -> Delivery:
    return ledger_delivery(f"p{n:05d}", channel(n), "x", SENT, text=f"post {n}", limit=280)


def sent_ledger(url: str) -> SqlLedger:
    """A ledger of POSTS deliveries, all sent at SENT (written directly: sending them one by
    one is bench_sync's business)."""
    ledger = open_ledger(url, process="bench:1")
    ledger.sync([delivery(n) for n in range(POSTS)], SENT)
    mark = (
        update(deliveries)
        .where(deliveries.c.key == bindparam("b_key"))
        .values(state=State.SENT, sent_utc=SENT, platform_ref=bindparam("b_ref"))
    )
    rows = [
        {"b_key": delivery(n).key, "b_ref": PlatformRef(f"{n}", f"https://x.example/{n}").as_json()}
        for n in range(POSTS)
    ]
    with ledger.writing() as connection:
        connection.execute(mark, rows)
    return ledger


def bench_config() -> Config:
    channels = {channel(n): {"platform": "x"} for n in range(CHANNELS)}
    data = {"channels": channels, "policies": {"figures": {"per_round": 20}}}
    return Config(ConfigFile.model_validate(data), Path("config.yaml"), SourceMap("bench"))


def timed(action: Callable[[], object], runs: int = RUNS) -> float:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def measure(url: str) -> list[tuple[str, float]]:
    ledger = sent_ledger(url)
    try:
        settings = bench_config()
        connectors = {channel(n): Instant(ChannelAccess(channel(n), "x")) for n in range(CHANNELS)}
        clock = [SENT + timedelta(minutes=30)]
        collector = Collector(ledger, settings, connectors=connectors, clock=lambda: clock[0])
        store = FigureStore(ledger)
        firsts = {channel(n): timedelta(hours=1) for n in range(CHANNELS)}
        found: list[tuple[str, float]] = []
        first = timed(lambda: store.discover(firsts), 1)
        found.append(("schedule 10,000 sent posts (first time)", first))
        every = timed(lambda: store.discover(firsts))
        found.append(("look for new sent posts among all (hourly)", every))
        collector.round()  # the collector's own first round looks at every sent post
        found.append(("round, nothing due", timed(collector.round)))
        clock[0] = SENT + timedelta(hours=1)
        found.append((f"round, all due: {20 * CHANNELS} read", timed(collector.round)))
        reading = timed(
            lambda: collect_now(
                ledger, settings, connectors=connectors, clock=lambda: clock[0], limit=POSTS
            ),
            2,
        )
        found.append(("collect_now: 10,000 read", reading))
        found.append(("metrics totals over the latest readings", timed(store.totals)))
        snapshots = len(store.snapshots())
        found.append((f"({snapshots:,} snapshots stored)", 0.0))
        return found
    finally:
        ledger.close()


@contextmanager
def postgres() -> Iterator[str | None]:
    try:
        import psycopg

        admin = psycopg.connect(
            f"postgresql://{SERVER}/postgres", autocommit=True, connect_timeout=3
        )
    except Exception:
        yield None
        return
    name = f"clarion_bench_{uuid.uuid4().hex[:8]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://{SERVER}/{name}"
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def main() -> None:
    results: dict[str, list[tuple[str, float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        results["SQLite"] = measure(f"sqlite:///{folder}/ledger.db")
    with postgres() as url:
        if url is not None:
            results["PostgreSQL"] = measure(url)
    print(f"Collecting figures over {POSTS:,} sent deliveries on {CHANNELS} channels (median)")
    for backend, rows in results.items():
        print(f"\n{backend}")
        for what, seconds in rows:
            print(f"  {what:<45} {seconds * 1000:9.1f} ms" if seconds else f"  {what}")


if __name__ == "__main__":
    main()
