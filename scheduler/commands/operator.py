"""What the operator's commands share (`clarion status`, `pause`, `resume`, `retry`,
`cancel`, `resolve`, `history`): the ledger named in config.yaml, opened with its errors
turned into messages, who acts, and the options they have in common.

They read and change the ledger while the daemon runs; they never publish. Exit status: 0
done, 1 the delivery or campaign named is unknown or cannot change that way, 2 usage,
configuration or ledger error.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from scheduler.cli import EXIT_PROBLEMS, EXIT_USAGE
from scheduler.commands import load_config_or_exit

if TYPE_CHECKING:
    from scheduler.ledger.sql import SqlLedger

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


def who_acts() -> str:
    """Who acts, as the history records it: `user@host:pid`."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "operator"
    return f"{user}@{socket.gethostname()}:{os.getpid()}"


def fail(message: str, status: int = EXIT_PROBLEMS) -> click.exceptions.Exit:
    """Print `clarion: message` on standard error; the exit to raise with it."""
    click.echo(f"clarion: {message}", err=True)
    return click.exceptions.Exit(status)


@contextmanager
def operator_ledger(
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
        ledger = open_ledger(url, create=create, process=who_acts())
    except LedgerError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
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
        raise fail(str(exc)) from None
    except LedgerError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    finally:
        ledger.close()


def check_campaign(ledger: SqlLedger, campaign: str) -> None:
    """Exit with status 1, naming close matches, unless the ledger holds this campaign."""
    import difflib

    known = ledger.campaigns()
    if campaign in known:
        return
    close = difflib.get_close_matches(campaign, known, n=3, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    listed = ", ".join(known) or "none yet"
    message = f"the ledger has no campaign '{campaign}'.{hint} Campaigns in the ledger: {listed}."
    raise fail(message)
