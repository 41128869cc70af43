"""The YouTube Data API's daily quota, counted by Clarion as it spends it.

Google counts quota per Cloud project (the OAuth client), not per channel, and says nothing
of it in its answers until it is spent (403 `quotaExceeded`). By default a project has
100 `videos.insert` calls a day in a bucket of their own, and 10,000 units a day for every
other method, each at its documented cost (captions.insert 400, thumbnails.set 50, a list 1);
every request counts, failed ones included. Both reset at midnight Pacific time.

So the connector keeps the count itself, in a file per project under the channel's state
folder that every channel of the project shares, and asks to wait for the reset rather than
start what the day's quota can no longer finish. The count is Clarion's own: other programs
using the same project spend quota it does not see, and a `quotaExceeded` answer then marks
the day as spent.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.base import PlatformBudget, RetryLater

PACIFIC = ZoneInfo("America/Los_Angeles")
UNITS_PER_DAY = 10_000
UPLOADS_PER_DAY = 100

COST: Mapping[str, int] = {
    "captions.insert": 400,
    "thumbnails.set": 50,
    "commentThreads.insert": 50,
    "commentThreads.list": 1,
    "channels.list": 1,
    "playlistItems.list": 1,
    "videos.list": 1,
}
"""Units of the shared bucket per call (the API's quota cost table)."""

UPLOAD = "videos.insert"
"""Counted in its own bucket, one per call."""

_locks: dict[Path | None, threading.Lock] = {}
_locks_guard = threading.Lock()


def next_reset(now: datetime) -> datetime:
    """The next midnight in Pacific time, as UTC."""
    local = now.astimezone(PACIFIC)
    tomorrow = datetime.combine(local.date() + timedelta(days=1), time(0), PACIFIC)
    return tomorrow.astimezone(UTC)


def pacific_day(now: datetime) -> date:
    return now.astimezone(PACIFIC).date()


@dataclass(slots=True)
class _Day:
    day: str
    units: int = 0
    uploads: int = 0
    spent: bool = False
    """YouTube said the quota is spent, whatever our count says."""


class Quota:
    """What the project has spent today, shared through `folder` by its channels."""

    def __init__(
        self,
        folder: Path | None,
        client_id: str,
        *,
        units: int = UNITS_PER_DAY,
        uploads: int = UPLOADS_PER_DAY,
    ) -> None:
        project = hashlib.sha256(client_id.encode()).hexdigest()[:16]
        self.path = folder / f"youtube-quota-{project}.json" if folder else None
        self.units = units
        self.uploads = uploads
        with _locks_guard:
            self._lock = _locks.setdefault(self.path, threading.Lock())
        self._memory: _Day | None = None

    def afford(self, calls: Mapping[str, int], now: datetime, what: str) -> None:
        """Raise RetryLater, until the reset, unless today's quota can pay for `calls`
        ({method: how many})."""
        units = sum(COST[method] * n for method, n in calls.items() if method != UPLOAD)
        uploads = calls.get(UPLOAD, 0)
        with self._lock:
            today = self._read(now)
        short = today.spent or today.units + units > self.units
        short = short or today.uploads + uploads > self.uploads
        if short:
            reset = next_reset(now)
            raise RetryLater(
                f"{what} needs {units} quota units and {uploads} upload, and the YouTube "
                f"project has {max(0, self.units - today.units)} of {self.units} units and "
                f"{max(0, self.uploads - today.uploads)} of {self.uploads} uploads left "
                f"today{' (YouTube said it is spent)' if today.spent else ''}: it waits for "
                f"the daily reset at midnight Pacific time ({reset:%Y-%m-%d %H:%M} UTC)",
                retry_at=reset,
            )

    def spend(self, method: str, now: datetime) -> None:
        with self._lock:
            today = self._read(now)
            if method == UPLOAD:
                today.uploads += 1
            else:
                today.units += COST[method]
            self._write(today)

    def exhausted(self, now: datetime) -> datetime:
        """YouTube answered `quotaExceeded`: nothing more until the reset, which is returned."""
        with self._lock:
            today = self._read(now)
            today.spent = True
            self._write(today)
        return next_reset(now)

    def budgets(self, now: datetime) -> list[PlatformBudget]:
        with self._lock:
            today = self._read(now)
        reset = next_reset(now)
        units_left = 0 if today.spent else max(0, self.units - today.units)
        uploads_left = 0 if today.spent else max(0, self.uploads - today.uploads)
        return [
            PlatformBudget(
                "quota units per day (counted by Clarion)", self.units, units_left, reset
            ),
            PlatformBudget("video uploads per day", self.uploads, uploads_left, reset),
        ]

    def _read(self, now: datetime) -> _Day:
        day = pacific_day(now).isoformat()
        found = self._memory
        if self.path is not None:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                found = _Day(
                    str(data["day"]),
                    int(data["units"]),
                    int(data["uploads"]),
                    bool(data.get("spent")),
                )
            except (OSError, ValueError, KeyError, TypeError):
                found = None  # none yet, or unreadable: counted afresh
        return found if found is not None and found.day == day else _Day(day)

    def _write(self, today: _Day) -> None:
        self._memory = today
        if self.path is None:
            return
        data = {"day": today.day, "units": today.units, "uploads": today.uploads}
        if today.spent:
            data["spent"] = True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".youtube-quota-")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out)
            os.replace(temporary, self.path)
        except OSError:
            pass  # the count is advice: YouTube's own answer still stops us when it is spent
