"""`clarion check` and `clarion login`: an operator's tools for a channel's credentials.

`check` asks each platform whom the credentials speak for, what it allows and how much rate
budget is left, and never posts. `login` runs the platform's terminal flow and hands the new
secrets back as environment lines, or writes them to a file only the user can read; it never
writes config.yaml.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shlex
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scheduler.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from scheduler.commands import config_option, emit, load_config_or_exit, standard_output

if TYPE_CHECKING:
    from connectors.base import CheckReport
    from scheduler.config import Config
    from scheduler.logs import Redactor


def _fail(message: str, status: int = EXIT_USAGE) -> click.exceptions.Exit:
    click.echo(f"clarion: {message}", err=True)
    return click.exceptions.Exit(status)


def _require_file(config: Config, what: str) -> None:
    if not config.explicit:
        raise _fail(
            "there is no config.yaml, so every channel is one of the built-in dry runs and "
            f"{what}. Write a config.yaml that declares your channels and their credentials "
            "(see docs/channels.md), then pass it with --config or set CLARION_CONFIG."
        )


def _known(config: Config, names: Iterable[str]) -> list[str]:
    found = list(config.channels)
    for name in names:
        if name not in config.channels:
            close = difflib.get_close_matches(name, found, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            where = config.path or "config.yaml"
            raise _fail(f"no channel named '{name}' in {where}{hint}")
    return list(names) or found


# -- check ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Checked:
    name: str
    platform: str
    report: CheckReport


def _check_one(config: Config, name: str, redactor: Redactor) -> _Checked:
    from campaigns.problems import InputError
    from connectors.base import CheckReport, PublishError
    from connectors.registry import create

    platform = config.channels[name].platform
    try:
        credentials = config.credentials(name)
    except InputError as exc:
        problems = [p.format() for p in exc.problems]
        return _Checked(name, platform, CheckReport(ok=False, problems=problems))
    redactor.add(credentials.values())
    try:
        connector = create(config.channel_access(name, credentials))
    except (ValueError, ImportError) as exc:
        return _Checked(name, platform, CheckReport(ok=False, problems=[str(exc)]))
    try:
        report = connector.check()
    except PublishError as exc:
        report = CheckReport(ok=False, problems=[exc.reason])
    except Exception as exc:  # one broken connector must not hide the other channels
        unexpected = f"the {platform} connector failed unexpectedly ({type(exc).__name__})"
        report = CheckReport(ok=False, problems=[unexpected])
    finally:
        connector.close()
    if report.figures is None and not connector.capabilities.figures:
        words = f"none: {platform} offers no way to read how a post was received"
        report = replace(report, figures=words)
    return _Checked(name, platform, report)


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "reset time unknown"
    minutes = max(0, round((moment - now).total_seconds() / 60))
    span = f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"
    return f"resets {moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC (in {span})"


def _table(results: Sequence[_Checked], now: datetime) -> str:
    lines: list[str] = []
    for item in results:
        report = item.report
        state = "ok" if report.ok else "PROBLEM"
        who = f", posting as {report.account}" if report.account else ""
        lines.append(f"{item.name} ({item.platform}): {state}{who}")
        if report.limits:
            limits = ", ".join(f"{key} {value}" for key, value in report.limits.items())
            lines.append(f"    limits: {limits}")
        for budget in report.budgets:
            left = "?" if budget.remaining is None else str(budget.remaining)
            of = "" if budget.limit is None else f" of {budget.limit}"
            lines.append(
                f"    rate: {budget.scope}: {left}{of} left, {_when(budget.resets_at, now)}"
            )
        if report.figures:
            lines.append(f"    figures: {report.figures}")
        lines.extend(f"    note: {note}" for note in report.notes)
        for problem in report.problems:
            lines.extend("    " + line for line in problem.splitlines())
    bad = sum(not item.report.ok for item in results)
    lines.append(
        f"{len(results)} channel{'s' * (len(results) != 1)} checked: "
        f"{len(results) - bad} ok, {bad} with problems."
    )
    return "\n".join(lines) + "\n"


def _json(results: Sequence[_Checked]) -> str:
    channels: list[dict[str, Any]] = [
        {
            "name": item.name,
            "platform": item.platform,
            "ok": item.report.ok,
            "account": item.report.account,
            "limits": dict(item.report.limits),
            "budgets": [
                {
                    "scope": b.scope,
                    "limit": b.limit,
                    "remaining": b.remaining,
                    "resets_at": b.resets_at.isoformat() if b.resets_at else None,
                }
                for b in item.report.budgets
            ],
            "problems": list(item.report.problems),
            "figures": item.report.figures,
            "notes": list(item.report.notes),
        }
        for item in results
    ]
    report = {"ok": all(c["ok"] for c in channels), "channels": channels}
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


@click.command()
@click.argument("channels", nargs=-1, metavar="[CHANNEL]...")
@config_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for the terminal; json for scripts and monitoring.",
)
def check(channels: tuple[str, ...], config_path: Path | None, fmt: str) -> None:
    """Test each channel's credentials and limits, without posting anything.

    For every channel in config.yaml (or only those named), reads its secrets, asks the
    platform whom they speak for, and shows the limits that apply and the rate budget left.

    Exit status: 0 every channel is ready, 1 a channel has a problem, 2 the command or its
    configuration is wrong.
    """
    config = load_config_or_exit(config_path)
    _require_file(config, "there are no credentials to check")
    names = _known(config, channels)
    from scheduler.config import LogSettings
    from scheduler.logs import Redactor, configure

    redactor = Redactor()  # a library's warning passes it too, as in the daemon's log
    configure(LogSettings(format=config.file.log.format, level="warning"), redactor)
    with ThreadPoolExecutor(max_workers=min(4, len(names) or 1)) as pool:
        results = list(pool.map(lambda name: _check_one(config, name, redactor), names))
    emit(_json(results) if fmt == "json" else _table(results, datetime.now(UTC)))
    ok = all(item.report.ok for item in results)
    raise click.exceptions.Exit(EXIT_OK if ok else EXIT_PROBLEMS)


# -- login ---------------------------------------------------------------------------------


class _Terminal:
    """Questions and messages on standard error, so that standard output holds only the
    `export` lines (`clarion login x-main > x.env` works)."""

    def ask(self, question: str, *, secret: bool = False) -> str:
        return str(click.prompt(question, hide_input=secret, err=True))

    def say(self, text: str) -> None:
        click.echo(text, err=True)


def _readable(config: Config, name: str) -> dict[str, str]:
    """The channel's credentials that can be read now: login runs before the ones it
    obtains exist."""
    from campaigns.problems import InputError

    settings = config.channels[name]
    found: dict[str, str] = {}
    for key, ref in settings.credentials.items():
        alone = settings.model_copy(update={"credentials": {key: ref}})
        file = config.file.model_copy(update={"channels": {**config.file.channels, name: alone}})
        try:
            found |= replace(config, settings=file).credentials(name)
        except InputError:
            continue
    return found


def _variable(reference: str | None, channel: str, key: str) -> str:
    """The environment variable config.yaml reads this credential from, or a suggested one."""
    found = re.fullmatch(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", reference or "")
    return found.group(1) if found else re.sub(r"\W", "_", f"{channel}_{key}").upper()


def _write_private(path: Path, text: str, force: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)  # a file replaced with --force keeps no wider mode
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


@click.command()
@click.argument("channel")
@config_option
@click.option(
    "--write",
    "write_to",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the secrets to FILE, readable only by you, instead of printing them.",
)
@click.option("--force", is_flag=True, help="With --write: replace FILE if it exists.")
def login(channel: str, config_path: Path | None, write_to: Path | None, force: bool) -> None:
    """Obtain credentials for CHANNEL through the platform's own authorization.

    Prints an address to open in a browser where you are logged in as the account that will
    post, then asks for the PIN or code the platform shows. The new secrets are printed as
    `export NAME=value` lines, NAME being the ${NAME} that config.yaml reads them from, or
    written to --write FILE. config.yaml itself is never changed.

    Exit status: 0 done, 1 the platform refused, 2 the command or its configuration is wrong.
    """
    from connectors.base import PublishError
    from connectors.login import login_flow

    config = load_config_or_exit(config_path)
    _require_file(config, "there is no channel to log in to")
    _known(config, [channel])
    settings = config.channels[channel]
    flow = login_flow(settings.platform)
    if flow is None:
        raise _fail(
            f"{settings.platform} has no login in clarion: docs/platforms/"
            f"{settings.platform}.md says how to get its credentials"
        )
    if write_to is not None and write_to.exists() and not force:
        raise _fail(f"{write_to} exists; add --force to replace it")
    try:
        secrets = flow(_Terminal(), config.channel_access(channel, _readable(config, channel)))
    except PublishError as exc:
        raise _fail(exc.reason, EXIT_PROBLEMS) from None
    except ValueError as exc:
        raise _fail(str(exc)) from None
    lines = []
    for key, value in secrets.items():
        reference = settings.credentials.get(key)
        lines.append(f"{_variable(reference, channel, key)}={shlex.quote(value)}")
        if reference is None:
            click.echo(
                f"note: add `{key}: ${{{_variable(None, channel, key)}}}` to the credentials of "
                f"{channel} in config.yaml",
                err=True,
            )
        elif reference.startswith("file:"):
            click.echo(
                f"note: config.yaml reads {key} from {reference}: put the value there", err=True
            )
    if write_to is None:
        emit("".join(f"export {line}\n" for line in lines))
        return
    try:
        _write_private(write_to, "".join(f"{line}\n" for line in lines), force)
    except OSError as exc:
        raise _fail(f"cannot write {write_to}: {exc.strerror}") from None
    with standard_output():
        click.echo(
            f"Wrote {len(lines)} secret{'s' * (len(lines) != 1)} to {write_to} (readable only "
            f"by you). Load them with `set -a; . {write_to}; set +a`, or in systemd with "
            f"EnvironmentFile={write_to}.",
            err=True,
        )
