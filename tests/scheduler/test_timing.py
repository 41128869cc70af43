"""The alarm clock: APScheduler date jobs named by delivery key, set from the ledger's UTC
instants, that only wake a channel."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scheduler.ledger.api import Alarm
from scheduler.timing import AlarmClock
from tests.scheduler.daemonkit import wait_until


class Source:
    """Plays `Ledger.alarms`: whatever the test says is planned."""

    def __init__(self) -> None:
        self.alarms: list[Alarm] = []

    def __call__(self, now: datetime, horizon: timedelta) -> list[Alarm]:
        return [a for a in self.alarms if a[2] < now + horizon]


@pytest.fixture
def woken() -> list[str]:
    return []


@pytest.fixture
def source() -> Source:
    return Source()


@pytest.fixture
def clock(woken: list[str], source: Source) -> Iterator[AlarmClock]:
    """A clock whose refreshes the test makes itself (no horizon job)."""
    alarms = AlarmClock(woken.append, source, timedelta(hours=1))
    alarms.scheduler.start()
    yield alarms
    alarms.shutdown()


def jobs(clock: AlarmClock) -> dict[str, datetime]:
    return {
        job.id: job.next_run_time
        for job in clock.scheduler.get_jobs()
        if not job.id.startswith("@")
    }


def test_the_scheduler_runs_in_utc_and_never_skips_a_late_alarm(clock: AlarmClock) -> None:
    assert clock.scheduler.timezone == UTC
    defaults = clock.scheduler._job_defaults
    assert defaults["misfire_grace_time"] is None and defaults["coalesce"] is True


def test_refresh_arms_what_is_ahead_within_the_horizon(clock: AlarmClock, source: Source) -> None:
    now = datetime.now(UTC)
    source.alarms = [
        Alarm("c/late/en/x", "x", now - timedelta(minutes=1)),  # due already: the sweeper's
        Alarm("c/soon/en/x", "x", now + timedelta(minutes=5)),
        Alarm("c/soon/en/m", "m", now + timedelta(minutes=5)),
        Alarm("c/far/en/x", "x", now + timedelta(hours=2)),  # beyond the horizon
    ]
    assert clock.refresh() == 2
    armed = jobs(clock)
    assert armed == {
        "c/soon/en/x": now + timedelta(minutes=5),
        "c/soon/en/m": now + timedelta(minutes=5),
    }
    assert all(when.utcoffset() == timedelta(0) for when in armed.values())
    assert all(isinstance(clock.scheduler.get_job(key).trigger, DateTrigger) for key in armed)
    assert clock.refresh() == 0  # nothing changed, nothing re-armed


def test_refresh_moves_and_removes_alarms(clock: AlarmClock, source: Source) -> None:
    now = datetime.now(UTC)
    source.alarms = [
        Alarm("a", "x", now + timedelta(minutes=5)),
        Alarm("b", "x", now + timedelta(minutes=6)),
    ]
    clock.refresh()
    source.alarms = [Alarm("a", "x", now + timedelta(minutes=9))]
    assert clock.refresh() == 1
    assert jobs(clock) == {"a": now + timedelta(minutes=9)}
    assert clock.armed == 1


def test_an_alarm_wakes_its_channel_once(
    clock: AlarmClock, source: Source, woken: list[str]
) -> None:
    source.alarms = [Alarm("k", "telegram-news", datetime.now(UTC) + timedelta(milliseconds=300))]
    clock.refresh()
    wait_until(lambda: woken, 5, 0.01, "the wake-up")
    time.sleep(0.2)
    assert woken == ["telegram-news"]
    assert clock.armed == 0 and jobs(clock) == {}


def test_recurring_jobs_use_intervals_never_wall_clock(clock: AlarmClock) -> None:
    ran = threading.Event()
    clock.every("@job", timedelta(seconds=30), ran.set)
    assert ran.wait(5)  # first run at once
    assert isinstance(clock.scheduler.get_job("@job").trigger, IntervalTrigger)
    time.sleep(0.2)  # the first run is over (a run still going would skip this one)
    ran.clear()
    clock.run_soon("@job")
    assert ran.wait(5)


def test_the_hosts_zone_changes_nothing(source: Source, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/St_Johns")  # UTC-3:30, with its own DST dates
    time.tzset()
    clock = AlarmClock(lambda channel: None, source, timedelta(days=1000))
    clock.scheduler.start()
    try:
        when = datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # Europe springs forward
        source.alarms = [Alarm("k", "x", when)]
        clock.refresh()
        assert jobs(clock) == {"k": when}
    finally:
        clock.shutdown()
        monkeypatch.undo()
        time.tzset()


def test_a_dead_scheduler_is_seen(clock: AlarmClock) -> None:
    assert clock.alive()
    clock.scheduler.shutdown(wait=True)
    assert not clock.alive()


def test_at_most_limit_alarms_are_set_and_the_next_follow(source: Source) -> None:
    woken: list[str] = []
    now = datetime.now(UTC)
    source.alarms = [
        Alarm(f"k{i}", f"c{i}", now + timedelta(seconds=1 + 0.25 * i)) for i in range(9)
    ]
    clock = AlarmClock(woken.append, source, timedelta(hours=1), limit=4)
    clock.start()  # the horizon job sets the first four at once
    try:
        wait_until(lambda: clock.armed == 4, 5, 0.01, "the first alarms")
        assert sorted(jobs(clock)) == ["k0", "k1", "k2", "k3"]
        wait_until(lambda: len(woken) == 9, 10, 0.01, "every alarm")
        assert woken == [f"c{i}" for i in range(9)]
    finally:
        clock.shutdown()


def test_a_deliverys_alarm_rings_early_and_a_blackouts_end_on_time(source: Source) -> None:
    early = timedelta(seconds=2)
    clock = AlarmClock(lambda channel: None, source, timedelta(hours=1), early=early)
    clock.scheduler.start()
    try:
        when = datetime.now(UTC) + timedelta(minutes=5)
        source.alarms = [Alarm("k", "x", when), Alarm("@blackout-end/1/x", "x", when)]
        clock.refresh()
        assert clock.scheduler.get_job("k").next_run_time == when - early
        assert clock.scheduler.get_job("@blackout-end/1/x").next_run_time == when
    finally:
        clock.shutdown()
