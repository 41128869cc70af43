"""Report benchmark: `python3 tasks.py bench report` (or .venv/bin/python bench/bench_report.py
[LEDGER_URL]).

A campaign of 10,000 sent deliveries (five channels, two languages, 1,000 posts) with three
readings of figures each (30,000 snapshots), in a SQLite ledger (or the ledger URL given, such
as a PostgreSQL database). The deliveries are synced as the daemon does, then marked sent and
given their snapshots in bulk (the bench measures the report, not the posting). Prints the
median of three runs of reading the report out of the ledger, and of writing each format
(wall-clock and CPU time); the target for the whole (reading plus one format) is under 2 s.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plangen import ledger_delivery  # noqa: E402
from sqlalchemy import bindparam, insert, update  # noqa: E402

from campaigns.delivery import Delivery  # noqa: E402
from scheduler.ledger import open_ledger  # noqa: E402
from scheduler.ledger.tables import deliveries as table  # noqa: E402
from scheduler.ledger.tables import figures  # noqa: E402
from scheduler.report import FORMATS, build_report  # noqa: E402

START = datetime(2027, 2, 9, 8, 0, tzinfo=UTC)
CHANNELS = {
    "x-main": "x",
    "mastodon-main": "mastodon",
    "bluesky-main": "bluesky",
    "linkedin-main": "linkedin",
    "telegram-news": "telegram",
}
POSTS, LANGUAGES = 1000, ("en", "fr")
READINGS = (timedelta(hours=1), timedelta(hours=24), timedelta(days=7))
RUNS = 3
T = TypeVar("T")


def plan() -> list[Delivery]:
    return [
        ledger_delivery(
            f"p{n}",
            channel,
            platform,
            START + timedelta(minutes=30 * n),
            language=language,
            text=f"Post {n} in {language}: one week to #SaferInternetDay. #SayNo",
            timezone="Europe/Brussels",
            limit=280,
        )
        for n in range(POSTS)
        for language in LANGUAGES
        for channel, platform in CHANNELS.items()
    ]


def seed(url: str) -> int:
    ledger = open_ledger(url, create=True, process="bench:1")
    planned = plan()
    ledger.sync(planned, START - timedelta(days=1))
    sent = [
        {"k": d.key, "at": d.due_utc + timedelta(seconds=n % 600), "url": f"https://p.example/{n}"}
        for n, d in enumerate(planned)
    ]
    measured = [d for d in planned if d.platform != "telegram"]
    readings = [*READINGS, timedelta(days=14)]  # more readings of some: 30,000 in all
    extra = len(planned) * len(READINGS) - len(measured) * len(READINGS)
    snapshots: list[dict[str, Any]] = [
        {
            "key": d.key,
            "at": d.due_utc + after,
            "likes": n % 50 * (i + 1),
            "reposts": n % 7 * (i + 1),
            "replies": n % 5,
            "views": None if d.platform == "mastodon" else n * (i + 1),
        }
        for n, d in enumerate(measured)
        for i, after in enumerate(readings if n < extra else READINGS)
    ]
    with ledger.engine.begin() as connection:
        connection.execute(
            update(table)
            .where(table.c.key == bindparam("k"))
            .values(state="sent", sent_utc=bindparam("at"), platform_url=bindparam("url")),
            sent,
        )
        connection.execute(insert(figures), snapshots)
    ledger.close()
    return len(snapshots)


class Took:
    """Medians of the wall-clock and the CPU time of some runs (the CPU time is what a busy
    machine does not inflate)."""

    def __init__(self, wall: list[float], cpu: list[float]) -> None:
        self.wall, self.cpu = statistics.median(wall), statistics.median(cpu)

    def __str__(self) -> str:
        return f"median {self.wall * 1000:.0f} ms (CPU {self.cpu * 1000:.0f} ms)"


def measure(run: Callable[[], T]) -> tuple[Took, T]:
    wall, cpu = [], []
    for _ in range(RUNS):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = run()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return Took(wall, cpu), result


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tmp}/ledger.db"
        snapshots = seed(url)
        ledger = open_ledger(url, process="bench:1")
        print(
            f"{POSTS * len(LANGUAGES) * len(CHANNELS):,} sent deliveries, {snapshots:,} snapshots"
        )
        reading, report = measure(partial(build_report, ledger, "bench"))
        assert report.health.states["sent"] == 10_000
        print(f"reading the report: {reading}")
        for name, render in FORMATS.items():
            took, text = measure(partial(render, report))
            print(f"{name}: {took} ({len(text.encode()) / 2**20:.1f} MiB)")
        ledger.close()


if __name__ == "__main__":
    main()
