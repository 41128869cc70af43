"""Lateness at the platform (issue 13): `.venv/bin/python bench/bench_lateness.py`.

1,000 posts in bursts of 100 each second for 10 s, one post per channel per second over 100
Mastodon channels. The platform holds every post 50 ms and notes when each one reached it;
lateness is that moment minus the post's due instant. Clarion (`clarion run`, its ledger
written straight, as in bench_daemon.py) and a bare APScheduler 3.11 script (BackgroundScheduler,
a 100-thread pool, one pooled httpx client, a date job per post) post the same plan to the
same fake in the same run, turn about, several times:

- `threaded`: connectors/platforms/mastodon/fake.py, on Python's http.server (a thread per
  connection), in this process;
- `asyncio`: bench/fastfake.py, one asyncio loop in a process of its own;

each over plain HTTP and over TLS (a certificate for 127.0.0.1 from a throw-away CA made with
trustme, which both clients trust through SSL_CERT_FILE, as httpx reads it).

    .venv/bin/python bench/bench_lateness.py [--runs 3] [--fake threaded|asyncio] [--tls|--plain]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import trustme
from bench_daemon import LATENCY, config, delivery, percentile, seed, start
from bench_daemon import fake as fast_fake

from campaigns.delivery import Delivery
from connectors.platforms.mastodon.fake import MastodonFake
from scheduler.dispatch import build_post

CHANNELS = 100
BURSTS = 10
TOKEN = "bench-token"
LEAD = timedelta(seconds=6)
"""From the start of a side's process to its first due instant (Clarion starts in about 1 s)."""

Arrivals = Callable[[], dict[str, float]]


def plan(run: int, first: datetime) -> list[Delivery]:
    channels = [f"c{i:03d}" for i in range(CHANNELS)]
    return [
        delivery(run * 10_000 + burst * CHANNELS + i, channel, first + timedelta(seconds=burst))
        for burst in range(BURSTS)
        for i, channel in enumerate(channels)
    ]


def lateness(deliveries: Sequence[Delivery], arrived: dict[str, float]) -> list[float]:
    found = []
    for item in deliveries:
        at = arrived.get(build_post(item).idempotency_key)
        if at is not None:
            found.append(at - item.due_utc.timestamp())
    return found


def run_clarion(folder: Path, base_url: str, deliveries: Sequence[Delivery]) -> None:
    seed(folder, deliveries)
    channels = sorted({d.channel for d in deliveries})
    process, _log = start(config(folder, channels, base_url), "--exit-when-idle")
    process.wait(120)


def run_bare(folder: Path, base_url: str, deliveries: Sequence[Delivery]) -> None:
    posts = [(d.due_utc.isoformat(), build_post(d).idempotency_key, d.text) for d in deliveries]
    path = folder / "bare.json"
    path.write_text(json.dumps({"base_url": base_url, "posts": posts}))
    subprocess.run([sys.executable, __file__, "bare", str(path)], check=True, timeout=120)


