"""What `clarion status` reports about a ledger at one instant, as typed records.

`gather` reads the ledger once; `StatusReport.as_json()` is the `--format json` document
that scripts and monitoring read; the command module writes the text for people.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from campaigns.blackouts import Window
from scheduler.ledger.api import Control, Daemon, ErrorClass, Row, State
from scheduler.moments import utc_iso
from scheduler.waiting import Circumstances, Waiting, why_waiting

if TYPE_CHECKING:
    from scheduler.config import Config
    from scheduler.ledger.sql import SqlLedger

RECENT = 10
"""How many deliveries of a kind `status` lists: the latest failed, expired and sent ones; as
text, the first late ones too (a burst, or a campaign paused for a while, has them by the
hundred). Unknown ones are always all listed."""


@dataclass(frozen=True, slots=True)
class Listed:
    """A delivery as `status` shows it; `waiting` for a planned one that something holds
    back."""

    row: Row
    next_attempt: datetime | None
    """Its next try, if it is still to come."""
    waiting: Waiting | None = None

    @property
    def url(self) -> str | None:
        ref = self.row.ref
        return None if ref is None else ref.url or ref.id

    def as_json(self) -> dict[str, Any]:
        row = self.row
        item: dict[str, Any] = {
            "key": row.key,
            "channel": row.channel,
            "state": row.state.value,
            "due": utc_iso(row.due_utc),
            "attempts": row.attempts,
            "since": utc_iso(row.updated_utc),
        }
        if self.next_attempt is not None:
            item["next_attempt"] = utc_iso(self.next_attempt)
        if row.last_error:
            item["reason"] = row.last_error
        if row.ref is not None:
            item["url"] = self.url
            item["sent"] = utc_iso(row.sent_utc)
        if row.lease_owner:
            item["owner"] = row.lease_owner
        if self.waiting is not None:
            item["waiting_for"] = self.waiting.words
            item["waiting_kind"] = self.waiting.kind
            if self.waiting.until is not None:
                item["waiting_until"] = utc_iso(self.waiting.until)
        return item


@dataclass(frozen=True, slots=True)
class Blackout:
    """A blackout in force or to come, with how many planned deliveries it holds."""

    campaign: str
    window: Window
    in_force: bool
    holds: int

    @property
    def source(self) -> str:
        return f"{self.window.where.file}:{self.window.where.line}"

    def as_json(self) -> dict[str, Any]:
        window = self.window
        return {
            "campaign": self.campaign,
            "reason": window.reason,
            "from": utc_iso(window.start),
            "until": utc_iso(window.end),
            "channels": sorted(window.channels) if window.channels else None,
            "then": window.then,
            "source": self.source,
            "in_force": self.in_force,
            "holds": self.holds,
        }


@dataclass(frozen=True, slots=True)
class StatusReport:
    ledger: str
    """The ledger's URL."""
    now: datetime
    campaign: str | None
    """The one campaign reported on; None: all of them."""
    daemons: Sequence[Daemon]
    counts: Mapping[State, int]
    next_due: Listed | None
    late: Sequence[Listed]
    """Planned and due by now, oldest first."""
    blackouts: Sequence[Blackout]
    claimed: Sequence[Listed]
    unknown: Sequence[Listed]
    failed: Sequence[Listed]
    """The RECENT latest, most recent first; as are `expired` and `recent_sent`."""
    expired: Sequence[Listed]
    renamed_after_sending: Sequence[Listed]
    """Sent (or cancelled) under an earlier key, so not posted again under their new one."""
    recent_sent: Sequence[Listed]
    paused: Sequence[Control]
    held_channels: Mapping[str, str]
    """Channel: why it posts nothing until its credentials work again."""

    def as_json(self) -> dict[str, Any]:
        def listed(items: Sequence[Listed]) -> list[dict[str, Any]]:
            return [item.as_json() for item in items]

        return {
            "ledger": self.ledger,
            "now": utc_iso(self.now),
            "campaign": self.campaign,
            "daemons": [
                {
                    "process": d.process,
                    "since": utc_iso(d.started),
                    "heartbeat": utc_iso(d.beat),
                    "dry_run": d.dry_run,
                }
                for d in self.daemons
            ],
            "counts": {state.value: count for state, count in self.counts.items()},
            "next_due": None if self.next_due is None else self.next_due.as_json(),
            "late": listed(self.late),
            "blackouts": [b.as_json() for b in self.blackouts],
            "claimed": listed(self.claimed),
            "unknown": listed(self.unknown),
            "failed": listed(self.failed),
            "expired": listed(self.expired),
            "renamed_after_sending": listed(self.renamed_after_sending),
            "recent_sent": listed(self.recent_sent),
            "paused": [
                {
                    "campaign": c.campaign,
                    "reason": c.reason,
                    "since": utc_iso(c.since),
                    "until": utc_iso(c.until),
                    "by": c.by,
                }
                for c in self.paused
            ],
            "held_channels": dict(self.held_channels),
        }


