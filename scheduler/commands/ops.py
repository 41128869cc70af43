"""The operator's commands on one delivery: `clarion retry`, `cancel`, `resolve` and
`history` (the shared ground is in `scheduler.commands.operator`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from scheduler.commands import config_option, emit, load_config_or_exit
from scheduler.commands.operator import (
    dry_run_option,
    fail,
    format_option,
    operator_ledger,
    who_acts,
)
from scheduler.moments import utc_iso, utc_minute

if TYPE_CHECKING:
    from scheduler.ledger.api import Row, Transition
    from scheduler.ledger.sql import SqlLedger
    from scheduler.repeats import RepeatVerdict

key_argument = click.argument("key")
_RETRYABLE = ("failed", "unknown", "expired", "cancelled")
"""States `retry` moves from (the ledger's own check gives the refusal for the others)."""


def _repeat_verdict(
    config_path: Path | None, dry_run: bool, ledger: SqlLedger, row: Row
) -> RepeatVerdict:
    """Whether the delivery may be sent again without appearing twice: the daemon's own
    decision (`scheduler.repeats`), from what the configured channel's connector can do."""
    from scheduler.repeats import channel_capabilities, repeat_verdict

    config = None if dry_run else load_config_or_exit(config_path)
    found = channel_capabilities(config, row.channel)
    return repeat_verdict(found, ledger.history(row.key), datetime.now(UTC))


@click.command()
@key_argument
@click.option(
    "--force",
    is_flag=True,
    help="Retry an unknown delivery even on a platform that cannot recognise a repeat; post "
    "again one that went out under an earlier key.",
)
@config_option
@dry_run_option
def retry(key: str, force: bool, config_path: Path | None, dry_run: bool) -> None:
    """Try a failed, unknown, expired or cancelled delivery again, now.

    Its attempts count afresh, and a deadline that has passed is lifted: it goes out late.
    A delivery whose outcome was unknown may already be on the platform, even if it was
    cancelled since: unless its channel recognises a repeat, this needs --force, as it may
    post twice. Check the account first; if the post is there, `clarion resolve KEY --sent
    URL` records it instead. A delivery that went out under an earlier key (its campaign or
    post was renamed) is posted again only with --force.
    """
    from scheduler.ledger.api import ErrorClass, State

    with operator_ledger(config_path, dry_run) as ledger:
        row = ledger.find(key)
        renamed = row.error_class == ErrorClass.IDENTITY
        if renamed and row.state in (State.SENT, State.CANCELLED) and not force:
            raise fail(
                f"{key} went out (or may have) under an earlier key, before a rename (`clarion "
                f"history {key}` says where): retrying may post it a second time. Add --force "
                "if that is what you want."
            )
        if row.state in _RETRYABLE:
            verdict = _repeat_verdict(config_path, dry_run, ledger, row)
            if not verdict.safe and not force:
                raise fail(_repeat_refused(row, verdict))
            if verdict.recognised:
                click.echo(
                    f"Note: {key} may already have gone out; channel {row.channel} should "
                    "recognise the repeat, so it should not appear twice."
                )
            elif not verdict.safe:
                click.echo(
                    f"Note: {key} may already have gone out, and channel {row.channel} cannot "
                    "recognise a repeat: if it did, it will appear twice (--force)."
                )
        moved = ledger.retry(key, who_acts(), datetime.now(UTC))
        notes = _blocked(ledger, moved)
        soon = _soon(ledger, moved)
    click.echo(f"{key} is planned again and goes out {soon}.{notes}")


def _repeat_refused(row: Row, verdict: RepeatVerdict) -> str:
    from scheduler.ledger.api import State

    key = row.key
    what = row.last_error if row.state == State.UNKNOWN and row.last_error else "never settled"
    lines = [
        f"{key} may already have gone out ({what}), and {verdict.why} (channel {row.channel}): "
        "retrying may post it twice."
    ]
    if row.state == State.UNKNOWN:
        if verdict.lookup:
            lines.append(
                "The daemon looks it up on the platform by itself (policies.recheck_interval)."
            )
        lines.append(
            f"Check the account: if the post is there, run `clarion resolve {key} --sent URL`; "
            f"if not, `clarion resolve {key} --not-sent`, or retry with --force."
        )
    else:
        lines.append(
            f"It is {row.state} now, but its outcome was never settled. Check the account: if "
            "the post is not there, retry with --force."
        )
    return "\n".join(lines)


def _soon(ledger: SqlLedger, row: Row) -> str:
    now = datetime.now(UTC)
    if not ledger.daemons(now):
        when = f"at {utc_minute(row.due_utc)}" if row.due_utc > now else "as soon as a daemon runs"
        return f"{when}, but no daemon is running on this ledger now: start `clarion run`"
    if row.due_utc > now:
        return f"at {utc_minute(row.due_utc)}"
    return "within a minute (at the daemon's next sweep)"


def _blocked(ledger: SqlLedger, row: Row) -> str:
    """What still keeps a planned delivery back, if anything."""
    notes = []
    for control in ledger.controls():
        if control.campaign in (None, row.campaign):
            notes.append(f"its campaign is paused: `clarion resume {control.campaign or '--all'}`")
    reason = ledger.held_channels().get(row.channel)
    if reason:
        notes.append(f"channel {row.channel} is held until its credentials work ({reason})")
    return "".join(f"\nBut {note}." for note in notes)


@click.command()
@key_argument
@click.option("--reason", help="Why, kept in the delivery's history.")
@config_option
@dry_run_option
def cancel(key: str, reason: str | None, config_path: Path | None, dry_run: bool) -> None:
    """Cancel a delivery that has not gone out (planned, failed, unknown or expired).

    It stays cancelled even while its post remains in the campaign file; `clarion retry KEY`
    brings it back. To stop a whole campaign for a while, `clarion pause` it instead.
    """
    from scheduler.ledger.api import State

    with operator_ledger(config_path, dry_run) as ledger:
        before = ledger.find(key)
        ledger.cancel(key, reason, who_acts(), datetime.now(UTC))
    message = f"{key} is cancelled: it will not go out."
    if before.state == State.UNKNOWN:
        message += (
            " (It was unknown: it may already be on the platform. `clarion retry` still asks"
            " for --force where a repeat could post it twice.)"
        )
    click.echo(message)


@click.command()
@key_argument
@click.option("--sent", "url", metavar="URL", help="It went out: the address of the post.")
@click.option(
    "--id", "ident", metavar="ID", help="The platform's id of the post, if not the URL's end."
)
@click.option("--not-sent", is_flag=True, help="It did not go out: plan it again, to go out now.")
@config_option
@dry_run_option
def resolve(
    key: str,
    url: str | None,
    ident: str | None,
    not_sent: bool,
    config_path: Path | None,
    dry_run: bool,
) -> None:
    """Settle an unknown delivery once you have checked the account.

    --sent URL records that it went out there (later parts of its thread reply to it);
    --not-sent plans it again so that it goes out now (or expires, if past its deadline).
    """
    from connectors.base import PlatformRef

    if (url is None) == (not not_sent):
        raise click.UsageError("give either --sent URL or --not-sent")
    if ident is not None and url is None:
        raise click.UsageError("--id goes with --sent URL: it names the post that went out")
    ref = None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise click.BadParameter("give the post's full address, https://…", param_hint="--sent")
        ref = PlatformRef(ident or parts.path.rstrip("/").rsplit("/", 1)[-1] or url, url)
    now = datetime.now(UTC)
    with operator_ledger(config_path, dry_run) as ledger:
        row = ledger.resolve(key, ref, who_acts(), now)
        notes = "" if ref else _blocked(ledger, row)
        soon = _soon(ledger, row)
    if ref is not None:
        click.echo(f"{key} is recorded as sent, at {url}.")
        return
    message = f"{key} is planned again and goes out {soon}."
    if row.deadline_utc is not None and row.deadline_utc < now:
        message += (
            f"\nIts deadline ({utc_minute(row.deadline_utc)}) has passed, so it will expire "
            f"instead; to post it late anyway, run `clarion retry {key}` once it has."
        )
    click.echo(message + notes)


@click.command()
@key_argument
@config_option
@dry_run_option
@format_option
def history(key: str, config_path: Path | None, dry_run: bool, fmt: str) -> None:
    """Show every state change of a delivery: when, by which process, and why."""
    with operator_ledger(config_path, dry_run) as ledger:
        row = ledger.find(key)
        changes = ledger.history(key)
    if fmt == "json":
        document = {"key": key, "state": row.state.value, "history": _history_json(changes)}
        emit(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return
    lines = [f"{key}: {row.state}, due {utc_minute(row.due_utc)}, {row.attempts} attempt(s)"]
    if row.ref is not None:
        lines[0] += f", at {row.ref.url or row.ref.id}"
    for change in changes:
        moved = f"{change.from_state or 'new'} -> {change.to_state}"
        when = change.at.strftime("%Y-%m-%d %H:%M:%S UTC")
        lines.append(f"  {when}  {moved:<22} {change.process}")
        if change.reason:
            lines.append(f"      {change.reason}")
    emit("\n".join(lines) + "\n")


def _history_json(changes: Sequence[Transition]) -> list[dict[str, Any]]:
    return [
        {
            "at": utc_iso(c.at),
            "from": None if c.from_state is None else c.from_state.value,
            "to": c.to_state.value,
            "process": c.process,
            "reason": c.reason,
        }
        for c in changes
    ]
