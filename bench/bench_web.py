"""Web view benchmark: `python3 tasks.py bench web` (or .venv/bin/python bench/bench_web.py).

Server time (no network: Flask's test client) of the overview and of the calendar's month
view for a plan of about 10,000 deliveries (bench/plangen.py), with a ledger holding every
one of them, once the plan is loaded (the server keeps it until a file changes). Median of
five requests each; the page sizes too. Then the time and size of the static export
(`clarion preview --format html`) of the same plan.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from plangen import write_plan  # noqa: E402

from scheduler.config import load_config  # noqa: E402
from scheduler.ledger import open_ledger  # noqa: E402
from scheduler.web.app import create_app  # noqa: E402
from scheduler.web.board import Source  # noqa: E402
from scheduler.web.export import Snapshot, export  # noqa: E402

CHANNELS = """channels:
  x-main: {platform: x, credentials: {oauth2_access_token: "${T}"}}
  mastodon-main:
    {platform: mastodon, base_url: "https://m.example", credentials: {access_token: "${T}"}}
  bluesky-main: {platform: bluesky, credentials: {identifier: "${T}", app_password: "${T}"}}
  linkedin-main:
    {platform: linkedin, credentials: {access_token: "${T}"}, options: {author: "urn:li:person:1"}}
  telegram-news: {platform: telegram, credentials: {bot_token: "${T}"}, options: {chat_id: "@n"}}
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plan = write_plan(folder, singles=220, threads=5, weekly=3)
        config_path = folder / "config.yaml"
        config_path.write_text(f"campaigns: [{plan.name}]\nstate_dir: state\n{CHANNELS}")
        config = load_config(config_path)
        source = Source(config)
        deliveries = source.plan().deliveries
        ledger = open_ledger(config.ledger_url, create=True)
        ledger.sync(deliveries, datetime.now(UTC))
        ledger.close()
        app = create_app(source)
        client = app.test_client()
        print(f"{len(deliveries):,} deliveries")
        for name, url in (("overview", "/"), ("calendar (month)", "/calendar")):
            times = []
            size = 0
            for _ in range(5):
                start = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - start)
                assert response.status_code == 200, response.status_code
                size = len(response.data)
            print(f"{name}: median {statistics.median(times) * 1000:.0f} ms, {size / 1024:.0f} KiB")
        source.close()
        start = time.perf_counter()
        files = export(Snapshot(config, []), folder / "site")
        took = time.perf_counter() - start
        size = sum(f.stat().st_size for f in (folder / "site").rglob("*") if f.is_file())
        print(f"static export: {files:,} files, {size / 2**20:.0f} MiB in {took:.1f} s")


if __name__ == "__main__":
    main()
