"""One worker thread per channel: posts on a channel go out one after another, in due order
(a thread's parts reply to their parent), and a slow platform never delays another channel.

A worker sleeps until woken (by an alarm, the sweeper, or a reload), then asks the dispatcher
to publish whatever the channel has due. It is also the only thread that touches its
channel's connector, for reconciling unknown deliveries and for checking a held channel.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Literal, Protocol

log = logging.getLogger("clarion.workers")

Task = Literal["release", "reconcile", "dispatch"]


class ChannelDispatch(Protocol):
    """What a worker needs of `scheduler.dispatch.Dispatcher`."""

    def run_channel(
        self, channel: str, stop: threading.Event, *, pause: Callable[[], bool] | None = None
    ) -> int: ...

    def try_release(self, channel: str) -> bool: ...


class ChannelReconcile(Protocol):
    """What a worker needs of `scheduler.reconcile.Reconciler`."""

    def reconcile(self, channel: str) -> int: ...


class ChannelWorker:
    def __init__(
        self,
        channel: str,
        dispatcher: ChannelDispatch,
        reconciler: ChannelReconcile,
        stop: threading.Event,
    ) -> None:
        self.channel = channel
        self._dispatcher = dispatcher
        self._reconciler = reconciler
        self._stop = stop
        self._closing = False
        self._pending: set[Task] = set()
        self._lock = threading.Lock()
        self._event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"worker:{channel}", daemon=True)

    def request(self, task: Task = "dispatch") -> None:
        with self._lock:
            self._pending.add(task)
        self._event.set()

    def close(self) -> None:
        self._closing = True
        self._event.set()

    def _loop(self) -> None:
        while True:
            self._event.wait()
            self._event.clear()
            if self._closing:
                return
            with self._lock:
                tasks, self._pending = self._pending, set()
            try:
                self._work(tasks)
            except Exception:
                # Never die quietly: log it, and the next wake-up tries again.
                log.exception(
                    "worker error on channel %s", self.channel, extra={"channel": self.channel}
                )

    def _work(self, tasks: set[Task]) -> None:
        if "release" in tasks:
            self._dispatcher.try_release(self.channel)
        if self._stop.is_set():
            return
        if "reconcile" in tasks:
            self._reconciler.reconcile(self.channel)
        self._dispatcher.run_channel(self.channel, self._stop, pause=self._other_work)

    def _other_work(self) -> bool:
        """Whether a task other than publishing waits: a long backlog is interrupted for it
        (unknown deliveries are the oldest, and Mastodon recognises a repeat for an hour
        only), then goes on."""
        with self._lock:
            return bool(self._pending - {"dispatch"})


class Workers:
    """The workers of every channel that has a connector."""

    def __init__(
        self,
        dispatcher: ChannelDispatch,
        reconciler: ChannelReconcile,
        channels: Iterable[str],
        stop: threading.Event,
    ) -> None:
        self._stop = stop
        self._workers = {c: ChannelWorker(c, dispatcher, reconciler, stop) for c in channels}

    @property
    def channels(self) -> list[str]:
        return list(self._workers)

    def start(self) -> None:
        for worker in self._workers.values():
            worker.thread.start()

    def request(self, channel: str, task: Task = "dispatch") -> None:
        worker = self._workers.get(channel)
        if worker is not None:
            worker.request(task)

    def request_all(self, task: Task = "dispatch") -> None:
        for worker in self._workers.values():
            worker.request(task)

    def dead(self) -> list[str]:
        return [c for c, w in self._workers.items() if w.thread.ident and not w.thread.is_alive()]

    def stop(self, grace: float) -> list[str]:
        """Claim nothing more; wait up to `grace` seconds for publishes in flight.

        Returns the channels still publishing when the grace ran out: their claims' leases
        will expire and those deliveries become unknown, never posted twice.
        """
        self._stop.set()
        for worker in self._workers.values():
            worker.close()
        deadline = time.monotonic() + grace
        for worker in self._workers.values():
            if worker.thread.ident:
                worker.thread.join(max(0.0, deadline - time.monotonic()))
        return [c for c, w in self._workers.items() if w.thread.is_alive()]
