"""`clarion pause` and `clarion resume`: stop posting a campaign, or every campaign, for a
while."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from scheduler.commands import config_option
from scheduler.commands.operator import (
    check_campaign,
    dry_run_option,
    operator_ledger,
    who_acts,
)
from scheduler.commands.when import When
from scheduler.moments import span, utc_minute


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
    with operator_ledger(config_path, dry_run, create=True) as ledger:
        if campaign is not None and not force:
            check_campaign(ledger, campaign)
        ledger.pause(campaign, reason, who_acts(), datetime.now(UTC), until)
        busy = ledger.counts(campaign)[State.CLAIMED]
    what = f"campaign {campaign}" if campaign else "every campaign"
    again = f"clarion resume {campaign}" if campaign else "clarion resume --all"
    if until is None:
        message = f"Paused {what}: nothing more will be posted until `{again}`."
    else:
        message = (
            f"Paused {what} until {utc_minute(until)} (in {span(until - datetime.now(UTC))}): "
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
    with operator_ledger(config_path, dry_run, create=True) as ledger:
        paused = {c.campaign: c for c in ledger.controls()}
        if campaign not in paused:
            what = f"campaign {campaign} was not paused" if campaign else "--all was not in force"
            click.echo(f"Nothing to do: {what}.")
            return
        ledger.resume(campaign, who_acts(), now)
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
