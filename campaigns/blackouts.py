"""Blackouts resolved to UTC, and what becomes of a post planned inside one.

The same windows serve the preview (a post inside one is shown held, with what happens next)
and the daemon (it stores them in the ledger and checks them when it claims a delivery).
`campaigns.safety` reads them from a campaign file even when the rest of that file is
rejected: a blackout added in a hurry must not be lost because the same save has a typo
elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from campaigns.problems import Location

BlackoutPolicy = Literal["postpone", "skip"]


@dataclass(frozen=True, slots=True)
class Window:
    """A blackout: from `start` (included) to `end` (excluded), on `channels` (None: all)."""

    start: datetime
    end: datetime
    reason: str
    channels: frozenset[str] | None
    where: Location
    then: BlackoutPolicy = "postpone"

    def covers(self, channel: str, instant: datetime) -> bool:
        on = self.channels is None or channel in self.channels
        return on and self.start <= instant < self.end


@dataclass(frozen=True, slots=True)
class Fate:
    """What becomes of a delivery planned inside a blackout."""

    window: Window
    """The blackout its planned time falls in."""
    release: datetime | None
    """When it may go out (the end of the blackouts that hold it); None: it is skipped."""
    expires: bool
    """Its deadline passes before `release`: it will not go out."""


def fate(
    windows: Sequence[Window], channel: str, due: datetime, deadline: datetime | None
) -> Fate | None:
    """None if no blackout holds a delivery on `channel` planned at `due`.

    The daemon decides the same way when it claims: a delivery planned inside a `skip`
    blackout is cancelled; any other waits while any blackout covers the present moment, and
    its deadline still applies.
    """
    hits = [w for w in windows if w.covers(channel, due)]
    if not hits:
        return None
    skipping = next((w for w in hits if w.then == "skip"), None)
    if skipping is not None:
        return Fate(skipping, None, False)
    release = due
    moved = True
    while moved:  # blackouts that overlap or follow each other hold it until the last ends
        moved = False
        for window in windows:
            if window.covers(channel, release):
                release, moved = window.end, True
    return Fate(hits[0], release, deadline is not None and deadline < release)


@dataclass(frozen=True, slots=True)
class Safety:
    """A campaign's blackouts, and the posts that go out in spite of them."""

    campaign: str
    windows: tuple[Window, ...]
    exempt_posts: frozenset[str]
