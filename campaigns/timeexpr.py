"""Time expressions, as written in `at`, `every.from`/`until` and blackout bounds.

    2027-02-09 09:00                  wall clock in the post's (audience's, campaign's) zone
    2027-02-09T09:00+01:00            a fixed instant (offset or Z)
    2027-02-09 09:00 Europe/Helsinki  wall clock in the named zone: a fixed instant too
    sid 12:00                         on the day of anchor `sid`
    sid - 7d 09:00                    offsets in w(eeks) and d(ays) move the day
    start + 5s                        offsets in h, m, s; from a `now` anchor they count
                                      elapsed time
    sid - 28d                         a day without a time: a `from` starts at its beginning,
                                      an `until` ends at its end

Parsing needs no context; `resolve` turns an expression into an instant given the anchors
and the zone of the audience it is meant for.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from campaigns.durations import parse_duration
from campaigns.localtime import to_utc, to_wall, zone
from campaigns.problems import HintedError

Anchor = date | datetime
"""A named day, or an aware instant (the `now` anchor)."""

DAY = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
"""A date as times and anchors write it: 2027-02-09 (or 2027-2-9)."""
TIME = re.compile(
    r"\s*(?:(?P<date>" + DAY.pattern + r")"
    r"|(?P<anchor>[A-Za-z_][A-Za-z0-9_]*)(?P<shifts>(?:\s*[+-](?:\s*\d+\s*[wdhms])+)*))"
    r"(?:(?:T|\s+)(?P<time>\d{1,2}:\d{2}(?::\d{2})?)(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)?)?"
    r"(?:\s+(?P<zone>[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*))?\s*"
)
"""A whole time expression, as `parse_time` reads it (whose checks go further)."""
_SHIFT = re.compile(r"([+-])((?:\s*\d+\s*[wdhms])+)")
_HINT = (
    "write a date and time such as '2027-02-09 09:00', or an anchor with an offset and a "
    "time such as 'sid - 7d 09:00'"
)


@dataclass(frozen=True, slots=True)
class TimeExpr:
    text: str
    day: date | None = None
    anchor: str | None = None
    days: int = 0
    """The whole-day part of the offsets (weeks count 7): moves the calendar day."""
    delta: timedelta = timedelta()
    """The hours/minutes/seconds part of the offsets."""
    clock: time | None = None
    utc_offset: timedelta | None = None
    zone: str | None = None

    @property
    def fixed(self) -> bool:
        """True when the expression names its zone or offset: one instant for every audience."""
        return self.zone is not None or self.utc_offset is not None

    @property
    def day_only(self) -> bool:
        """A day without a time of day (`sid - 28d`, `2027-02-09`)."""
        return self.clock is None and not self.delta

    def __str__(self) -> str:
        return self.text


@lru_cache(maxsize=4096)
def parse_time(text: str) -> TimeExpr:
    """Raises HintedError when `text` is not a time expression."""
    match = TIME.fullmatch(text)
    if not match:
        raise HintedError(f"'{text}' is not a time", hint=_advice(text))
    parts = match.groupdict()
    day = parse_day(parts["date"]) if parts["date"] else None
    days, delta = 0, timedelta()
    for sign, amount in _SHIFT.findall(parts["shifts"] or ""):
        shift = parse_duration(amount.replace(" ", ""))
        if sign == "-":
            shift = -shift
        days += shift.days
        delta += shift - timedelta(days=shift.days)
    clock = _time(parts["time"]) if parts["time"] else None
    if clock is not None and delta:
        raise HintedError(
            f"'{text}' adds hours, minutes or seconds and also gives a time of day",
            hint="shift by whole days or weeks (sid + 1d 18:30), or leave out the time "
            "(start + 2h)",
        )
    offset = _offset(parts["offset"]) if parts["offset"] else None
    name = parts["zone"]
    if name is not None and name.lower() in ("am", "pm"):
        raise HintedError(f"'{text}' is not a time", hint=_MISTAKES[0][1])
    if name is not None:
        if offset is not None:
            raise HintedError(
                f"'{text}' gives both an offset and a time zone", hint="keep only one of them"
            )
        zone(name)  # raises with close names
    return TimeExpr(text, day, parts["anchor"], days, delta, clock, offset, name)


_CLOCK_ONLY = re.compile(r"\s*\d{1,2}[:.h]\d{2}\s*")
_MISTAKES = (
    (re.compile(r"\d\s*(?:[ap]\.?m\.?)\b", re.I), "use the 24-hour clock, such as 09:00 or 21:30"),
    (re.compile(r"\b\d{1,2}(?:\.|h)\d{2}\b"), "write the time of day with a colon, such as 09:30"),
    (
        re.compile(r"\d\s*(?:weeks?|days?|hours?|minutes?|mins?)\b", re.I),
        "write offsets as a number and a letter: 7d (days), 2w (weeks), 3h, 30m, such as "
        "'sid - 7d 09:00'",
    ),
    (
        re.compile(r"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b"),
        "write dates as year-month-day, such as 2027-02-09",
    ),
)


def _advice(text: str) -> str:
    """The hint for something that is not a time: what its author most likely meant."""
    if _CLOCK_ONLY.fullmatch(text):
        return (
            "a time of day also needs its day: an anchor ('sid 09:00', 'sid - 7d 09:00') or a "
            "date ('2027-02-09 09:00')"
        )
    for pattern, advice in _MISTAKES:
        if pattern.search(text):
            return advice
    return _HINT


def parse_day(text: str) -> date:
    """A date matching DAY; raises ValueError (with a hint) for one not in the calendar."""
    year, month, day = (int(p) for p in text.split("-"))
    if year < 1 or not 1 <= month <= 12:
        raise HintedError(
            f"'{text}' is not a date: there is no {'year 0' if year < 1 else f'month {month}'}",
            hint="dates are written year-month-day, such as 2027-02-09",
        )
    try:
        return date(year, month, day)
    except ValueError:
        last = calendar.monthrange(year, month)[1] if year >= 1 else 31
        raise HintedError(
            f"'{text}' is not a date: {calendar.month_name[month]} {year} has {last} days",
            hint="dates are written year-month-day, such as 2027-02-09",
        ) from None


def _time(text: str) -> time:
    numbers = [int(n) for n in text.split(":")]
    hour, minute, second = [*numbers, 0][:3]
    if hour > 23 or minute > 59 or second > 59:
        raise HintedError(f"'{text}' is not a time of day", hint="from 00:00 to 23:59")
    return time(hour, minute, second)


def _offset(text: str) -> timedelta:
    if text == "Z":
        return timedelta()
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 14 or minutes > 59:
        raise HintedError(f"'{text}' is not a UTC offset", hint="such as +01:00 or Z")
    span = timedelta(hours=hours, minutes=minutes)
    return -span if text[0] == "-" else span


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Instant:
    utc: datetime
    """Aware, UTC."""
    zone: str
    """The zone whose wall clock the expression was read in."""
    wall: datetime
    """The wall-clock time meant in that zone (naive), before the DST policy moved it."""
    note: str | None = None
    """Set when the wall time fell in a DST gap or fold (see campaigns.localtime)."""


def resolve(
    expr: TimeExpr, anchors: Mapping[str, Anchor], zone_name: str, *, end: bool = False
) -> Instant:
    """The instant `expr` names for an audience living in `zone_name`.

    `end=True` reads a day without a time as the end of that day (for `until`): the instant
    just before the next day begins. Raises KeyError for an unknown anchor and ValueError for
    an instant out of the calendar's range.
    """
    try:
        instant = _resolve(expr, anchors, zone_name, end)
    except OverflowError:
        instant = None
    if instant is None or not EARLIEST <= instant.utc <= LATEST:
        raise HintedError(
            f"'{expr}' is too far in the past or the future",
            hint=f"Clarion plans posts between {EARLIEST.year} and {LATEST.year - 1}",
        )
    return instant


def _resolve(expr: TimeExpr, anchors: Mapping[str, Anchor], zone_name: str, end: bool) -> Instant:
    name = expr.zone or zone_name
    tz = zone(name)
    base: Anchor = expr.day if expr.day is not None else anchors[expr.anchor or ""]
    if isinstance(base, datetime):
        if expr.clock is None:
            return _exact(base.astimezone(UTC) + timedelta(days=expr.days) + expr.delta, name)
        base = base.astimezone(tz).date()
    day = base + timedelta(days=expr.days)
    if expr.utc_offset is not None:
        assert expr.clock is not None
        wall = datetime.combine(day, expr.clock)
        return _exact((wall - expr.utc_offset).replace(tzinfo=UTC), name)
    if end and expr.day_only:
        wall = datetime.combine(day + timedelta(days=1), time())
        instant, note = to_utc(wall, tz)
        return Instant(instant - timedelta(microseconds=1), name, wall, note)
    wall = datetime.combine(day, expr.clock or time()) + expr.delta
    instant, note = to_utc(wall, tz)
    return Instant(instant, name, wall, note)


def _exact(instant: datetime, name: str) -> Instant:
    return Instant(instant, name, to_wall(instant, zone(name)))
