"""Recurring posts (`every`) expanded into concrete occurrences between two instants.

Cron expressions are evaluated on the wall clock of the audience's zone (croniter on naive
local times), then each match becomes UTC through campaigns.localtime, so `0 10 * * MON`
stays at 10:00 local time across DST changes and the gap/fold policy applies to it as to
any other time. Intervals of whole days or weeks also keep the local time of day; shorter
intervals count elapsed time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from campaigns.localtime import to_utc, to_wall
from campaigns.problems import HintedError

MAX_OCCURRENCES = 1000
"""More occurrences than this for one post is almost certainly a mistake (a cron every
minute); the loader reports it instead of expanding it."""


@dataclass(frozen=True, slots=True)
class Occurrence:
    utc: datetime
    wall: datetime
    """Naive local time in the zone the recurrence was evaluated in, as the rule meant it."""
    note: str | None = None


class TooManyOccurrences(Exception):
    pass


def check_cron(expr: str) -> str:
    """Raises ValueError unless `expr` is a standard five-field cron expression."""
    from croniter import croniter

    fields = expr.split()
    if len(fields) != 5 or not croniter.is_valid(expr):
        raise HintedError(
            f"'{expr}' is not a cron expression",
            hint="five fields: minute hour day-of-month "
            "month day-of-week, such as '0 10 * * MON' (10:00 every Monday)",
        )
    return " ".join(fields)


def cron_occurrences(
    expr: str, start: datetime, end: datetime, tz: ZoneInfo, cap: int = MAX_OCCURRENCES
) -> list[Occurrence]:
    """Matches of `expr` from `start` to `end` (aware instants, both included)."""
    from croniter import CroniterBadDateError, croniter

    walls = croniter(expr, to_wall(start, tz) - timedelta(seconds=1))

    def matches() -> Iterator[datetime]:
        while True:
            try:
                yield walls.get_next(datetime)
            except CroniterBadDateError:  # the expression never matches (30 February)
                return

    return _collect(matches(), start, end, tz, cap)


def interval_occurrences(
    step: timedelta,
    start: datetime,
    start_wall: datetime,
    end: datetime,
    tz: ZoneInfo,
    cap: int = MAX_OCCURRENCES,
) -> list[Occurrence]:
    """Every `step` from `start` to `end`; `start_wall` is the local time `start` was meant as."""
    if step % timedelta(days=1):
        found: list[Occurrence] = []
        current = start
        while current <= end:
            if len(found) == cap:
                raise TooManyOccurrences
            found.append(Occurrence(current, to_wall(current, tz)))
            if end - current < step:
                break
            current += step
        return found

    def walls() -> Iterator[datetime]:
        current = start_wall
        while True:
            yield current
            if datetime.max - current < step:
                return
            current += step

    return _collect(walls(), start, end, tz, cap)


def _collect(
    walls: Iterator[datetime], start: datetime, end: datetime, tz: ZoneInfo, cap: int
) -> list[Occurrence]:
    found: list[Occurrence] = []
    for wall in walls:
        instant, note = to_utc(wall, tz)
        if instant > end:
            break
        if instant < start:
            continue
        if len(found) == cap:
            raise TooManyOccurrences
        found.append(Occurrence(instant, wall, note))
    return found
