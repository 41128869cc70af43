"""APScheduler 3 as the alarm clock: it only ever says "channel C has something due"
(docs/design.md rule 1).

The jobs live in a MemoryJobStore rebuilt from the ledger: one date job per planned delivery
due within the horizon (job id = delivery key, run date = the ledger's UTC instant), plus
interval jobs (the horizon refresh here; the daemon's sweeper and heartbeat). Every time is
an aware UTC instant and the scheduler's zone is UTC, so the host's zone never matters; no
cron trigger is ever used. A late alarm still runs (`misfire_grace_time=None`), and an alarm
that fires for nothing is harmless: the ledger decides what may be claimed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from contextlib import suppress
from datetime import UTC, datetime, timedelta

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scheduler.ledger.api import Alarm

log = logging.getLogger("clarion.alarms")

MAINTENANCE = "maintenance"
"""The executor of the sweeper and the horizon refresh, so that a slow ledger never holds up
the threads that fire delivery alarms and the heartbeat."""

HORIZON = "@horizon"
NOT_A_DELIVERY = "@"
"""How the ids of alarms for no delivery begin (`@blackout-end/...`): they ring on time."""
MAX_ALARMS = 20_000
"""At most this many alarms are set at once, the nearest first (an APScheduler job weighs
about 1 kB); when half of them have fired, the next ones are set. Anything an alarm misses,
the sweeper catches."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Scheduler(BackgroundScheduler):  # type: ignore[misc]
    """APScheduler 3's loop removes a fired date job with `remove_job`, which, once
    `shutdown()` has set the state to stopped from another thread, looks among the pending
    jobs instead of the job store and raises JobLookupError: a traceback in the scheduler
    thread at every stop that lands mid-loop. Then the loop is ending anyway."""

    def _process_jobs(self) -> float | None:
        try:
            wait: float | None = super()._process_jobs()
        except JobLookupError:
            if self.state != STATE_STOPPED:
                raise
            return None
        return wait


class AlarmClock:
    def __init__(
        self,
        wake: Callable[[str], None],
        alarms: Callable[[datetime, timedelta], list[Alarm]],
        horizon: timedelta,
        clock: Callable[[], datetime] = utcnow,
        *,
        on_error: Callable[[Exception], None] | None = None,
        limit: int = MAX_ALARMS,
        early: timedelta = timedelta(0),
    ) -> None:
        """`early`: a delivery's alarm rings this long before its due time, for the channel
        to claim it and make it ready (`policies.prepare_ahead`)."""
        self._wake = wake
        self._early = early
        self._alarms = alarms
        self._horizon = horizon
        self._clock = clock
        self._on_error = on_error
        self._limit = limit
        self._more = False
        """The last refresh left alarms unset because of the limit."""
        self._armed: dict[str, datetime] = {}
        self._armed_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self.scheduler = _Scheduler(
            jobstores={"default": MemoryJobStore()},
            executors={
                "default": ThreadPoolExecutor(4),
                MAINTENANCE: ThreadPoolExecutor(2),
            },
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self.scheduler.add_listener(self._job_event, EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES)

    def start(self) -> None:
        """Start the scheduler; the horizon refresh runs at once, then every half horizon
        (at most every 5 minutes)."""
        refresh = min(self._horizon / 2, timedelta(minutes=5))
        self.every(HORIZON, refresh, self._refresh_job, maintenance=True)
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def alive(self) -> bool:
        thread = getattr(self.scheduler, "_thread", None)
        return self.scheduler.running and thread is not None and thread.is_alive()

    def every(
        self,
        job_id: str,
        interval: timedelta,
        func: Callable[[], object],
        *,
        maintenance: bool = False,
    ) -> None:
        """A recurring job, first run at once."""
        self.scheduler.add_job(
            func,
            IntervalTrigger(seconds=interval.total_seconds(), timezone=UTC),
            id=job_id,
            name=job_id,
            next_run_time=self._clock(),
            executor=MAINTENANCE if maintenance else "default",
            replace_existing=True,
        )

    def run_soon(self, job_id: str) -> None:
        """Run a recurring job now instead of waiting for its next turn."""
        self.scheduler.modify_job(job_id, next_run_time=self._clock())

    @property
    def armed(self) -> int:
        with self._armed_lock:
            return len(self._armed)

    def refresh(self) -> int:
        """Arm an alarm for the planned deliveries due within the horizon (the nearest
        `limit` of them); disarm the rest. Returns how many alarms were set or moved.

        What is due already is the sweeper's: it wakes those channels on its next turn.
        """
        with self._refresh_lock:
            now = self._clock()
            ahead = [alarm for alarm in self._alarms(now, self._horizon) if alarm.at > now]
            self._more = len(ahead) > self._limit
            wanted = {alarm.key: alarm for alarm in ahead[: self._limit]}
            with self._armed_lock:
                stale = [key for key in self._armed if key not in wanted]
                changed = [
                    alarm for key, alarm in wanted.items() if self._armed.get(key) != alarm.at
                ]
            for key in stale:
                self.disarm(key)
            self.arm(changed)
            return len(changed)

    def _refresh_job(self) -> None:
        try:
            self.refresh()
        except Exception as exc:
            if self._on_error is None:
                raise
            self._on_error(exc)

    def arm(self, alarms: Iterable[Alarm]) -> None:
        for alarm in alarms:
            with self._armed_lock:
                self._armed[alarm.key] = alarm.at
            early = timedelta(0) if alarm.key.startswith(NOT_A_DELIVERY) else self._early
            self.scheduler.add_job(
                self._fire,
                DateTrigger(alarm.at - early, UTC),
                args=(alarm.key, alarm.channel),
                id=alarm.key,
                name=alarm.key,
                replace_existing=True,
            )

    def disarm(self, key: str) -> None:
        with self._armed_lock:
            self._armed.pop(key, None)
        with suppress(JobLookupError):  # it has fired meanwhile
            self.scheduler.remove_job(key)

    def _fire(self, key: str, channel: str) -> None:
        with self._armed_lock:
            self._armed.pop(key, None)
            running_low = self._more and len(self._armed) < self._limit // 2
        self._wake(channel)
        if running_low:
            self._more = False  # one refresh is enough to set the next ones
            self.run_soon(HORIZON)

    def _job_event(self, event: JobExecutionEvent | JobSubmissionEvent) -> None:
        if isinstance(event, JobExecutionEvent) and event.exception is not None:
            log.error(
                "scheduled job %s failed: %s: %s",
                event.job_id,
                type(event.exception).__name__,
                event.exception,
                extra={"job": event.job_id},
            )
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning(
                "job %s is still running from its previous turn; this turn is skipped",
                event.job_id,
                extra={"job": event.job_id},
            )