def gather(
    ledger: SqlLedger, config: Config, now: datetime, campaign: str | None = None
) -> StatusReport:
    """The report on one campaign, or all of them (None), at `now`."""

    def brief(row: Row, at: Circumstances | None = None) -> Listed:
        upcoming = row.next_attempt_utc
        next_attempt = upcoming if upcoming is not None and upcoming > now else None
        return Listed(row, next_attempt, None if at is None else why_waiting(row, at))

    def latest(state: State) -> list[Listed]:
        return [brief(r) for r in ledger.rows(campaign, [state], limit=RECENT, newest_first=True)]

    counts = ledger.counts(campaign)
    planned = ledger.rows(campaign, [State.PLANNED])
    controls = ledger.controls(now)
    held = ledger.held_channels()
    daemons = ledger.daemons(now)
    at = circumstances(ledger, config, now, controls, held, bool(daemons))
    upcoming = next((r for r in planned if r.due_utc > now), None)
    renamed = ledger.rows(
        campaign, [State.SENT, State.CANCELLED], newest_first=True, error_class=ErrorClass.IDENTITY
    )
    return StatusReport(
        ledger=ledger.url,
        now=now,
        campaign=campaign,
        daemons=daemons,
        counts=counts,
        next_due=None if upcoming is None else brief(upcoming, at),
        late=[brief(r, at) for r in planned if r.due_utc <= now],
        blackouts=blackouts(at, planned, campaign),
        claimed=[brief(r) for r in ledger.rows(campaign, [State.CLAIMED])],
        unknown=[brief(r) for r in ledger.rows(campaign, [State.UNKNOWN])],
        failed=latest(State.FAILED),
        expired=latest(State.EXPIRED),
        renamed_after_sending=[brief(r) for r in renamed],
        recent_sent=latest(State.SENT),
        paused=[c for c in controls if campaign is None or c.campaign in (None, campaign)],
        held_channels=held,
    )


def circumstances(
    ledger: SqlLedger,
    config: Config,
    now: datetime,
    controls: Sequence[Control],
    held: Mapping[str, str],
    daemon_running: bool,
) -> Circumstances:
    """What holds deliveries back now, as `scheduler.waiting` weighs it."""
    from scheduler.ratebudget import ChannelBudget

    rate_ready: dict[str, datetime] = {}
    for name, channel in config.channels.items():
        if channel.rate is None:
            continue
        budget = ChannelBudget.from_settings(channel.rate)
        budget.seed(ledger.sent_since(name, now - channel.rate.per))
        rate_ready[name] = now + budget.wait(now)

    def parent_state(key: str) -> State | None:
        parent = ledger.get(key)
        return None if parent is None else parent.state

    return Circumstances(
        now, controls, held, ledger.blackouts(), rate_ready, daemon_running, parent_state
    )


def blackouts(at: Circumstances, planned: Sequence[Row], campaign: str | None) -> list[Blackout]:
    """The blackouts in force or to come, with how many planned deliveries each holds."""
    found = []
    for name, safety in sorted(at.safety.items()):
        if campaign is not None and name != campaign:
            continue
        rows = [r for r in planned if r.campaign == name and r.post not in safety.exempt_posts]
        for window in safety.windows:
            if window.end <= at.now:
                continue
            holds = sum(window.covers(r.channel, max(r.due_utc, at.now)) for r in rows)
            found.append(Blackout(name, window, window.start <= at.now, holds))
    return found