def bare(path: Path) -> None:
    """The baseline: what a bare APScheduler script does with the same plan."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    data = json.loads(path.read_text())
    left = threading.Semaphore(0)
    client = httpx.Client(
        base_url=data["base_url"], headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    )

    def post(key: str, text: str) -> None:
        try:
            client.post(
                "/api/v1/statuses",
                data={"status": text, "visibility": "public"},
                headers={"Idempotency-Key": key},
            )
        finally:
            left.release()

    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(100)},
        job_defaults={"misfire_grace_time": None},
        timezone=UTC,
    )
    for due, key, text in data["posts"]:
        scheduler.add_job(post, "date", run_date=datetime.fromisoformat(due), args=(key, text))
    scheduler.start()
    for _ in data["posts"]:
        left.acquire()
    scheduler.shutdown()
    client.close()


@contextlib.contextmanager
def threaded(tls: Path | None) -> Iterator[tuple[str, Arrivals]]:
    platform = MastodonFake(
        latency=LATENCY, access_token=TOKEN, status_limit=None, request_limit=None
    )
    context = None
    if tls is not None:
        import ssl

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls)

    def arrivals() -> dict[str, float]:
        with platform.lock:
            found = [(r.header("idempotency-key"), r.received) for r in platform.requests]
        return {key: at for key, at in reversed(found) if key}

    with platform.start(tls=context):
        yield platform.base_url, arrivals


@contextlib.contextmanager
def asynchronous(tls: Path | None) -> Iterator[tuple[str, Arrivals]]:
    with fast_fake(tls) as base_url:

        def arrivals() -> dict[str, float]:
            found: dict[str, float] = httpx.get(f"{base_url}/arrivals", timeout=30).json()
            return found

        yield base_url, arrivals


FAKES = {"threaded": threaded, "asyncio": asynchronous}
SIDES = {"clarion": run_clarion, "bare": run_bare}


def figures(late: Sequence[float]) -> tuple[float, float, float]:
    return statistics.median(late), percentile(late, 0.99), min(late)


def setup(name: str, tls: Path | None, runs: int) -> None:
    label = f"{name} fake, {'TLS' if tls else 'plain HTTP'}"
    results: dict[str, list[tuple[float, float, float]]] = {side: [] for side in SIDES}
    with FAKES[name](tls) as (base_url, arrivals):
        for run in range(runs):
            order = list(SIDES) if run % 2 == 0 else list(reversed(SIDES))
            for number, side in enumerate(order):
                with tempfile.TemporaryDirectory() as scratch:
                    first = (datetime.now(UTC) + LEAD).replace(microsecond=0)
                    deliveries = plan(run * 2 + number, first)
                    SIDES[side](Path(scratch), base_url, deliveries)
                    late = lateness(deliveries, arrivals())
                if len(late) != len(deliveries):
                    print(f"    {side}: only {len(late)} of {len(deliveries)} arrived")
                    continue
                results[side].append(figures(late))
                p50, p99, earliest = results[side][-1]
                print(
                    f"    {label}, run {run + 1}, {side:7}: p50 {p50 * 1000:6.1f} ms  "
                    f"p99 {p99 * 1000:6.1f} ms  earliest {earliest * 1000:+6.1f} ms",
                    flush=True,
                )
    if not all(results.values()):
        return
    median = {
        side: (statistics.median(r[0] for r in found), statistics.median(r[1] for r in found))
        for side, found in results.items()
    }
    (c50, c99), (b50, b99) = median["clarion"], median["bare"]
    print(
        f"  {label}: Clarion p50 {c50 * 1000:.1f} ms p99 {c99 * 1000:.1f} ms; bare APScheduler "
        f"p50 {b50 * 1000:.1f} ms p99 {b99 * 1000:.1f} ms; p99 ratio {c99 / b99:.2f} "
        f"(medians of {len(results['clarion'])} runs)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Lateness at the platform (issue 13).")
    parser.add_argument("--runs", type=int, default=3, help="runs of each side per setup")
    parser.add_argument("--fake", choices=sorted(FAKES), action="append")
    security = parser.add_mutually_exclusive_group()
    security.add_argument("--tls", action="store_true", help="only over TLS")
    security.add_argument("--plain", action="store_true", help="only over plain HTTP")
    args = parser.parse_args()
    print(
        f"bench_lateness: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
        f"{BURSTS * CHANNELS} posts, {CHANNELS} channels, bursts of {CHANNELS} each second, "
        f"{LATENCY * 1000:.0f} ms per post"
    )
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        authority = trustme.CA()
        authority.cert_pem.write_to_path(str(folder / "ca.pem"))
        served = authority.issue_cert("127.0.0.1")
        served.private_key_and_cert_chain_pem.write_to_path(str(folder / "server.pem"))
        os.environ["SSL_CERT_FILE"] = str(folder / "ca.pem")
        securities = ([] if args.tls else [None]) + ([] if args.plain else [folder / "server.pem"])
        for name in args.fake or ["threaded", "asyncio"]:
            for tls in securities:
                setup(name, tls, args.runs)


if __name__ == "__main__":
    if sys.argv[1:2] == ["bare"]:
        bare(Path(sys.argv[2]))
    else:
        main()
