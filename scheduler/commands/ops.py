"""The operator's commands: what the ledger holds, and the few changes a person may make.

`clarion status`, `pause`, `resume`, `retry`, `cancel`, `resolve` and `history`. They read
and change the ledger named in config.yaml while the daemon runs; they never publish.
Exit status: 0 done, 1 the delivery or campaign named is unknown or cannot change that way,
2 usage, configuration or ledger error.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from scheduler.cli import EXIT_PROBLEMS, EXIT_USAGE
from scheduler.commands import config_option, emit, load_config_or_exit
from scheduler.commands.when import When

if TYPE_CHECKING:
    from scheduler.ledger.api import Control, Row, State, Transition
    from scheduler.ledger.sql import SqlLedger
    from scheduler.repeats import RepeatVerdict
    from scheduler.waiting import Circumstances

dry_run_option = click.option(
    "--dry-run",
    is_flag=True,
    help="Use the rehearsal ledger of `clarion run --dry-run` instead of the real one.",
)
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="json: one JSON object, for scripts and monitoring.",
)
key_argument = click.argument("key")
_RETRYABLE = ("failed", "unknown", "expired", "cancelled")
"""States `retry` moves from (the ledger's own check gives the refusal for the others)."""

RECENT = 10
"""How many deliveries of a kind `status` lists: the latest failed, expired and sent ones; as
text, the first late ones too (a burst, or a campaign paused for a while, has them by the
hundred). Unknown ones are always all listed."""


def _operator() -> str:
    """Who acts, as the history records it: `user@host:pid`."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "operator"
    return f"{user}@{socket.gethostname()}:{os.getpid()}"


def _fail(message: str, status: int = EXIT_PROBLEMS) -> click.exceptions.Exit:
    click.echo(f"clarion: {message}", err=True)
    return click.exceptions.Exit(status)


@contextmanager
def _ledger(
    config_path: Path | None, dry_run: bool, *, create: bool = False
) -> Iterator[SqlLedger]:
    """The configured ledger; the ledger's own errors become messages and exit statuses."""
    from scheduler.ledger import open_ledger
    from scheduler.ledger.api import LedgerError, NoSuchDelivery, NotAllowed

    config = load_config_or_exit(config_path)
    if dry_run:
        from scheduler.daemon import dry_run_paths

        url = dry_run_paths(config)[0]
    else:
        url = config.ledger_url
    try:
        ledger = open_ledger(url, create=create, process=_operator())
    except LedgerError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    try:
        yield ledger
    except NoSuchDelivery as exc:
        lines = [f"clarion: {exc}."]
        if exc.suggestions:
            lines.append("Did you mean:")
            lines += [f"  {key}" for key in exc.suggestions]
        else:
            lines.append("`clarion status` lists deliveries that need attention.")
        click.echo("\n".join(lines), err=True)
        raise click.exceptions.Exit(EXIT_PROBLEMS) from None
    except NotAllowed as exc:
        raise _fail(str(exc)) from None
    except LedgerError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    finally:
        ledger.close()


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _span(delta: timedelta) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _check_campaign(ledger: SqlLedger, campaign: str) -> None:
    import difflib

    known = ledger.campaigns()
    if campaign in known:
        return
    close = difflib.get_close_matches(campaign, known, n=3, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    listed = ", ".join(known) or "none yet"
    message = f"the ledger has no campaign '{campaign}'.{hint} Campaigns in the ledger: {listed}."
    raise _fail(message)


# --- status -----------------------------------------------------------------------------


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
    from scheduler.sync import IDENTITY

    now = datetime.now(UTC)
    with _ledger(config_path, dry_run) as ledger:
        if campaign is not None:
            _check_campaign(ledger, campaign)
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
            "now": _iso(now),
            "campaign": campaign,
            "daemons": [
                {
                    "process": d.process,
                    "since": _iso(d.started),
                    "heartbeat": _iso(d.beat),
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
                    "since": _iso(c.since),
                    "until": _iso(c.until),
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
        "due": _iso(row.due_utc),
        "attempts": row.attempts,
        "since": _iso(row.updated_utc),
    }
    if row.next_attempt_utc is not None and row.next_attempt_utc > now:
        item["next_attempt"] = _iso(row.next_attempt_utc)
    if row.last_error:
        item["reason"] = row.last_error
    if row.ref is not None:
        item["url"] = row.ref.url or row.ref.id
        item["sent"] = _iso(row.sent_utc)
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
        item["waiting_until"] = _iso(found.until) or ""
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
                    "from": _iso(window.start),
                    "until": _iso(window.end),
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
        return _when(None if iso is None else datetime.fromisoformat(iso))

    def ago(iso: str) -> str:
        delta = now - datetime.fromisoformat(iso)
        return _span(delta) if delta >= timedelta(minutes=1) else "under a minute"

    scope = f"campaign {report['campaign']}" if report["campaign"] else "all campaigns"
    lines = [f"Ledger {report['ledger']}, {scope}, at {_when(now)}"]
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
        wait = _span(datetime.fromisoformat(item["due"]) - now)
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


# --- pause and resume --------------------------------------------------------------------


def _target(campaign: str | None, everything: bool) -> None:
    if (campaign is not None) != everything:
        return
    raise click.UsageError("name one CAMPAIGN, or give --all (not both)")


@click.command()
@click.argument("campaign", required=False)
@click.option("--all", "everything", is_flag=True, help="Pause every campaign.")
@click.option("--reason", help="Why, for the other operators (shown by `clarion status`).")
@click.option(
    "--force", is_flag=True, help="Pause a campaign the ledger does not hold yet (not loaded)."
)
@click.option(
    "--until",
    type=When(),
    help="Lift the pause by itself at this time: a duration from now (2h, 90m) or a date and "
    "time ('2027-02-09 14:00' in UTC, or '2027-02-09 14:00 Europe/Brussels').",
)
@config_option
@dry_run_option
def pause(
    campaign: str | None,
    everything: bool,
    reason: str | None,
    force: bool,
    until: datetime | None,
    config_path: Path | None,
    dry_run: bool,
) -> None:
    """Stop posting a campaign (or every campaign with --all) until `clarion resume`, or
    until the time given with --until.

    Once this command returns, no delivery of it starts going out. A post being published at
    that very moment still completes. Nothing is lost: due deliveries wait, and go out when
    resumed unless their deadline has passed by then.
    """
    from scheduler.ledger.api import State

    _target(campaign, everything)
    with _ledger(config_path, dry_run, create=True) as ledger:
        if campaign is not None and not force:
            _check_campaign(ledger, campaign)
        ledger.pause(campaign, reason, _operator(), datetime.now(UTC), until)
        busy = ledger.counts(campaign)[State.CLAIMED]
    what = f"campaign {campaign}" if campaign else "every campaign"
    again = f"clarion resume {campaign}" if campaign else "clarion resume --all"
    if until is None:
        message = f"Paused {what}: nothing more will be posted until `{again}`."
    else:
        message = (
            f"Paused {what} until {_when(until)} (in {_span(until - datetime.now(UTC))}): "
            f"nothing is posted until then, or until `{again}`."
        )
    if busy:
        message += f" {busy} post(s) already being published will complete."
    click.echo(message)


@click.command()
@click.argument("campaign", required=False)
@click.option("--all", "everything", is_flag=True, help="Lift a pause of every campaign.")
@config_option
@dry_run_option
def resume(campaign: str | None, everything: bool, config_path: Path | None, dry_run: bool) -> None:
    """Resume a paused campaign, or lift `pause --all` with --all.

    Deliveries that fell due meanwhile go out at once, except those past their deadline,
    which expire. `resume --all` lifts the pause of everything; campaigns paused one by one
    stay paused until resumed by name.
    """
    from scheduler.ledger.api import State

    _target(campaign, everything)
    now = datetime.now(UTC)
    with _ledger(config_path, dry_run, create=True) as ledger:
        paused = {c.campaign: c for c in ledger.controls()}
        if campaign not in paused:
            what = f"campaign {campaign} was not paused" if campaign else "--all was not in force"
            click.echo(f"Nothing to do: {what}.")
            return
        ledger.resume(campaign, _operator(), now)
        due = sum(1 for r in ledger.rows(campaign, [State.PLANNED]) if r.due_utc <= now)
    lines = [f"Resumed {f'campaign {campaign}' if campaign else 'every campaign'}."]
    if due:
        lines.append(f"{due} delivery(ies) already due go out now (those past deadline expire).")
    if campaign is not None and None in paused:
        lines.append("Every campaign is still paused (--all): `clarion resume --all` lifts it.")
    if campaign is None:
        lines += [
            f"Campaign {name} is still paused on its own: `clarion resume {name}`."
            for name in paused
            if name is not None
        ]
    click.echo("\n".join(lines))


# --- one delivery ------------------------------------------------------------------------


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
    from scheduler.ledger.api import State
    from scheduler.sync import IDENTITY

    with _ledger(config_path, dry_run) as ledger:
        row = ledger.find(key)
        renamed = row.error_class == IDENTITY and row.state in (State.SENT, State.CANCELLED)
        if renamed and not force:
            raise _fail(
                f"{key} went out (or may have) under an earlier key, before a rename (`clarion "
                f"history {key}` says where): retrying may post it a second time. Add --force "
                "if that is what you want."
            )
        if row.state in _RETRYABLE:
            verdict = _repeat_verdict(config_path, dry_run, ledger, row)
            if not verdict.safe and not force:
                raise _fail(_repeat_refused(row, verdict))
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
        moved = ledger.retry(key, _operator(), datetime.now(UTC))
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
        when = f"at {_when(row.due_utc)}" if row.due_utc > now else "as soon as a daemon runs"
        return f"{when}, but no daemon is running on this ledger now: start `clarion run`"
    if row.due_utc > now:
        return f"at {_when(row.due_utc)}"
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

    with _ledger(config_path, dry_run) as ledger:
        before = ledger.find(key)
        ledger.cancel(key, reason, _operator(), datetime.now(UTC))
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
    with _ledger(config_path, dry_run) as ledger:
        row = ledger.resolve(key, ref, _operator(), now)
        notes = "" if ref else _blocked(ledger, row)
        soon = _soon(ledger, row)
    if ref is not None:
        click.echo(f"{key} is recorded as sent, at {url}.")
        return
    message = f"{key} is planned again and goes out {soon}."
    if row.deadline_utc is not None and row.deadline_utc < now:
        message += (
            f"\nIts deadline ({_when(row.deadline_utc)}) has passed, so it will expire instead;"
            f" to post it late anyway, run `clarion retry {key}` once it has."
        )
    click.echo(message + notes)


@click.command()
@key_argument
@config_option
@dry_run_option
@format_option
def history(key: str, config_path: Path | None, dry_run: bool, fmt: str) -> None:
    """Show every state change of a delivery: when, by which process, and why."""
    with _ledger(config_path, dry_run) as ledger:
        row = ledger.find(key)
        changes = ledger.history(key)
    if fmt == "json":
        document = {"key": key, "state": row.state.value, "history": _history_json(changes)}
        emit(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return
    lines = [f"{key}: {row.state}, due {_when(row.due_utc)}, {row.attempts} attempt(s)"]
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
            "at": _iso(c.at),
            "from": None if c.from_state is None else c.from_state.value,
            "to": c.to_state.value,
            "process": c.process,
            "reason": c.reason,
        }
        for c in changes
    ]
