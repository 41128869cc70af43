"""Daemon benchmarks: `python3 tasks.py bench daemon` (or .venv/bin/python bench/bench_daemon.py).

Each scenario runs a real `clarion run` process against a loopback Mastodon stand-in that
takes 50 ms per post (bench/fastfake.py, in a process of its own), with deliveries put straight
into an SQLite ledger (config.yaml lists no campaign folder, so the daemon runs the ledger as
it is):

(a) lateness: 1,000 deliveries spread over 10 s on 20 channels; p50 and p99 of "publish
    started - due", beside bare APScheduler firing 1,000 no-op date jobs at the same instants
    in this process during the same run;
(b) burst: 1,000 deliveries due at one instant on 50 channels; time until the last is sent,
    against the per-channel sequential ideal (20 posts x 50 ms = 1 s): the median of several
    runs, on SQLite and, when the local server answers, on PostgreSQL, alternately;
(c) start-up: from process start to "clarion is running" with 100,000 planned deliveries in
    the ledger, spread over 30 days, and all of them within the alarm horizon; RSS.
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
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apscheduler.executors.pool import ThreadPoolExecutor  # noqa: E402
from apscheduler.schedulers.background import BackgroundScheduler  # noqa: E402
from plangen import ledger_delivery  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from campaigns.delivery import Delivery  # noqa: E402
from scheduler.ledger import open_ledger  # noqa: E402
from scheduler.timing import MAX_ALARMS  # noqa: E402

CLARION = Path(sys.executable).parent / "clarion"
FROM_SOURCE = """
import sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in f.__module__]
sys.path.insert(0, sys.argv.pop(1))
from scheduler.cli import main
sys.exit(main())
"""
"""`clarion` run from another checkout (--before), past this virtualenv's editable install."""
LATENCY = 0.05


def delivery(i: int, channel: str, due: datetime) -> Delivery:
    deadline = due + timedelta(hours=2)
    return ledger_delivery(f"p{i:06d}", channel, "mastodon", due, deadline=deadline)


def seed(folder: Path, deliveries: Sequence[Delivery], url: str | None = None) -> str:
    url = url or f"sqlite:///{folder / 'state' / 'ledger.db'}"
    ledger = open_ledger(url)
    try:
        ledger.sync(deliveries, datetime.now(UTC), campaigns={"bench"})
    finally:
        ledger.close()
    return url


def config(
    folder: Path,
    channels: Sequence[str],
    base_url: str,
    ledger: str | None = None,
    **policies: Any,
) -> Path:
    data: dict[str, Any] = {
        "campaigns": [],
        "state_dir": "state",
        "channels": {
            name: {
                "platform": "mastodon",
                "base_url": base_url,
                "credentials": {"access_token": "${BENCH_TOKEN}"},
            }
            for name in channels
        },
        "policies": policies,
        "server": {"listen": "127.0.0.1:0"},
        "log": {"format": "json", "level": "info"},
    }
    if ledger is not None:
        data["ledger"] = ledger
    path = folder / "config.yaml"
    path.write_text(json.dumps(data))
    return path


