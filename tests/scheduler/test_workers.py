"""A channel's worker: its publishing rounds make way for the channel's other work."""

from __future__ import annotations

import threading
from collections.abc import Callable

from scheduler.workers import ChannelWorker
from tests.scheduler.daemonkit import wait_until


class Backlog:
    """A dispatcher with more to publish than a round can hold: a round ends only when
    asked to pause (or after a bound)."""

    def __init__(self) -> None:
        self.done: list[str] = []

    def run_channel(
        self, channel: str, stop: threading.Event, *, pause: Callable[[], bool] | None = None
    ) -> int:
        self.done.append("publish")
        for _ in range(500):
            if stop.is_set() or (pause is not None and pause()):
                self.done.append("paused")
                return 0
            stop.wait(0.01)
        return 0

    def reconcile(self, channel: str) -> int:
        self.done.append("reconcile")
        return 0

    def try_release(self, channel: str) -> bool:
        self.done.append("release")
        return False


def test_a_long_backlog_makes_way_for_reconciling_then_goes_on() -> None:
    """Unknown deliveries waited for a whole backlog to go out first (seen after restarting
    a killed daemon in the middle of a burst)."""
    backlog, stop = Backlog(), threading.Event()
    worker = ChannelWorker("m0", backlog, backlog, stop)
    worker.thread.start()
    try:
        worker.request()
        wait_until(lambda: backlog.done == ["publish"], 5)
        worker.request("reconcile")
        wait_until(lambda: len(backlog.done) >= 4, 5)
        assert backlog.done[:4] == ["publish", "paused", "reconcile", "publish"]
    finally:
        stop.set()
        worker.close()
        worker.thread.join(5)
