"""Holding a claim while its delivery is published: a process never posts on a claim it may
have lost.

Right before the publish starts, the claim is checked: by its lease, and, unless it was made
moments ago, by renewing the lease in the ledger, fenced: only while the claim is still ours
and its lease has not run out (a daemon frozen between claim and publish, by SIGSTOP, a
paused VM or a swap storm, finds it gone and posts nothing). While the publish lasts, a
thread of its own renews the lease every third of it, so a slow platform does not lose it.
And each request a connector sends passes `check` first (through
`connectors.base.send_guard`): once the lease may have run out, by this process's monotonic
clock and with a margin for the clocks of other machines, no further request leaves, even if
the process was frozen in the middle of a publish of several requests (media, then post).

The HTTP clients of `connectors.http` check once more after the connection is made, as the
request's first bytes are about to be written. What remains: a process frozen after that last
check and before its request's bytes leave sends it when it wakes, whatever the ledger says by
then (see docs/operations.md).
"""

from __future__ import annotations

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


class LeaseKeeper:
    """Keeps one claim's lease while it is published; use as a context manager around the
    publish, after `start()` (which raises LeaseLost)."""

    def __init__(
        self, ledger: Ledger, claim: Claim, lease: timedelta, clock: Callable[[], datetime]
    ) -> None:
        self._ledger = ledger
        self._claim = claim
        self._lease = lease
        self._clock = clock
        self._margin = margin(lease).total_seconds()
        self._deadline = float("-inf")
        """Monotonic time after which no request may leave."""
        self._lost = False
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

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
        self._thread = threading.Thread(
            target=self._keep, name=f"lease:{self._claim.row.channel}", daemon=True
        )
        self._thread.start()

    def check(self) -> None:
        """Raise SendRefused if the claim may be lost: called before each request leaves."""
        if self._lost or time.monotonic() >= self._deadline:
            raise SendRefused(f"the claim on {self._claim.row.key} may have run out")

    def stop(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(5)

    @property
    def lost(self) -> bool:
        return self._lost

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

    def _keep(self) -> None:
        interval = self._lease.total_seconds() / 3
        while not self._done.wait(interval):
            try:
                self._renew()
            except LeaseLost:
                log.warning(
                    "%s: its claim ran out while it was being published: no further request "
                    "leaves for it",
                    self._claim.row.key,
                )
                return
            except Exception as exc:
                log.debug("%s: could not renew its lease (%s)", self._claim.row.key, exc)
