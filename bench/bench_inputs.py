"""The worst inputs a campaign file may hold, and what they cost: `clarion validate` and
`clarion preview` (the terminal table) on the largest file read (4 MB) filled with the longest
texts allowed (100,000 characters, 50 `{link}` each) on five channels, and on the 700 kB text
of 100,000 `{link}` placeholders that once took 76 s (now refused at once). Wall time and peak
memory of each command (Linux). Prints figures; asserts nothing."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
CHANNELS = ["x-main", "mastodon-main", "bluesky-main", "linkedin-main", "telegram-news"]


def campaign(posts: list[dict[str, str]]) -> str:
    data = {
        "campaign": "worst",
        "title": "Worst case",
        "timezone": "UTC",
        "channels": CHANNELS,
        "min_gap": "0s",
        "defaults": {"link": {"url": "https://example.org/sayno"}},
        "posts": posts,
    }
    return json.dumps(data)


def measure(*args: str) -> tuple[float, float, str]:
    """Seconds and peak MB of one clarion command (run alone, so its children's peak is it)."""
    start = time.perf_counter()
    done = subprocess.run([str(BIN / "clarion"), *args], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    last = (done.stderr or done.stdout).strip().splitlines()[-1:]
    return seconds, peak_mb, last[0] if last else ""


def main() -> None:
    words = ("Online sexual coercion is a crime. " * 3000)[:99_000]
    longest = [
        {"id": f"p{i}", "at": "2030-01-01 10:00", "text": words + " {link}" * 50} for i in range(39)
    ]
    links = [{"id": "p", "at": "2030-01-01 10:00", "text": "{link} " * 100_000}]
    with tempfile.TemporaryDirectory() as folder:
        for name, posts in (("longest-texts", longest), ("100k-placeholders", links)):
            path = Path(folder) / f"{name}.yaml"
            path.write_text(campaign(posts), encoding="utf-8")
            size = path.stat().st_size / 1024**2
            for command in ("validate", "preview"):
                seconds, peak, last = measure(command, str(path))
                print(
                    f"{name} ({size:.1f} MB) clarion {command}: {seconds:.1f} s, "
                    f"peak {peak:.0f} MB ({last[:70]})"
                )


if __name__ == "__main__":
    main()
