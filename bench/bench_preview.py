"""How long `clarion preview --format json` takes on a plan of 10,000 deliveries (target: under
1.5 s in all, of which loading the plan is about 0.5 s), and how fast `clarion --help` starts
(target: under 0.3 s). Prints figures; asserts nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
PLAN = """\
campaign: bench
title: Benchmark
timezone: Europe/Brussels
channels: [x-main, mastodon-main, bluesky-main, linkedin-main, telegram-news]
languages: [en, fr]
min_gap: 1m
posts:
  - id: hourly
    every: {interval: 1h, from: 2027-01-01 00:00, until: 2027-02-11 15:00}
    text:
      en: "An hourly reminder that help is available, day and night. #SayNo"
      fr: "Un rappel toutes les heures : de l'aide existe, jour et nuit. #SayNo"
    languages: [en]
  - id: hourly-fr
    every: {interval: 1h, from: 2027-01-01 00:30, until: 2027-02-11 15:30}
    text: "Un rappel toutes les heures : de l'aide existe, jour et nuit. #SayNo"
    languages: [fr]
"""


def best_of(runs: int, *args: str) -> tuple[float, str]:
    best, out = float("inf"), ""
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([str(BIN / "clarion"), *args], capture_output=True, text=True)
        best = min(best, time.perf_counter() - start)
        out = done.stdout
    return best, out


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        plan = Path(folder) / "bench.yaml"
        plan.write_text(PLAN, encoding="utf-8")
        seconds, out = best_of(3, "preview", str(plan), "--format", "json")
        deliveries = len(json.loads(out))
        print(f"clarion preview --format json: {deliveries:,} deliveries in {seconds:.2f} s")
        seconds, _ = best_of(3, "validate", str(plan))
        print(f"clarion validate: {seconds:.2f} s")
    seconds, _ = best_of(5, "--help")
    print(f"clarion --help: {seconds:.3f} s")


if __name__ == "__main__":
    main()