def start(
    path: Path, *args: str, source: Path | None = None
) -> tuple[subprocess.Popen[bytes], Path]:
    """The daemon of this checkout, or of `source` (another checkout)."""
    log = path.parent / "daemon.log"
    clarion = [str(CLARION)] if source is None else [sys.executable, "-c", FROM_SOURCE, str(source)]
    env = {**os.environ, "BENCH_TOKEN": "bench-token", "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as err:
        process = subprocess.Popen(
            [*clarion, "run", "--config", str(path), *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=path.parent,
        )
    return process, log


def lines(log: Path) -> list[dict[str, Any]]:
    found = []
    for line in log.read_text().splitlines():
        with contextlib.suppress(ValueError):  # a line being written
            found.append(json.loads(line))
    return found


def sent(log: Path) -> list[dict[str, Any]]:
    return [line for line in lines(log) if line["message"].startswith("sent")]


@contextlib.contextmanager
def fake(tls: Path | None = None) -> Iterator[str]:
    """The stand-in platform's base URL, for as long as the block runs; with `tls` (a PEM
    file with its certificate chain and key), over HTTPS."""
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fastfake.py"), "--latency", str(LATENCY)]
        + (["--tls", str(tls)] if tls else []),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        yield server.stdout.readline().strip()
    finally:
        server.terminate()
        server.wait(10)


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def lateness(source: Path | None = None, side: str = "") -> None:
    channels = [f"c{i:02d}" for i in range(20)]
    with fake() as base_url, tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        first = datetime.now(UTC) + timedelta(seconds=6)
        dues = [first + timedelta(milliseconds=10 * i) for i in range(1000)]
        seed(folder, [delivery(i, channels[i % 20], due) for i, due in enumerate(dues)])
        bare: list[float] = []
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"misfire_grace_time": None},
            timezone=UTC,
        )
        for due in dues:
            scheduler.add_job(
                lambda due=due: bare.append((datetime.now(UTC) - due).total_seconds()),
                "date",
                run_date=due,
            )
        scheduler.start()
        path = config(folder, channels, base_url)
        process, log = start(path, "--exit-when-idle", source=source)
        process.wait(120)
        scheduler.shutdown()
        late = [line["late_s"] for line in sent(log)]
    assert len(late) == 1000, f"only {len(late)} sent"
    p50, p99 = statistics.median(late), percentile(late, 0.99)
    b50, b99 = statistics.median(bare), percentile(bare, 0.99)
    print(f"(a) lateness, 1,000 deliveries over 10 s, 20 channels, 50 ms per post{side}")
    print(f"    daemon:          p50 {p50 * 1000:6.1f} ms   p99 {p99 * 1000:6.1f} ms")
    print(f"    bare APScheduler: p50 {b50 * 1000:6.1f} ms   p99 {b99 * 1000:6.1f} ms")
    print(f"    ratio (p99): {p99 / b99:.1f}x   target p99 < 100 ms: {verdict(p99 < 0.1)}")


BURST_RUNS = 5
PG_SERVER = "postgres@127.0.0.1:5432"


@contextlib.contextmanager
def postgres_urls() -> Iterator[Callable[[], str] | None]:
    """Fresh PostgreSQL ledgers (a schema each in a database of this run), or None when the
    local server does not answer."""
    import psycopg

    name = f"clarion_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(f"postgresql://{PG_SERVER}/postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        yield None
        return

    def url() -> str:
        schema = f"s_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"postgresql://{PG_SERVER}/{name}", autocommit=True) as c:
            c.execute(f'CREATE SCHEMA "{schema}"')
        return f"postgresql+psycopg://{PG_SERVER}/{name}?options=-csearch_path%3D{schema}"

    try:
        yield url
    finally:
        with psycopg.connect(f"postgresql://{PG_SERVER}/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def burst_once(
    base_url: str, ledger: str | None, source: Path | None = None
) -> tuple[float, float]:
    """Seconds from the due instant until the last of the burst was sent, and the daemon's
    CPU seconds from its start to its exit; `ledger`: a PostgreSQL URL, or None for the
    SQLite file in the state folder; `source`: another checkout whose daemon runs."""
    channels = [f"c{i:02d}" for i in range(50)]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        due = (datetime.now(UTC) + timedelta(seconds=6)).replace(microsecond=0)
        seed(folder, [delivery(i, channels[i % 50], due) for i in range(1000)], ledger)
        path = config(folder, channels, base_url, ledger=ledger)
        process, log = start(path, "--exit-when-idle", source=source)
        usage = os.wait4(process.pid, 0)[2]
        process.returncode = 0
        done = sent(log)
    assert len(done) == 1000, f"only {len(done)} sent"
    last = max(datetime.fromisoformat(line["ts"].replace("Z", "+00:00")) for line in done)
    return (last - due).total_seconds(), usage.ru_utime + usage.ru_stime


