"""Holding a claim while its delivery is published: a process never posts on a claim it may
have lost.

Right before the publish starts, the claim is checked: by its lease, and, unless it was made
moments ago, by renewing the lease in the ledger, fenced: only while the claim is still ours
and its lease has not run out (a daemon frozen between claim and publish, by SIGSTOP, a
paused VM or a swap storm, finds it gone and posts nothing). While the publish lasts, its
lease is renewed every third of it, so a slow platform does not lose it: by one thread of the
daemon (`LeaseRenewer`) that renews every claim in flight, each at its own time, rather than a
thread started and joined for each publish (which cost a fifth of the daemon's CPU in a burst
of 1,000 posts). And each request a connector sends passes `check` first (through
`connectors.base.send_guard`): once the lease may have run out, by this process's monotonic
clock and with a margin for the clocks of other machines, no further request leaves, even if
the process was frozen in the middle of a publish of several requests (media, then post).

The HTTP clients of `connectors.http` check once more after the connection is made, as the
request's first bytes are about to be written. What remains: a process frozen after that last
check and before its request's bytes leave sends it when it wakes, whatever the ledger says by
then (see docs/operations.md).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from connectors.base import SendRefused
from scheduler.ledger.api import Claim, Ledger

log = logging.getLogger("clarion.dispatch")

CLOCK_MARGIN = timedelta(seconds=5)
"""This process stops sending this long before its lease ends (at most a quarter of the
lease): other daemons' clocks may run that much ahead of ours."""


def margin(lease: timedelta) -> timedelta:
    return min(CLOCK_MARGIN, lease / 4)


class LeaseLost(Exception):
    """The claim is no longer ours (its lease ran out, another daemon or an operator acted):
    nothing may be published on it."""


class LeaseRenewer:
    """One thread that renews the lease of every claim being published (`LeaseKeeper`), each
    a third of the lease after it was last made or renewed, on a heap of those instants.

    The thread starts with the first claim kept and ends once none has been kept for
    `IDLE_SECONDS` (a later one starts it again), or at `close()`. Renewals run one after
    another: each is one fenced write, and a lease lasts minutes. A renewal that finds the
    claim gone marks it lost (its publish sends no further request); one that fails (the
    ledger is unavailable) is tried again at the next third, and meanwhile the claim's
    deadline, by this process's clock, still stops its requests once the lease may have run
    out."""

    IDLE_SECONDS = 2.0

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._due: list[tuple[float, int, LeaseKeeper]] = []
        """(monotonic instant of the next renewal, order of arrival, keeper): a heap."""
        self._kept: set[LeaseKeeper] = set()
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False

    def keep(self, keeper: LeaseKeeper) -> None:
        with self._changed:
            if self._closed:
                return  # shutting down: the keeper's deadline still stops its requests
            self._kept.add(keeper)
            self._schedule(keeper)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="leases", daemon=True)
                self._thread.start()
            elif self._due[0][2] is keeper:
                self._changed.notify()

    def release(self, keeper: LeaseKeeper) -> None:
        """Stop renewing this claim (its publish is over); a renewal of it under way is waited
        for, 5 s at most."""
        with self._changed:
            self._kept.discard(keeper)
            self._changed.wait_for(lambda: not keeper.renewing, 5)

    def close(self) -> None:
        """Stop renewing anything; returns once the thread has ended (within 5 s)."""
        with self._changed:
            self._closed = True
            self._kept.clear()
            self._due.clear()
            thread = self._thread
            self._changed.notify_all()
        if thread is not None:
            thread.join(5)

    @property
    def running(self) -> bool:
        """Whether its thread runs."""
        with self._changed:
            return self._thread is not None

    @property
    def in_flight(self) -> int:
        """How many claims are being kept."""
        with self._changed:
            return len(self._kept)

    def _schedule(self, keeper: LeaseKeeper) -> None:
        at = time.monotonic() + keeper.interval
        heapq.heappush(self._due, (at, next(self._order), keeper))

    def _run(self) -> None:
        with self._changed:
            while not self._closed:
                keeper = self._next()
                if keeper is None:
                    break
                keeper.renewing = True
                self._changed.release()
                try:
                    keeper.renew_in_flight()
                finally:
                    self._changed.acquire()
                    keeper.renewing = False
                    if keeper in self._kept and not keeper.lost:
                        self._schedule(keeper)
                    self._changed.notify_all()
            self._thread = None

    def _next(self) -> LeaseKeeper | None:
        """The next keeper due for renewal, once its time comes; None when idle long enough
        or closed. Called holding the condition."""
        idle_since: float | None = None
        while not self._closed:
            while self._due and self._due[0][2] not in self._kept:
                heapq.heappop(self._due)  # its publish is over
            now = time.monotonic()
            if self._due:
                idle_since = None
                at, _, keeper = self._due[0]
                if at <= now:
                    heapq.heappop(self._due)
                    return keeper
                self._changed.wait(at - now)
                continue
            idle_since = now if idle_since is None else idle_since
            left = idle_since + self.IDLE_SECONDS - now
            if left <= 0:
                return None
            self._changed.wait(left)
        return None


