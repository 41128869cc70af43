"""Month, week and day grids of deliveries on the viewer's clock."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from campaigns.preview.common import local_day
from scheduler.web.board import Item, Window, day_start, days_between

View = Literal["month", "week", "day"]
VIEWS: tuple[View, ...] = ("month", "week", "day")

MONTH_CELL = 6
"""Deliveries a month view lists per day before `+N more` (the day view has them all)."""


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    in_range: bool
    """False for the days of neighbouring months that fill a month view's first and last week."""
    items: Sequence[Item]
    blackouts: Sequence[Window]

    @property
    def hidden(self) -> int:
        return max(0, len(self.items) - MONTH_CELL)


@dataclass(frozen=True, slots=True)
class Grid:
    view: View
    anchor: date
    weeks: Sequence[Sequence[Day]]
    previous: date
    following: date
    title: str


def parse_view(text: str) -> View:
    for view in VIEWS:
        if text == view:
            return view
    return "month"


def default_anchor(items: Sequence[Item], zone: str, now: datetime) -> date:
    """The day of the next delivery, else of the last one, else today."""
    upcoming = next((i for i in items if i.delivery.due_utc >= now), None)
    chosen = upcoming or (items[-1] if items else None)
    moment = chosen.delivery.due_utc if chosen else now
    return local_day(moment, zone)


def grid(
    items: Sequence[Item], blackouts: Sequence[Window], view: View, anchor: date, zone: str
) -> Grid:
    """`items` in time order (as a Board holds them)."""
    if view == "month":
        first = anchor.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        start = first - timedelta(days=first.weekday())
        end = last + timedelta(days=6 - last.weekday())
        previous = (first - timedelta(days=1)).replace(day=1)
        following = last + timedelta(days=1)
        title = f"{first:%B %Y}"
    elif view == "week":
        first = start = anchor - timedelta(days=anchor.weekday())
        last = end = start + timedelta(days=6)
        previous, following = start - timedelta(days=7), start + timedelta(days=7)
        title = f"Week of {start.day} {start:%B %Y}"
    else:
        first = last = start = end = anchor
        previous, following = anchor - timedelta(days=1), anchor + timedelta(days=1)
        title = f"{anchor:%A} {anchor.day} {anchor:%B %Y}"
    lower, upper = day_start(start, zone), day_start(end + timedelta(days=1), zone)
    by_day: dict[date, list[Item]] = defaultdict(list)
    first_in = bisect_left(items, lower, key=_due)  # items are in time order
    for item in items[first_in : bisect_left(items, upper, lo=first_in, key=_due)]:
        by_day[local_day(item.delivery.due_utc, zone)].append(item)
    days = [
        Day(
            day,
            first <= day <= last,
            by_day.get(day, []),
            _shaded(blackouts, day_start(day, zone), day_start(day + timedelta(days=1), zone)),
        )
        for day in days_between(start, end)
    ]
    weeks = [days[n : n + 7] for n in range(0, len(days), 7)]
    return Grid(view, anchor, weeks, previous, following, title)


def _due(item: Item) -> datetime:
    return item.delivery.due_utc


def _shaded(blackouts: Sequence[Window], start: datetime, end: datetime) -> list[Window]:
    return [w for w in blackouts if w.start < end and w.end > start]
