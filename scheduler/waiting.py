"""Why a planned delivery is not out yet, in an operator's words (`clarion status`).

The reasons are the daemon's own rules, checked in the order the claim applies them: a
pause, a held channel, a blackout, a retry's back-off, an earlier part of its thread, the
channel's rate budget; and, for all of them, whether a daemon runs on the ledger at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from campaigns.blackouts import Safety, Window, fate
from scheduler.ledger.api import Control, Row, State


@dataclass(frozen=True, slots=True)
class Waiting:
    kind: str
    """pause, held, blackout, skip, retry, thread, rate or daemon."""
    words: str
    until: datetime | None = None
    """When the wait ends, where it is known."""


@dataclass(frozen=True, slots=True)
class Circumstances:
    """What holds deliveries back on a ledger at one moment."""

    now: datetime
    controls: Sequence[Control]
    held: Mapping[str, str]
    safety: Mapping[str, Safety]
    rate_ready: Mapping[str, datetime]
    """By channel: when its rate budget allows the next post, if later than now."""
    daemon_running: bool
    parent_state: Callable[[str], State | None]


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def named(window: Window) -> str:
    """`the blackout 'Day of mourning' (plans/sayno.yaml:40)`"""
    return f"the blackout '{window.reason}' ({window.where.file}:{window.where.line})"


def blackout_of(row: Row, safety: Mapping[str, Safety], now: datetime) -> Window | None:
    """The blackout that holds the row, if any: planned inside a `skip` one, or one in force
    on its channel when it falls due (now, for a late row)."""
    found = safety.get(row.campaign)
    if found is None or row.post in found.exempt_posts:
        return None
    skipped = fate(found.windows, row.channel, row.due_utc, None)
    if skipped is not None and skipped.release is None:
        return skipped.window
    waits = max(now, row.due_utc)
    return next((w for w in found.windows if w.covers(row.channel, waits)), None)


def why_waiting(row: Row, at: Circumstances) -> Waiting | None:
    """Why a planned delivery due by now (or soon) does not go out now; None if nothing holds
    it back (a daemon posts it at its next round)."""
    now = at.now
    for control in at.controls:
        if control.campaign in (None, row.campaign):
            who = "every campaign" if control.campaign is None else "its campaign"
            lifts = f"; the pause lifts at {_utc(control.until)}" if control.until else ""
            why = f": {control.reason}" if control.reason else ""
            return Waiting(
                "pause", f"{who} to be resumed (paused by {control.by}{why}{lifts})", control.until
            )
    if row.channel in at.held:
        return Waiting(
            "held", f"channel {row.channel} to be released (held: {at.held[row.channel]})"
        )
    window = blackout_of(row, at.safety, now)
    if window is not None:
        if window.then == "skip" and window.covers(row.channel, row.due_utc):
            return Waiting("skip", f"nothing: it is planned inside {named(window)}, and skipped")
        return Waiting("blackout", f"the end of {named(window)} at {_utc(window.end)}", window.end)
    if row.next_attempt_utc is not None and row.next_attempt_utc > now:
        return Waiting(
            "retry",
            f"its next try at {_utc(row.next_attempt_utc)} (retry back-off)",
            row.next_attempt_utc,
        )
    parent_key = row.delivery.parent_key
    parent = at.parent_state(parent_key) if parent_key else None
    if parent is not None and parent != State.SENT:
        return Waiting("thread", f"the previous part of its thread ({parent})")
    ready = at.rate_ready.get(row.channel)
    if ready is not None and ready > now:
        return Waiting(
            "rate", f"channel {row.channel}'s rate budget: its next post at {_utc(ready)}", ready
        )
    if not at.daemon_running:
        return Waiting("daemon", "a daemon: none is running on this ledger (start `clarion run`)")
    return None
