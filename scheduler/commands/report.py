"""`clarion report`: what went out, when and where, and how people responded, read from the
ledger (scheduler/report/ builds it; one module there per format)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from scheduler.cli import EXIT_USAGE
from scheduler.commands import config_option, emit, load_config_or_exit
from scheduler.commands.operator import check_campaign, dry_run_option, fail, operator_ledger

FORMATS = ("table", "html", "csv", "json", "markdown")


@click.command()
@click.argument("campaign", required=False)
@config_option
@dry_run_option
@click.option(
    "--from",
    "start",
    metavar="WHEN",
    help="Only deliveries due at or after WHEN: 2027-02-09, '2027-02-09 09:00', today, "
    "or -7d from now. Read on the --tz clock.",
)
@click.option(
    "--until",
    "end",
    metavar="WHEN",
    help="Only deliveries due before WHEN (a date includes that whole day); same forms as --from.",
)
@click.option(
    "--tz",
    metavar="ZONE",
    default="UTC",
    show_default=True,
    help="The zone whose calendar the dates of --from/--until and the report's days follow, "
    "such as Europe/Brussels.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for the terminal; html for a page with charts (open it from disk, print "
    "it); csv for a spreadsheet (one row per delivery); json for scripts and BI tools; "
    "markdown for a wiki or an e-mail.",
)
@click.option(
    "--output",
    "-o",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the report to FILE instead of standard output.",
)
@click.option(
    "--refresh",
    is_flag=True,
    help="Read the platforms' figures now, before the report (the daemon reads them by itself "
    "an hour, a day and a week after each post). Publishing still comes first.",
)
def report(
    campaign: str | None,
    config_path: Path | None,
    dry_run: bool,
    start: str | None,
    end: str | None,
    tz: str,
    fmt: str,
    out: Path | None,
    refresh: bool,
) -> None:
    """Report a campaign (or every campaign): delivery health, then reach and responses by
    language, audience, channel, platform, post and day, the most and least answered posts,
    how posts grew over time, and a link to every published post.

    Figures are the platforms' own counts, read after publishing; a platform that gives none
    (Telegram, webhooks), a post not read yet, or one deleted since, is said so, never
    counted as zero. docs/report.md describes every format and column.
    """
    from scheduler.commands.plan import _zone, parse_when
    from scheduler.report import FORMATS as RENDER
    from scheduler.report import Period, build_report

    zone = _zone(tz)
    now = datetime.now(UTC)
    period = Period(
        parse_when(start, zone, now, end=False, option="--from") if start else None,
        parse_when(end, zone, now, end=True, option="--until") if end else None,
    )
    if period.start and period.end and period.start >= period.end:
        raise click.BadParameter("--until must come after --from", param_hint="'--until'")
    config = load_config_or_exit(config_path)
    with operator_ledger(config_path, dry_run) as ledger:
        if campaign is not None:
            check_campaign(ledger, campaign)
        if refresh:
            from scheduler.collect import collect_now

            click.echo(collect_now(ledger, config, campaign=campaign).describe(), err=True)
        built = build_report(
            ledger,
            campaign,
            period=period,
            late_after=config.file.policies.alert_lateness,
            day_zone=tz,
            now=now,
        )
    text = RENDER[fmt](built)
    if out is None:
        emit(text)
        return
    try:
        out.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}", EXIT_USAGE) from None
    click.echo(f"Wrote the {fmt} report to {out}.", err=True)