class LeaseKeeper:
    """Keeps one claim's lease while it is published; use `start()` (which raises LeaseLost)
    before the publish and `stop()` after it. `renewer`: the daemon's `LeaseRenewer`, shared
    by every publish."""

    def __init__(
        self,
        ledger: Ledger,
        claim: Claim,
        lease: timedelta,
        clock: Callable[[], datetime],
        renewer: LeaseRenewer,
    ) -> None:
        self._ledger = ledger
        self._claim = claim
        self._lease = lease
        self._clock = clock
        self._renewer = renewer
        self._margin = margin(lease).total_seconds()
        self._deadline = float("-inf")
        """Monotonic time after which no request may leave."""
        self._lost = False
        self.renewing = False
        """A renewal by the renewer's thread is under way (guarded by the renewer)."""
        self.interval = lease.total_seconds() / 3
        """Seconds between two renewals."""

    def start(self) -> None:
        """Check the claim before publishing (LeaseLost if it is no longer ours), then keep it.

        The claim is checked in the ledger, even one made moments ago: a daemon whose claim
        ran out may have come back with the answer that the post went out, and ended this
        claim (`Ledger.late_sent`). A claim made moments ago (two thirds of its lease left)
        is read (cheaper than a write in a burst); an older one, which waited (or whose
        process was frozen), is renewed, fenced. A ledger that fails here leaves the lease
        the claim has: the publish may go on within it."""
        self._hold_until(self._claim.lease_until, time.monotonic())
        try:
            if self._claim.lease_until - self._clock() < self._lease * 2 / 3:
                self._renew()
            elif not self._ledger.holds(self._claim):
                self._lost = True
                raise LeaseLost(self._claim.row.key)
        except LeaseLost:
            raise
        except Exception as exc:
            log.debug("%s: could not check its claim (%s)", self._claim.row.key, exc)
        self.check()
        self._renewer.keep(self)

    def check(self) -> None:
        """Raise SendRefused if the claim may be lost: called before each request leaves."""
        if self._lost or time.monotonic() >= self._deadline:
            raise SendRefused(f"the claim on {self._claim.row.key} may have run out")

    def stop(self) -> None:
        self._renewer.release(self)

    @property
    def lost(self) -> bool:
        return self._lost

    def renew_in_flight(self) -> None:
        """Renew the lease while the publish runs (from the renewer's thread)."""
        try:
            self._renew()
        except LeaseLost:
            log.warning(
                "%s: its claim ran out while it was being published: no further request "
                "leaves for it",
                self._claim.row.key,
            )
        except Exception as exc:
            log.debug("%s: could not renew its lease (%s)", self._claim.row.key, exc)

    def _renew(self) -> None:
        started = time.monotonic()
        until = self._ledger.renew(self._claim, self._lease, self._clock())
        if until is None:
            self._lost = True
            raise LeaseLost(self._claim.row.key)
        self._hold_until(until, started)

    def _hold_until(self, until: datetime, started: float) -> None:
        """The deadline, by the monotonic clock, from a lease end read at `started`."""
        left = (until - self._clock()).total_seconds() - self._margin
        self._deadline = max(self._deadline, started + left)
