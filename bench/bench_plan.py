"""How fast plans of 10,000 deliveries of every shape load: through the command line, against
PyYAML's C loader on the same file, and in-process.

For each plan (the bench's own, `bench/plangen.py`'s `write_plan`, and its `SHAPES`: many
languages, many audiences, recurrences, links, hashtags and mentions inside every text, long
threads, a link tagged per audience), runs as separate processes, the way a user runs them:

- the floor: `python -c "import yaml; yaml.load(open(FILE), Loader=yaml.CSafeLoader)"`, PyYAML's
  fastest loader on the same file, start-up and import included;
- `clarion validate FILE` (target: under 1.0 s, and within 8 times the floor);
- `clarion preview FILE --format json` (target: under 1.5 s, and within 8 times the floor);

one after the other in each round, so that the machine's load changes all of them alike, and
prints the first run, the medians of the others (wall-clock and CPU seconds: CPU time is
steadier on a busy machine), and each command's CPU time over the floor's. Also times
`clarion --help` and, for the bench's plan, `load_plan` and `yaml.load` in-process.

--baseline DIR also runs each command on another checkout of Clarion (its folder first on
PYTHONPATH, such as `git worktree add /tmp/before main`), in the same rounds, and prints the
CPU time of this checkout's command over the baseline's.

The children run as on an installed Clarion: bytecode and compiled patterns are written by the
first run (PYTHONDONTWRITEBYTECODE is removed from their environment) and read by the others.
Asserts nothing.

    python bench/bench_plan.py [--runs N] [--profile] [--baseline DIR] [--shapes NAME,...]

--profile also prints, for each plan, the top of a cProfile of `clarion validate` (the whole
process: imports, patterns, loading).
"""

from __future__ import annotations

import argparse
import os
import resource
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

from plangen import CHANNELS, SHAPES, write_plan, write_shape  # noqa: E402

from campaigns import KnownChannel, LoadOptions, load_plan  # noqa: E402

CLARION = Path(sys.executable).parent / "clarion"
FLOOR = "import sys, yaml; yaml.load(open(sys.argv[1], encoding='utf-8'), Loader=yaml.CSafeLoader)"
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}

Figures = tuple[float, float, float]
"""First run, median wall-clock and median CPU seconds of the other runs."""


def _cpu() -> float:
    """CPU seconds of this process and its finished children (to the microsecond)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(runs: int, work: Callable[[], object]) -> Figures:
    return timed_together(runs, [work])[0]


def timed_together(runs: int, works: list[Callable[[], object]]) -> list[Figures]:
    """Each work once per round, `runs` rounds: the figures of each."""
    walls: list[list[float]] = [[] for _ in works]
    cpus: list[list[float]] = [[] for _ in works]
    for _ in range(runs):
        for i, work in enumerate(works):
            cpu, start = _cpu(), time.perf_counter()
            work()
            walls[i].append(time.perf_counter() - start)
            cpus[i].append(_cpu() - cpu)
    return [
        (w[0], statistics.median(w[1:]), statistics.median(c[1:]))
        for w, c in zip(walls, cpus, strict=True)
    ]


def process(*args: str, env: dict[str, str] | None = None) -> Callable[[], object]:
    def run() -> object:
        done = subprocess.run(args, capture_output=True, text=True, env=env or ENV)
        if done.returncode not in (0, 1):
            raise RuntimeError(done.stderr.strip() or f"exit status {done.returncode}")
        return done

    return run


def clarion(*args: str, baseline: Path | None = None) -> Callable[[], object]:
    if baseline is None:
        return process(str(CLARION), *args)
    return process(str(CLARION), *args, env={**ENV, "PYTHONPATH": str(baseline)})


def plans(folder: Path, names: list[str]) -> list[tuple[str, Path]]:
    return [
        (name, write_plan(folder) if name == "bench" else write_shape(folder, name))
        for name in names
    ]


def profile(path: Path, top: int = 14) -> str:
    """The top of a cProfile of `clarion validate path`, by own time."""
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-s", "tottime", str(CLARION), "validate", str(path)],
        capture_output=True,
        text=True,
        env=ENV,
    )
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("ncalls"))
    return "\n".join(lines[start - 3 : start + top + 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (default 5)")
    parser.add_argument("--profile", action="store_true", help="also profile clarion validate")
    parser.add_argument("--baseline", type=Path, metavar="DIR", help="another checkout to compare")
    parser.add_argument(
        "--shapes",
        default=",".join(["bench", *SHAPES]),
        help="the plans to run, comma-separated (default: all)",
    )
    options = parser.parse_args()
    baseline: Path | None = options.baseline.resolve() if options.baseline else None
    runs = max(options.runs, 2)
    rows: list[tuple[str, ...]] = []

    def row(plan: str, label: str, figures: Figures, note: str = "") -> None:
        rows.append((plan, label, *(f"{f:.3f}" for f in figures), note))

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shapes = plans(folder, options.shapes.split(","))
        known = {name: KnownChannel(name, name.split("-")[0]) for name in CHANNELS}
        load_options = LoadOptions(
            known, strict_channels=False, now=datetime(2026, 12, 1, tzinfo=UTC)
        )
        for name, path in shapes:
            loaded = load_plan([path], load_options)
            print(
                f"{name}: {len(loaded.deliveries):,} deliveries, "
                f"{path.stat().st_size / 1000:.0f} kB of YAML, {len(loaded.problems)} problems"
            )
        bench = shapes[0][1]
        text = bench.read_text(encoding="utf-8")
        parsed = timed(7, lambda: yaml.load(text, Loader=yaml.CSafeLoader))
        row(shapes[0][0], "yaml.load, CSafeLoader (in-process)", parsed)
        loaded_figures = timed(7, lambda: load_plan([bench], load_options))
        row(
            shapes[0][0],
            "load_plan (in-process)",
            loaded_figures,
            f"{loaded_figures[2] / parsed[2]:.0f}x yaml.load",
        )
        for name, path in shapes:
            commands = [
                ("clarion validate", ("validate", str(path)), 1.0),
                ("clarion preview --format json", ("preview", str(path), "--format", "json"), 1.5),
            ]
            works = [process(sys.executable, "-c", FLOOR, str(path))]
            works += [clarion(*args) for _, args, _ in commands]
            if baseline is not None:
                works += [clarion(*args, baseline=baseline) for _, args, _ in commands]
            figures = timed_together(runs, works)
            floor = figures[0]
            row(name, "C loader process (floor)", floor)
            for i, (label, _, target) in enumerate(commands):
                mine = figures[1 + i]
                ratio = mine[2] / floor[2]
                row(name, label, mine, f"{ratio:.1f}x floor (target < {target} s, < 8x)")
                if baseline is not None:
                    before = figures[1 + len(commands) + i]
                    row(
                        name,
                        f"{label} (baseline)",
                        before,
                        f"{before[2] / floor[2]:.1f}x floor; this checkout "
                        f"{mine[2] / before[2]:.2f}x the baseline's CPU",
                    )
        if options.profile:
            for name, path in shapes:
                print(f"\n--- cProfile of clarion validate, {name} plan\n{profile(path)}")
    helps = [clarion("--help")] + ([clarion("--help", baseline=baseline)] if baseline else [])
    for label, took in zip(("", " (baseline)"), timed_together(7, helps), strict=False):
        row("-", f"clarion --help{label}", took, "target < 0.3 s")
    print()
    header = ("plan", "what", "first s", "median s", "median CPU s", "note")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for line in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))


if __name__ == "__main__":
    main()
