"""Whether a campaign is paused at a post's instant, for a post claimed ahead of it.

The claim checks the pause, but a post claimed ahead of its due time waits for it, and a
`clarion pause` that returns meanwhile must stop it (docs/design.md rule 4). So once the
instant has come, the pauses are read again: one read, begun at or after the instant, answers
for every post due then, on every channel (a burst of a hundred posts due at one second
costs one read, not a hundred).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from scheduler.ledger.api import Control, Ledger

log = logging.getLogger("clarion.dispatch")


class PauseCheck:
    def __init__(self, ledger: Ledger, clock: Callable[[], datetime]) -> None:
        self._ledger = ledger
        self._clock = clock
        self._lock = threading.Lock()
        self._read_at: datetime | None = None
        """When the last read began."""
        self._controls: Sequence[Control] = ()
        self._reading: threading.Event | None = None
        """Set when the read in progress ends."""

    def paused(self, campaign: str, since: datetime) -> bool:
        """Whether the campaign is paused, by a read of the ledger begun at or after `since`.
        A ledger that cannot be read leaves the answer of the claim: not paused."""
        while True:
            with self._lock:
                if self._read_at is not None and self._read_at >= since:
                    return any(c.campaign in (None, campaign) for c in self._controls)
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
                controls = self._ledger.controls(began)
            except Exception as exc:
                log.debug("could not read the pauses at a post's instant (%s)", exc)
                controls = None
            with self._lock:
                self._reading = None
                if controls is not None:
                    self._read_at, self._controls = began, controls
            reading.set()
            if controls is None:
                return False
