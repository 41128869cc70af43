"""The campaign folders' watch (`scheduler.reload.watch_campaigns`), in-process; the daemon's
reloads through it are tested end to end in test_e2e_reload*.py."""

from __future__ import annotations

import threading
from pathlib import Path

from scheduler.reload import watch_campaigns


def test_a_folder_moved_away_as_the_watch_starts_is_a_change(tmp_path: Path) -> None:
    """What the paths lead to is taken before `watch_campaigns` returns: a folder moved away
    before the watch's thread has begun is reported, not taken as where the watch begins."""
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "a.yaml").write_text("campaign: a\n")
    stop = threading.Event()
    seen: list[list[str]] = []
    changed = threading.Event()

    def on_change(files: list[str]) -> None:
        seen.append(files)
        changed.set()

    thread = watch_campaigns([plans], on_change, stop, debounce_ms=50, recheck_ms=100)
    assert thread is not None
    plans.rename(tmp_path / "plans.old")
    try:
        assert changed.wait(10), "the move was never reported"
    finally:
        stop.set()
        thread.join(10)
    assert seen[0] == [str(plans)]
