"""`clarion status`: deliveries by state, what is due next, and what needs attention; the
report (`scheduler.status`) written for people."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from scheduler.commands import config_option, emit, load_config_or_exit
from scheduler.commands.operator import (
    check_campaign,
    dry_run_option,
    format_option,
    operator_ledger,
)
from scheduler.moments import span, utc_minute

if TYPE_CHECKING:
    from scheduler.status import Listed, StatusReport


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
    from scheduler.status import gather

    now = datetime.now(UTC)
    with operator_ledger(config_path, dry_run) as ledger:
        if campaign is not None:
            check_campaign(ledger, campaign)
        report = gather(ledger, load_config_or_exit(config_path), now, campaign)
    if fmt == "json":
        emit(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        emit(render(report))


def render(report: StatusReport) -> str:
    """The report as text for a terminal."""
    from scheduler.ledger.api import State
    from scheduler.status import RECENT

    now = report.now

    def ago(moment: datetime) -> str:
        delta = now - moment
        return span(delta) if delta >= timedelta(minutes=1) else "under a minute"

    def section(
        title: str,
        items: Sequence[Listed],
        describe: Callable[[Listed], str],
        *,
        total: int | None = None,
        every: bool = False,
    ) -> list[str]:
        """The first RECENT items (`every`: all of them) of `total` (default: all items)."""
        if not items:
            return []
        shown = items if every else items[:RECENT]
        total = len(items) if total is None else total
        lines = ["", f"{title}:"]
        lines += [f"  {item.row.key}\n      {describe(item)}" for item in shown]
        if total > len(shown):
            listed = (
                " (`clarion status --format json` lists them all)" if total == len(items) else ""
            )
            lines.append(f"  … and {total - len(shown)} more{listed}")
        return lines

    def since_why(item: Listed) -> str:
        return f"{utc_minute(item.row.updated_utc)}: {item.row.last_error or ''}"

    def late(item: Listed) -> str:
        text = f"{ago(item.row.due_utc)} late"
        waiting = item.waiting
        if item.next_attempt is not None and (waiting is None or waiting.kind != "retry"):
            text += f", next try at {utc_minute(item.next_attempt)}"
        if waiting is not None:
            text += f", waiting for {waiting.words}"
        if item.row.last_error and item.row.last_error not in text:
            text += f": {item.row.last_error}"
        return text

    scope = f"campaign {report.campaign}" if report.campaign else "all campaigns"
    lines = [f"Ledger {report.ledger}, {scope}, at {utc_minute(now)}"]
    for daemon in report.daemons:
        rehearsal = " (a dry run)" if daemon.dry_run else ""
        lines.append(
            f"Daemon {daemon.process}{rehearsal} running since {utc_minute(daemon.started)}, "
            f"last heartbeat {ago(daemon.beat)} ago"
        )
    if not report.daemons:
        lines.append(
            "NO DAEMON is running on this ledger: nothing is posted until `clarion run` starts"
        )
    lines.append("")
    counts = report.counts
    lines.append(
        "Deliveries: " + ", ".join(f"{n} {state.value}" for state, n in counts.items() if n)
    )
    if not any(counts.values()):
        lines[-1] += "none yet (the daemon adds them when it loads the campaigns)"
    for control in report.paused:
        what = f"campaign {control.campaign}" if control.campaign else "EVERY campaign"
        why = f": {control.reason}" if control.reason else ""
        lifts = f", until {utc_minute(control.until)}" if control.until else ""
        lines.append(
            f"PAUSED: {what}, since {utc_minute(control.since)}{lifts} by {control.by}{why}"
        )
    for blackout in report.blackouts:
        window = blackout.window
        state = "BLACKOUT" if blackout.in_force else "Blackout ahead"
        on = ", ".join(sorted(window.channels)) if window.channels else "every channel"
        then = "they wait for its end"
        if window.then == "skip":
            then = "they are not posted (then: skip)"
        lines.append(
            f"{state}: '{window.reason}' ({blackout.source}), campaign {blackout.campaign}, "
            f"{utc_minute(window.start)} to {utc_minute(window.end)} on {on}: holds "
            f"{blackout.holds} delivery(ies); {then}"
        )
    for channel, reason in report.held_channels.items():
        lines.append(
            f"HELD: channel {channel} posts nothing until it works again "
            f"(`clarion check {channel}`): {reason}"
        )
    if report.next_due is not None:
        due = report.next_due.row.due_utc
        lines.append(
            f"Next due: {report.next_due.row.key} at {utc_minute(due)} (in {span(due - now)})"
        )
        if report.next_due.waiting is not None:
            lines.append(f"    but waiting for {report.next_due.waiting.words}")
    lines += section(
        "Unknown: they may or may not have gone out. Check the account, then run "
        "`clarion resolve KEY --sent URL` or `clarion resolve KEY --not-sent`",
        report.unknown,
        lambda item: f"since {since_why(item)}",
        every=True,
    )
    lines += section("Late: due but not out yet", report.late, late)
    lines += section(
        "Being published now",
        report.claimed,
        lambda item: f"by {item.row.lease_owner or '?'}, since {utc_minute(item.row.updated_utc)}",
    )
    lines += section(
        "Failed (most recent first; `clarion retry KEY` tries again)",
        report.failed,
        since_why,
        total=counts[State.FAILED],
    )
    lines += section(
        "Expired: not posted, their deadline passed (most recent first; "
        "`clarion retry KEY` posts one late)",
        report.expired,
        since_why,
        total=counts[State.EXPIRED],
    )
    lines += section(
        "Renamed after they went out (or may have), so not posted again under their new "
        "key (most recent first; `clarion retry KEY --force` posts one again)",
        report.renamed_after_sending,
        lambda item: (
            f"{utc_minute(item.row.updated_utc)} ({item.row.state.value}): "
            f"{item.row.last_error or ''}"
        ),
    )
    lines += section(
        "Last sent",
        report.recent_sent,
        lambda item: f"{utc_minute(item.row.sent_utc)}  {item.url or ''}",
    )
    return "\n".join(lines) + "\n"
