"""Whether a post claimed ahead of its instant may still go out at it.

The claim checks the pauses and the blackouts, but a post claimed ahead of its due time waits
for it, and a `clarion pause` that returns meanwhile, or a blackout a reloaded plan adds, must
stop it (docs/design.md rule 4). So once the instant has come, both are read again: one read,
begun at or after the instant, answers for every post due then, on every channel (a burst of
a hundred posts due at one second costs one read, not a hundred).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from campaigns.blackouts import Safety
from scheduler.ledger.api import Control, Ledger, Row
from scheduler.waiting import blackout_of

log = logging.getLogger("clarion.dispatch")


@dataclass(frozen=True, slots=True)
class _Read:
    began: datetime
    controls: Sequence[Control]
    safety: Mapping[str, Safety]


class InstantCheck:
    def __init__(self, ledger: Ledger, clock: Callable[[], datetime]) -> None:
        self._ledger = ledger
        self._clock = clock
        self._lock = threading.Lock()
        self._last: _Read | None = None
        self._reading: threading.Event | None = None
        """Set when the read in progress ends."""

    def stops(self, row: Row, instant: datetime) -> str | None:
        """Why the row must not go out at its instant (its campaign paused, a blackout in
        force), by a read of the ledger begun at or after the instant; None if it may. A
        ledger that cannot be read leaves the answer of the claim: it may."""
        read = self._read(instant)
        if read is None:
            return None
        if any(c.campaign in (None, row.campaign) for c in read.controls):
            return "its campaign was paused before its due time"
        window = blackout_of(row, read.safety, instant)
        if window is not None:
            return f"the blackout '{window.reason}' began before its due time"
        return None

    def _read(self, since: datetime) -> _Read | None:
        while True:
            with self._lock:
                if self._last is not None and self._last.began >= since:
                    return self._last
                reading = self._reading
                if reading is None:
                    self._reading = reading = threading.Event()
                    began: datetime | None = self._clock()
                else:
                    began = None
            if began is None:
                reading.wait()
                continue
            try:
                read: _Read | None = _Read(
                    began, self._ledger.controls(began), self._ledger.blackouts()
                )
            except Exception as exc:
                log.debug("could not read the pauses and blackouts at a post's instant (%s)", exc)
                read = None
            with self._lock:
                self._reading = None
                if read is not None:
                    self._last = read
            reading.set()
            return read