def burst(before: Path | None) -> None:
    ideal = 20 * LATENCY
    sides: dict[str, Path | None] = {"": None}
    if before is not None:
        sides = {"before": before, "after": None}
    print(
        "(b) burst, 1,000 deliveries due at one instant on 50 channels, 50 ms per post: "
        f"all sent after (s), {BURST_RUNS} runs, the two ledgers"
        + (f" and the code before ({before}) and after" if before else "")
        + " alternately"
    )
    with fake() as base_url, postgres_urls() as pg:
        ledgers: dict[str, Callable[[], str | None]] = {"SQLite": lambda: None}
        if pg is not None:
            ledgers["PostgreSQL"] = pg
        took: dict[tuple[str, str], list[tuple[float, float]]] = {
            (name, side): [] for name in ledgers for side in sides
        }
        for _ in range(BURST_RUNS):
            for name, url in ledgers.items():
                for side, source in sides.items():
                    took[name, side].append(burst_once(base_url, url(), source))
    for (name, side), runs in took.items():
        ratio = statistics.median(t for t, _ in runs) / ideal
        shown = " / ".join(f"{t:.2f}" for t, _ in sorted(runs))
        cpu = statistics.median(c for _, c in runs)
        label = f"{name} {side}".strip() + ":"
        print(
            f"    {label:<18} {shown}; median {ratio:.2f}x the {ideal:.0f} s ideal "
            f"(target within 1.3x: {verdict(ratio <= 1.3)}); daemon CPU {cpu:.2f} s "
            "(median, start-up included)"
        )
    if pg is None:
        print(f"    PostgreSQL: not measured, no server at {PG_SERVER}")


def rss(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def alarms_set(health: str) -> float:
    with urllib.request.urlopen(health + "/metrics", timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        if family.name == "clarion_alarms":
            return float(family.samples[0].value)
    return 0.0


def startup(spread: timedelta, label: str, source: Path | None = None) -> None:
    channels = [f"c{i:02d}" for i in range(10)]
    with fake() as base_url, tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        begin = datetime.now(UTC) + timedelta(minutes=10)
        step = spread / 100_000
        seed(folder, [delivery(i, channels[i % 10], begin + i * step) for i in range(100_000)])
        within = sum(
            1 for i in range(100_000) if i * step < timedelta(hours=6) - timedelta(minutes=10)
        )
        expected = min(within, MAX_ALARMS)
        path = config(folder, channels, base_url, horizon="6h", sweep_interval="1s")
        started = time.monotonic()
        process, log = start(path, source=source)
        while not (up := [x for x in lines(log) if x["message"].startswith("clarion is")]):
            if process.poll() is not None:
                raise SystemExit(log.read_text())
            time.sleep(0.01)
        ready = time.monotonic() - started
        at_ready = rss(process.pid)
        health = up[0]["health_url"]
        while alarms_set(health) < expected:
            time.sleep(0.05)
        armed = time.monotonic() - started
        settled = rss(process.pid)
        process.terminate()
        process.wait(60)
    print(f"    {label}:")
    print(
        f"      ready (health endpoint up, sweeper running) in {ready:.2f} s "
        f"(target < 3 s: {verdict(ready < 3)}); its {expected:,} alarms "
        f"set {armed:.2f} s after start"
    )
    print(
        f"      RSS {at_ready[0]:.0f} MB at ready, {settled[0]:.0f} MB with the alarms set, "
        f"peak {settled[1]:.0f} MB (target < 200 MB: {verdict(settled[1] < 200)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["a", "b", "c"], help="run one scenario")
    parser.add_argument(
        "--before",
        type=Path,
        help="also run the daemon of this other checkout (git worktree add DIR main): (b) "
        "alternately with this one's, (a) and (c) once before this one's",
    )
    chosen = parser.parse_args()
    sides: dict[str, Path | None] = {"": None}
    if chosen.before is not None:
        sides = {f" (before: {chosen.before})": chosen.before, " (after)": None}
    print(f"bench_daemon: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, SQLite ledger")
    if chosen.only in (None, "a"):
        for side, source in sides.items():
            lateness(source, side)
    if chosen.only in (None, "b"):
        burst(chosen.before)
    if chosen.only in (None, "c"):
        for side, source in sides.items():
            print(f"(c) start-up with 100,000 planned deliveries in the ledger{side}")
            spread = "spread over 30 days (about 800 within the 6 h horizon)"
            startup(timedelta(days=30), spread, source)
            startup(timedelta(hours=5), "all 100,000 within the 6 h horizon", source)


if __name__ == "__main__":
    main()
