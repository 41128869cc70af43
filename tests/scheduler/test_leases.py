"""The daemon's one lease renewer: every claim in flight renewed by one thread, a claim it
cannot renew stopped, nothing renewed after the publish or the shut-down."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from connectors.base import SendRefused
from scheduler.leases import LeaseKeeper, LeaseRenewer
from scheduler.ledger.api import Claim, LedgerUnavailable
from scheduler.ledger.sql import SqlLedger
from tests.scheduler.ledgerkit import NOW, delivery

LEASE = timedelta(milliseconds=1500)
"""Renewed every 500 ms; requests stop 375 ms before it ends (a quarter of it)."""


def running_clock() -> Callable[[], datetime]:
    """The ledger's time, from NOW on, moving with the real time."""
    started = time.monotonic()
    return lambda: NOW + timedelta(seconds=time.monotonic() - started)


class CountingLedger:
    """A ledger that counts its renewals per delivery, fails them while told to, and finds
    the claims on `taken` no longer ours (as the fence does once another daemon took one)."""

    def __init__(self, ledger: SqlLedger) -> None:
        self._ledger = ledger
        self.renewals: Counter[str] = Counter()
        self.failing = False
        self.failures = 0
        self.taken: set[str] = set()
        self.threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def renew(self, claim: Claim, lease: timedelta, now: datetime) -> datetime | None:
        with self._lock:
            self.renewals[claim.row.key] += 1
            self.threads.add(threading.current_thread())
        if self.failing:
            self.failures += 1
            raise LedgerUnavailable("the ledger is locked")
        if claim.row.key in self.taken:
            return None
        return self._ledger.renew(claim, lease, now)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ledger, name)


def until(condition: Callable[[], bool], seconds: float = 30) -> None:
    """Wait, bounded, for something the renewer's thread does."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.01)


@pytest.fixture
def renewer() -> Iterator[LeaseRenewer]:
    made = LeaseRenewer()
    yield made
    made.close()


def claims(ledger: SqlLedger, clock: Callable[[], datetime], n: int) -> list[Claim]:
    channels = [f"c{i:02d}" for i in range(n)]
    ledger.sync([delivery("p", channel=c) for c in channels], NOW)
    found = [ledger.claim(c, "test:1", LEASE, clock()) for c in channels]
    assert all(found)
    return [c for c in found if c is not None]


def keep(
    ledger: SqlLedger | CountingLedger,
    made: list[Claim],
    clock: Callable[[], datetime],
    renewer: LeaseRenewer,
) -> list[LeaseKeeper]:
    keepers = [LeaseKeeper(ledger, c, LEASE, clock, renewer) for c in made]
    for keeper in keepers:
        keeper.start()
    return keepers


def test_one_thread_keeps_every_claim_in_flight_past_its_first_lease(
    ledger: SqlLedger, renewer: LeaseRenewer
) -> None:
    clock = running_clock()
    counting = CountingLedger(ledger)
    keepers = keep(counting, claims(ledger, clock, 40), clock, renewer)
    assert renewer.in_flight == 40
    until(lambda: len(counting.renewals) == 40 and min(counting.renewals.values()) >= 3)
    (thread,) = counting.threads
    assert thread is not threading.current_thread()
    for keeper in keepers:
        keeper.check()  # 1.5 s and more after the claims, of a 1.5 s lease: still held
        keeper.stop()
    assert renewer.in_flight == 0
    done = dict(counting.renewals)
    time.sleep(LEASE.total_seconds())
    assert counting.renewals == done  # nothing renewed after its publish


def test_a_claim_that_cannot_be_renewed_sends_nothing_more_and_the_others_go_on(
    ledger: SqlLedger, renewer: LeaseRenewer
) -> None:
    clock = running_clock()
    made = claims(ledger, clock, 3)
    counting = CountingLedger(ledger)
    keepers = keep(counting, made, clock, renewer)
    taken = made[0].row.key
    counting.taken.add(taken)
    until(lambda: keepers[0].lost)
    with pytest.raises(SendRefused):
        keepers[0].check()
    renewed = counting.renewals[taken]
    until(lambda: min(counting.renewals[c.row.key] for c in made[1:]) >= renewed + 2)
    assert counting.renewals[taken] == renewed  # not tried again
    for keeper in keepers[1:]:
        keeper.check()
    assert renewer.in_flight == 3
    for keeper in keepers:
        keeper.stop()


def failing(
    ledger: SqlLedger, renewer: LeaseRenewer, times: int
) -> tuple[CountingLedger, LeaseKeeper]:
    """One claim being published, whose renewals have failed `times` in a row, and its ledger
    (still failing)."""
    clock = running_clock()
    counting = CountingLedger(ledger)
    (keeper,) = keep(counting, claims(ledger, clock, 1), clock, renewer)
    counting.failing = True
    until(lambda: counting.failures >= times)
    return counting, keeper


def test_a_renewal_that_fails_is_tried_again_at_the_next_third(
    ledger: SqlLedger, renewer: LeaseRenewer
) -> None:
    counting, keeper = failing(ledger, renewer, 1)
    counting.failing = False
    tried = sum(counting.renewals.values())
    until(lambda: sum(counting.renewals.values()) >= tried + 2)
    assert not keeper.lost
    keeper.check()
    keeper.stop()


def test_a_ledger_failing_past_the_lease_stops_the_requests_then_the_claim_is_lost(
    ledger: SqlLedger, renewer: LeaseRenewer
) -> None:
    counting, keeper = failing(ledger, renewer, 3)  # 1.5 s without a renewal
    assert not keeper.lost
    with pytest.raises(SendRefused):
        keeper.check()  # by this process's clock the lease may have run out
    counting.failing = False
    until(lambda: keeper.lost)  # the fenced renewal finds the lease over
    keeper.stop()


def test_shut_down_stops_the_thread_and_renews_nothing_more(
    ledger: SqlLedger, renewer: LeaseRenewer
) -> None:
    clock = running_clock()
    counting = CountingLedger(ledger)
    made = claims(ledger, clock, 3)
    keepers = keep(counting, made[:2], clock, renewer)
    until(lambda: len(counting.renewals) == 2)
    renewer.close()
    assert not renewer.running
    late = keep(counting, made[2:], clock, renewer)  # a publish that began as it stopped
    done = dict(counting.renewals)  # with the check of that one's claim as it began
    time.sleep(LEASE.total_seconds())
    assert counting.renewals == done
    assert not renewer.running
    for keeper in keepers + late:
        with pytest.raises(SendRefused):
            keeper.check()  # the lease they had ran out
        keeper.stop()


def test_the_thread_ends_when_idle_and_starts_again_with_the_next_claim(
    ledger: SqlLedger, renewer: LeaseRenewer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LeaseRenewer, "IDLE_SECONDS", 0.05)
    clock = running_clock()
    made = claims(ledger, clock, 2)
    (first,) = keep(ledger, made[:1], clock, renewer)
    first.stop()
    until(lambda: not renewer.running)
    counting = CountingLedger(ledger)
    (second,) = keep(counting, made[1:], clock, renewer)
    until(lambda: counting.renewals[made[1].row.key] >= 2)
    assert renewer.running
    second.stop()
