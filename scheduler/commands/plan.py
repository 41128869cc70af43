"""`clarion validate`, `clarion preview` and `clarion schema`: what a campaign manager runs
before anything is published. They need no ledger, no credentials and no platform client, and
import the heavier libraries only inside the command that uses them."""

from __future__ import annotations

import difflib
import gc
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

import click

from scheduler.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from scheduler.commands import (
    config_option,
    echo_problems,
    emit,
    load_config_or_exit,
    standard_output,
)

if TYPE_CHECKING:
    from campaigns.delivery import Delivery
    from campaigns.loader import Plan
    from campaigns.preview.common import Projection
    from campaigns.problems import Problem
    from scheduler.config import Config

FORMATS = ("table", "json", "ics", "markdown", "html")
"""Each is a module of campaigns.preview with a `render` function, but html (scheduler.web)."""

paths_argument = click.argument(
    "paths", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[PATH]..."
)


@click.command()
@paths_argument
@config_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: the problems and a summary as one JSON object, for scripts and review bots.",
)
def validate(paths: tuple[Path, ...], config_path: Path | None, fmt: str) -> None:
    """Check campaign files (or folders of them) and report every problem at once.

    Each problem reads `file:line:col: error|warning: message`, most with a hint. Without a
    PATH, checks the campaign folders that config.yaml lists, and warns if the ledger shows
    that the plan renames a campaign or post after it went out. Exit status: 0 no errors
    (warnings allowed), 1 errors found, 2 the command or its configuration is wrong.
    """
    from campaigns.preview import summarize
    from scheduler.commands.renames import add_rename_warnings

    config = load_config_or_exit(config_path)
    now = datetime.now(UTC)
    plan = _load(paths, config, now)
    add_rename_warnings(paths, config, plan, now)
    held = {d.campaign for d in plan.held}
    summary = summarize(_merged(plan), plan.problems, held)
    if fmt == "json":
        import json

        from campaigns.preview.json import VERSION

        report = {
            "version": VERSION,
            "problems": [p.as_json() for p in plan.problems],
            "summary": {
                "files": plan.files,
                "campaigns": [c.id for c in plan.campaigns],
                "errors": summary.errors,
                "warnings": summary.warnings,
                "deliveries": summary.deliveries,
                "drafts": summary.drafts,
                "held": summary.held,
                "channels": summary.per_channel,
                "first_due_utc": _iso(summary.first),
                "last_due_utc": _iso(summary.last),
            },
        }
        emit(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    else:
        from campaigns.preview.common import describe

        with standard_output():
            echo_problems(plan.problems)
            click.echo(f"{_files_label(plan.files)}: {describe(summary)}")
    _exit(plan)


@click.command()
@paths_argument
@config_option
@click.option(
    "--channel",
    "channels",
    multiple=True,
    metavar="NAME",
    help="Only this channel (repeat for several).",
)
@click.option(
    "--language",
    "languages",
    multiple=True,
    metavar="CODE",
    help="Only this language, such as fr (repeat for several).",
)
@click.option(
    "--audience",
    "audiences",
    multiple=True,
    metavar="NAME",
    help="Only this audience, such as be-fr (repeat for several).",
)
@click.option(
    "--from",
    "start",
    metavar="WHEN",
    help="Only deliveries at or after WHEN: 2027-02-09, '2027-02-09 09:00', now, today, "
    "or -2d / +6h from now. Read on the --tz clock, else the campaigns' own.",
)
@click.option(
    "--until",
    "end",
    metavar="WHEN",
    help="Only deliveries before WHEN (a date includes that whole day); same forms as --from.",
)
@click.option(
    "--tz",
    metavar="ZONE",
    help="Also show times in this zone, such as America/Chicago, and group days by it.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for the terminal; json for scripts; ics for a calendar; markdown for a "
    "pull-request comment; html for the web view as static pages (with --output).",
)
@click.option(
    "--output",
    "-o",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="--format html: the folder to write the pages into (open DIR/index.html).",
)
@click.option("--drafts/--no-drafts", default=True, show_default=True, help="Include draft posts.")
def preview(
    paths: tuple[Path, ...],
    config_path: Path | None,
    channels: tuple[str, ...],
    languages: tuple[str, ...],
    audiences: tuple[str, ...],
    start: str | None,
    end: str | None,
    tz: str | None,
    fmt: str,
    drafts: bool,
    out: Path | None,
) -> None:
    """Show every delivery in time order: when (campaign zone, audience zone, UTC), where,
    in which language, the text and its length against the platform's limit.

    Without a PATH, previews the campaign folders that config.yaml lists. Problems go to
    standard error first. The posts of a file with errors are shown marked NOT SCHEDULED, and
    the exit status is then 1.
    """
    from campaigns.preview import CampaignInfo, Preview, select, shared_zone

    now = datetime.now(UTC)
    zone = _zone(tz) if tz else None
    for when, option in ((start, "--from"), (end, "--until")):
        if when:  # a mistake in the option is reported before the plans are loaded
            parse_when(when, zone or UTC, now, end=False, option=option)
    config = load_config_or_exit(config_path)
    if fmt == "html":
        from scheduler.web.export import write_site

        _exit(write_site(paths, config, out))
    plan = _load(paths, config, now)
    deliveries = _merged(plan)
    if channels:
        known = set(config.known_channels()) | {d.channel for d in deliveries}
        _check_choices("--channel", channels, known)
    if languages:
        _check_choices("--language", languages, {d.language for d in deliveries if d.language})
    if audiences:
        _check_choices("--audience", audiences, {d.audience for d in deliveries if d.audience})
    failed = {p.where.file for p in plan.problems if p.severity == "error"}
    campaigns = {
        c.id: CampaignInfo(c.title, c.timezone, held=c.file in failed) for c in plan.campaigns
    }
    if zone is None:  # dates are read on the campaigns' clock, as the preview shows them
        zone = _zone(shared_zone(campaigns))
    window = (
        parse_when(start, zone, now, end=False, option="--from") if start else None,
        parse_when(end, zone, now, end=True, option="--until") if end else None,
    )
    if window[0] and window[1] and window[0] >= window[1]:
        raise click.BadParameter("--until must come after --from", param_hint="'--until'")
    echo_problems(plan.problems, err=True)
    shown = select(
        deliveries,
        channels=channels,
        languages=languages,
        audiences=audiences,
        start=window[0],
        end=window[1],
        drafts=drafts,
    )
    projected = _projection(plan, config, now)
    warnings = {
        n: s.content_warning for n, s in config.known_channels().items() if s.content_warning
    }
    view = Preview(shown, campaigns, plan.problems, tz, now, warnings, projected)
    if fmt == "table":
        from rich.console import Console

        from campaigns.preview import table

        with standard_output():
            table.render(view, Console(highlight=False))
    else:
        emit(import_module(f"campaigns.preview.{fmt}").render(view))
    _exit(plan)


@click.command()
def schema() -> None:
    """Print the JSON Schema of campaign files, for editors that check YAML as you type.

    Save it with `clarion schema > clarion.schema.json`; docs/editors.md shows how to use it.
    """
    import json

    from campaigns.schema import json_schema

    emit(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n")


def _load(paths: Sequence[Path], config: Config, now: datetime) -> Plan:
    """The plan, with the rate warnings. While it loads, Python's cycle collector leaves alone
    what was there before (the modules, classes and models imported: some 40,000 objects), which
    it would otherwise go through again and again as the plan's objects are made: a tenth of
    loading a plan of 10,000 deliveries that share their texts."""
    from campaigns.loader import LoadOptions, load_plan

    if not paths:
        paths = _configured_paths(config)
    min_gap, not_after = config.plan_policies
    options = LoadOptions(
        channels=config.known_channels(),
        strict_channels=config.explicit,
        now=now,
        min_gap=min_gap,
        default_not_after=not_after,
    )
    gc.freeze()  # see _load's docstring
    try:
        plan = load_plan(paths, options)
    finally:
        gc.unfreeze()
    late = _rate_problems(plan, config, now)
    if late:
        plan.problems = sorted(
            [*plan.problems, *late],
            key=lambda p: (p.where.file, p.where.line, p.where.col, p.severity != "error"),
        )
    return plan


def _projection(plan: Plan, config: Config, now: datetime) -> dict[str, Projection]:
    """The deliveries the channels' rates move later (scheduled ones only, as the daemon)."""
    rates = config.rates()
    if not rates:
        return {}
    from scheduler.rateplan import project

    return project((d for d in plan.deliveries if d.status == "approved"), rates, now)


def _rate_problems(plan: Plan, config: Config, now: datetime) -> list[Problem]:
    """A warning for each post that its channel's rate would push past its deadline."""
    from campaigns.durations import format_duration
    from campaigns.problems import Location, Problem

    projected = _projection(plan, config, now)
    if not projected:
        return []
    found: dict[tuple[str, str], tuple[Delivery, int]] = {}
    for delivery in plan.deliveries:
        moved = projected.get(delivery.key)
        if moved is not None and moved.expires:
            ident = (delivery.source, delivery.channel)
            first, count = found.get(ident, (delivery, 0))
            found[ident] = (first, count + 1)
    problems = []
    for (source, channel), (first, count) in found.items():
        file, line, col = source.rsplit(":", 2)
        moved = projected[first.key]
        late = format_duration(moved.due_utc - first.due_utc)
        more = f" and {count - 1} more" if count > 1 else ""
        problems.append(
            Problem(
                "warning",
                f"post '{first.post}' would expire unsent on {channel}: {moved.reason}, which "
                f"would make it {late} late, past its not_after (at "
                f"{first.due_local:%Y-%m-%d %H:%M %Z}{more})",
                Location(file, int(line), int(col)),
                "spread the posts on this channel out, raise not_after, or the channel's rate in "
                "config.yaml if the platform allows more",
            )
        )
    return problems


def _configured_paths(config: Config) -> list[Path]:
    from campaigns.problems import Problem

    if not config.file.campaigns:
        raise click.UsageError(
            "name the campaign files or folders to use, such as `clarion validate plans/`, "
            "or list them under `campaigns:` in config.yaml"
        )
    missing = [
        Problem(
            "error",
            f"campaign folder or file not found: {path}",
            config.where("campaigns", i),
            "correct the path; it is relative to the folder that holds config.yaml",
        )
        for i, path in enumerate(config.campaign_paths)
        if not path.exists()
    ]
    if missing:
        echo_problems(missing, err=True)
        raise click.exceptions.Exit(EXIT_USAGE)
    return config.campaign_paths


def _check_choices(option: str, wanted: Collection[str], known: set[str]) -> None:
    """An error for a --channel, --language or --audience that no campaign file names."""
    from campaigns.model import LANGUAGE_NAMES

    lowered = {name.lower(): name for name in known}
    for name in wanted:
        if name not in known:
            guess = lowered.get(name.lower())
            if guess is None and option == "--language":
                guess = lowered.get(LANGUAGE_NAMES.get(name.strip().lower(), ""))
            close = (
                [guess]
                if guess
                else difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.5)
            )
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            what = option.lstrip("-")
            raise click.BadParameter(
                f"no {what} is named '{name}'{hint}; {what}s: {', '.join(sorted(known)) or 'none'}",
                param_hint=f"'{option}'",
            )


def _merged(plan: Plan) -> list[Delivery]:
    """Deliveries, with those held back by errors, in one time order."""
    from campaigns.loader import delivery_order

    if not plan.held:
        return plan.deliveries
    return sorted([*plan.deliveries, *plan.held], key=delivery_order)


def _zone(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo, available_timezones

    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        names = {zone.lower(): zone for zone in available_timezones()}
        close = names.get(name.lower()) or next(
            iter(difflib.get_close_matches(name, sorted(names.values()), n=1)), None
        )
        hint = f" (did you mean '{close}'?)" if close else ""
        raise click.BadParameter(
            f"'{name}' is not a time zone{hint}; use a name such as Europe/Brussels, "
            "America/New_York or UTC",
            param_hint="'--tz'",
        ) from None


def parse_when(text: str, zone: tzinfo, now: datetime, *, end: bool, option: str) -> datetime:
    """A --from/--until bound as an aware instant.

    A date means its whole day: --from starts at its midnight, --until ends at the next one.
    A date-time without an offset is read in `zone`. `now`, `today`, and `+6h` / `-2d` (from
    now) are also accepted.
    """
    from campaigns.durations import parse_duration

    word = text.strip()
    try:
        if word == "now":
            return now
        if word == "today":
            return _day_bound(now.astimezone(zone).date(), zone, end)
        if word[:1] in "+-" and word[1:]:
            delta = parse_duration(word[1:])
            return now + delta if word[0] == "+" else now - delta
        if len(word) == 10:
            return _day_bound(date.fromisoformat(word), zone, end)
        moment = datetime.fromisoformat(word)
    except ValueError:
        raise click.BadParameter(
            f"'{text}' is not a date or time; write 2027-02-09, '2027-02-09 09:00', "
            "2027-02-09T09:00+01:00, now, today, or +6h / -2d from now",
            param_hint=f"'{option}'",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _day_bound(day: date, zone: tzinfo, end: bool) -> datetime:
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=zone)


def _files_label(files: Sequence[str]) -> str:
    if len(files) == 1:
        return files[0]
    return f"{len(files)} files"


def _iso(moment: datetime | None) -> str | None:
    from campaigns.preview.common import iso_utc

    return iso_utc(moment) if moment else None


def _exit(plan: Plan) -> None:
    raise click.exceptions.Exit(EXIT_PROBLEMS if plan.has_errors() else EXIT_OK)
