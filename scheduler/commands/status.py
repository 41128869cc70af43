"""`clarion status`: deliveries by state, what is due next, and what needs attention."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scheduler.commands import config_option, emit, load_config_or_exit
from scheduler.commands.operator import (
    check_campaign,
    dry_run_option,
    format_option,
    operator_ledger,
)
from scheduler.moments import span, utc_iso, utc_minute

if TYPE_CHECKING:
    from scheduler.ledger.api import Control, Row, State
    from scheduler.ledger.sql import SqlLedger
    from scheduler.waiting import Circumstances

RECENT = 10
"""How many deliveries of a kind `status` lists: the latest failed, expired and sent ones; as
text, the first late ones too (a burst, or a campaign paused for a while, has them by the
hundred). Unknown ones are always all listed."""


@click.command()
@click.argument("campaign", required=False)
@config_option
@dry_run_option
@format_option
def status(campaign: str | None, config_path: Path | None, dry_run: bool, fmt: str) -> None:
    """Show deliveries by state, what is due next, and what needs attention.

    Says whether a daemon is running on this ledger; lists every `unknown` delivery (it may
    or may not have gone out: settle it with `clarion resolve`), recent failures with their
    reasons, late deliveries with what each waits for (a pause, a held channel, a blackout, a
    retry's back-off, the rate budget), the last ones sent with their links, paused
    campaigns, blackouts and held channels. With CAMPAIGN, only that one.
    """
    from scheduler.ledger.api import State
    from scheduler.ledger.sql import IDENTITY

    now = datetime.now(UTC)
    with operator_ledger(config_path, dry_run) as ledger:
        if campaign is not None:
            check_campaign(ledger, campaign)
        counts = ledger.counts(campaign)
        planned = ledger.rows(campaign, [State.PLANNED])
        controls = ledger.controls(now)
        held = ledger.held_channels()
        daemons = ledger.daemons(now)
        at = _circumstances(ledger, config_path, now, controls, held, bool(daemons))
        late = [_brief(r, now) | _waiting(r, at) for r in planned if r.due_utc <= now]
        upcoming = next((r for r in planned if r.due_utc > now), None)
        report: dict[str, Any] = {
            "ledger": ledger.url,
            "now": utc_iso(now),
            "campaign": campaign,
            "daemons": [
                {
                    "process": d.process,
                    "since": utc_iso(d.started),
                    "heartbeat": utc_iso(d.beat),
                    "dry_run": d.dry_run,
                }
                for d in daemons
            ],
            "counts": {state.value: count for state, count in counts.items()},
            "next_due": upcoming and _brief(upcoming, now) | _waiting(upcoming, at),
            "late": late,
            "blackouts": _blackouts_report(at, planned, campaign),
            "claimed": [_brief(r, now) for r in ledger.rows(campaign, [State.CLAIMED])],
            "unknown": [_brief(r, now) for r in ledger.rows(campaign, [State.UNKNOWN])],
            "failed": [
                _brief(r, now)
                for r in ledger.rows(campaign, [State.FAILED], limit=RECENT, newest_first=True)
            ],
            "expired": [
                _brief(r, now)
                for r in ledger.rows(campaign, [State.EXPIRED], limit=RECENT, newest_first=True)
            ],
            "renamed_after_sending": [
                _brief(r, now)
                for r in ledger.rows(
                    campaign,
                    [State.SENT, State.CANCELLED],
                    newest_first=True,
                    error_class=IDENTITY,
                )
            ],
            "recent_sent": [
                _brief(r, now)
                for r in ledger.rows(campaign, [State.SENT], limit=RECENT, newest_first=True)
            ],
            "paused": [
                {
                    "campaign": c.campaign,
                    "reason": c.reason,
                    "since": utc_iso(c.since),
                    "until": utc_iso(c.until),
                    "by": c.by,
                }
                for c in controls
                if campaign is None or c.campaign in (None, campaign)
            ],
            "held_channels": held,
        }
    if fmt == "json":
        emit(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    else:
        emit(_status_text(report, now))


def _brief(row: Row, now: datetime) -> dict[str, Any]:
    """A delivery as `status` shows it."""
    item: dict[str, Any] = {
        "key": row.key,
        "channel": row.channel,
        "state": row.state.value,
        "due": utc_iso(row.due_utc),
        "attempts": row.attempts,
        "since": utc_iso(row.updated_utc),
    }
    if row.next_attempt_utc is not None and row.next_attempt_utc > now:
        item["next_attempt"] = utc_iso(row.next_attempt_utc)
    if row.last_error:
        item["reason"] = row.last_error
    if row.ref is not None:
        item["url"] = row.ref.url or row.ref.id
        item["sent"] = utc_iso(row.sent_utc)
    if row.lease_owner:
        item["owner"] = row.lease_owner
    return item


def _circumstances(
    ledger: SqlLedger,
    config_path: Path | None,
    now: datetime,
    controls: Sequence[Control],
    held: Mapping[str, str],
    daemon_running: bool,
) -> Circumstances:
    """What holds deliveries back now, as `scheduler.waiting` weighs it."""
    from scheduler.ratebudget import ChannelBudget
    from scheduler.waiting import Circumstances

    config = load_config_or_exit(config_path)
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


def _waiting(row: Row, at: Circumstances) -> dict[str, str]:
    """Why a planned delivery does not go out now, if anything holds it back."""
    from scheduler.waiting import why_waiting

    found = why_waiting(row, at)
    if found is None:
        return {}
    item = {"waiting_for": found.words, "waiting_kind": found.kind}
    if found.until is not None:
        item["waiting_until"] = utc_iso(found.until) or ""
    return item


def _blackouts_report(
    at: Circumstances, planned: Sequence[Row], campaign: str | None
) -> list[dict[str, Any]]:
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
            found.append(
                {
                    "campaign": name,
                    "reason": window.reason,
                    "from": utc_iso(window.start),
                    "until": utc_iso(window.end),
                    "channels": sorted(window.channels) if window.channels else None,
                    "then": window.then,
                    "source": f"{window.where.file}:{window.where.line}",
                    "in_force": window.start <= at.now,
                    "holds": holds,
                }
            )
    return found


def _status_text(report: dict[str, Any], now: datetime) -> str:
    def at(iso: str | None) -> str:
        return utc_minute(None if iso is None else datetime.fromisoformat(iso))

    def ago(iso: str) -> str:
        delta = now - datetime.fromisoformat(iso)
        return span(delta) if delta >= timedelta(minutes=1) else "under a minute"

    scope = f"campaign {report['campaign']}" if report["campaign"] else "all campaigns"
    lines = [f"Ledger {report['ledger']}, {scope}, at {utc_minute(now)}"]
    for daemon in report["daemons"]:
        rehearsal = " (a dry run)" if daemon["dry_run"] else ""
        lines.append(
            f"Daemon {daemon['process']}{rehearsal} running since {at(daemon['since'])}, "
            f"last heartbeat {ago(daemon['heartbeat'])} ago"
        )
    if not report["daemons"]:
        lines.append(
            "NO DAEMON is running on this ledger: nothing is posted until `clarion run` starts"
        )
    lines.append("")
    counts = report["counts"]
    lines.append("Deliveries: " + ", ".join(f"{n} {state}" for state, n in counts.items() if n))
    if not any(counts.values()):
        lines[-1] += "none yet (the daemon adds them when it loads the campaigns)"
    for control in report["paused"]:
        what = f"campaign {control['campaign']}" if control["campaign"] else "EVERY campaign"
        why = f": {control['reason']}" if control["reason"] else ""
        lifts = f", until {at(control['until'])}" if control["until"] else ""
        lines.append(f"PAUSED: {what}, since {at(control['since'])}{lifts} by {control['by']}{why}")
    for item in report["blackouts"]:
        state = "BLACKOUT" if item["in_force"] else "Blackout ahead"
        on = ", ".join(item["channels"]) if item["channels"] else "every channel"
        then = "they wait for its end"
        if item["then"] == "skip":
            then = "they are not posted (then: skip)"
        lines.append(
            f"{state}: '{item['reason']}' ({item['source']}), campaign {item['campaign']}, "
            f"{at(item['from'])} to {at(item['until'])} on {on}: holds {item['holds']} "
            f"delivery(ies); {then}"
        )
    for channel, reason in report["held_channels"].items():
        lines.append(
            f"HELD: channel {channel} posts nothing until it works again "
            f"(`clarion check {channel}`): {reason}"
        )
    if report["next_due"]:
        item = report["next_due"]
        wait = span(datetime.fromisoformat(item["due"]) - now)
        lines.append(f"Next due: {item['key']} at {at(item['due'])} (in {wait})")
        if "waiting_for" in item:
            lines.append(f"    but waiting for {item['waiting_for']}")
    sections: list[tuple[str, list[dict[str, Any]], Any, int]] = [
        (
            "Unknown: they may or may not have gone out. Check the account, then run "
            "`clarion resolve KEY --sent URL` or `clarion resolve KEY --not-sent`",
            report["unknown"],
            lambda i: f"since {at(i['since'])}: {i.get('reason', '')}",
            len(report["unknown"]),
        ),
        (
            "Late: due but not out yet",
            report["late"],
            lambda i: (
                f"{ago(i['due'])} late"
                + (
                    f", next try at {at(i['next_attempt'])}"
                    if "next_attempt" in i and i.get("waiting_kind") != "retry"
                    else ""
                )
                + (f", waiting for {i['waiting_for']}" if "waiting_for" in i else "")
                + (f": {i['reason']}" if "reason" in i else "")
            ),
            len(report["late"]),
        ),
        (
            "Being published now",
            report["claimed"],
            lambda i: f"by {i.get('owner', '?')}, since {at(i['since'])}",
            len(report["claimed"]),
        ),
        (
            "Failed (most recent first; `clarion retry KEY` tries again)",
            report["failed"],
            lambda i: f"{at(i['since'])}: {i.get('reason', '')}",
            counts["failed"],
        ),
        (
            "Expired: not posted, their deadline passed (most recent first; "
            "`clarion retry KEY` posts one late)",
            report["expired"],
            lambda i: f"{at(i['since'])}: {i.get('reason', '')}",
            counts["expired"],
        ),
        (
            "Renamed after they went out (or may have), so not posted again under their new "
            "key (most recent first; `clarion retry KEY --force` posts one again)",
            report["renamed_after_sending"],
            lambda i: f"{at(i['since'])} ({i['state']}): {i.get('reason', '')}",
            len(report["renamed_after_sending"]),
        ),
        (
            "Last sent",
            report["recent_sent"],
            lambda i: f"{at(i['sent'])}  {i.get('url', '')}",
            len(report["recent_sent"]),
        ),
    ]
    for title, items, describe, total in sections:
        if not items:
            continue
        lines += ["", f"{title}:"]
        shown = items if title.startswith("Unknown") else items[:RECENT]
        lines += [f"  {item['key']}\n      {describe(item)}" for item in shown]
        if total > len(shown):
            listed = (
                " (`clarion status --format json` lists them all)" if total == len(items) else ""
            )
            lines.append(f"  … and {total - len(shown)} more{listed}")
    return "\n".join(lines) + "\n"
