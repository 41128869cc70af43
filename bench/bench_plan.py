"""How fast a plan of 10,000 deliveries loads: in-process and through the command line.

Targets: `clarion validate` under 1.0 s, `clarion preview --format json` under 1.5 s, `clarion
--help` under 0.3 s. Also times PyYAML's fastest loader (CSafeLoader) on the same file, the floor
for anything that reads YAML. Prints wall-clock and CPU seconds (CPU time is steadier on a busy
machine); asserts nothing. Run: python bench/bench_plan.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # the generator, and this checkout's packages

from plangen import CHANNELS, write_plan  # noqa: E402

from campaigns import KnownChannel, LoadOptions, load_plan  # noqa: E402

CLARION = Path(sys.executable).parent / "clarion"


def _cpu() -> float:
    own, children = os.times(), os.times()
    return own.user + own.system + children.children_user + children.children_system


def timed(runs: int, work: Callable[[], object]) -> tuple[float, float, float]:
    """(first run, median wall, median CPU) in seconds; the medians leave the first run out."""
    walls, cpus = [], []
    for _ in range(runs):
        cpu, start = _cpu(), time.perf_counter()
        work()
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu() - cpu)
    return walls[0], statistics.median(walls[1:]), statistics.median(cpus[1:])


def command(*args: str) -> Callable[[], object]:
    def run() -> object:
        done = subprocess.run([str(CLARION), *args], capture_output=True, text=True)
        if done.returncode not in (0, 1):
            raise RuntimeError(done.stderr.strip() or f"exit status {done.returncode}")
        return done

    return run


def available(name: str) -> bool:
    done = subprocess.run([str(CLARION), name, "--help"], capture_output=True, text=True)
    return done.returncode == 0


def main() -> None:
    channels = {name: KnownChannel(name, name.split("-")[0]) for name in CHANNELS}
    options = LoadOptions(channels, strict_channels=False, now=datetime(2026, 12, 1, tzinfo=UTC))
    rows: list[tuple[str, ...]] = []

    def row(label: str, figures: tuple[float, float, float], note: str = "") -> None:
        rows.append((label, *(f"{f:.3f}" for f in figures), note))

    with tempfile.TemporaryDirectory() as folder:
        path = write_plan(Path(folder))
        plan = load_plan([path], options)
        posts = len(plan.campaigns[0].definition.posts)
        print(
            f"plan: {len(plan.deliveries):,} deliveries from {posts} posts, "
            f"{path.stat().st_size / 1000:.0f} kB of YAML, {len(plan.problems)} warnings"
        )
        text = path.read_text(encoding="utf-8")
        floor = timed(7, lambda: yaml.load(text, Loader=yaml.CSafeLoader))
        row("yaml.load, CSafeLoader (in-process)", floor)
        loaded = timed(7, lambda: load_plan([path], options))
        row("load_plan (in-process)", loaded, f"{loaded[2] / floor[2]:.0f}x yaml.load")
        for label, args, target in (
            ("clarion validate FILE", ("validate", str(path)), 1.0),
            ("clarion preview FILE --format json", ("preview", str(path), "--format", "json"), 1.5),
        ):
            if available(args[0]):
                row(label, timed(5, command(*args)), f"target < {target} s")
            else:
                rows.append((label, "-", "-", "-", f"skipped: no `clarion {args[0]}` yet"))
    row("clarion --help", timed(7, command("--help")), "target < 0.3 s")
    header = ("what", "first s", "median s", "median CPU s", "note")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for line in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))


if __name__ == "__main__":
    main()
