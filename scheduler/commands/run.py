"""`clarion run`: the daemon in the foreground, and `clarion run --demo`."""

from __future__ import annotations

import signal
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from scheduler.cli import EXIT_OK, EXIT_USAGE
from scheduler.commands import config_option, load_config_or_exit

if TYPE_CHECKING:
    from scheduler.config import Config
    from scheduler.daemon import Daemon, Requests
    from scheduler.ledger.api import Outcome, Row


@click.command()
@config_option
@click.option(
    "--dry-run",
    is_flag=True,
    help="Publish nothing: write every post to outbox.jsonl in the state folder instead. A dry "
    "run keeps a ledger of its own, so it never marks a real post as sent.",
)
@click.option("--exit-when-idle", is_flag=True, help="Stop once nothing is left to post.")
@click.option(
    "--once",
    is_flag=True,
    help="Publish whatever is due now, then stop (to run from cron instead of as a service).",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Run the demo campaign as a dry run: its posts fall due seconds from now and are "
    "shown as they go out. Needs no configuration; its files go to a new temporary folder.",
)
def run(
    config_path: Path | None, dry_run: bool, exit_when_idle: bool, once: bool, demo: bool
) -> None:
    """Run the daemon that posts the campaigns on time, in the foreground.

    It loads the campaign folders that config.yaml lists, records every delivery in the
    ledger, and posts each one at its time through its channel, never twice. Saving a
    campaign file (or sending SIGHUP) reloads the plans; a file with errors keeps its last
    good plan running. SIGTERM or Ctrl-C stops it after the posts being sent finish.

    Exit status: 0 stopped normally, 2 the configuration or the environment is wrong (the
    message says what), or another daemon already runs on the same ledger.
    """
    from scheduler.daemon import Daemon, Requests, RunOptions, StartupError
    from scheduler.logs import Redactor, configure

    if demo and config_path is not None:
        raise click.UsageError("--demo runs on the built-in settings; leave out --config")
    if demo:
        config = _demo_config(Path(tempfile.mkdtemp(prefix="clarion-demo-")))
        options = RunOptions(dry_run=True, exit_when_idle=True)
    else:
        config = load_config_or_exit(config_path)
        if not config.explicit:
            click.echo(
                "clarion: no config file found: looked for --config FILE, then "
                f"$CLARION_CONFIG, then config.yaml in {Path.cwd()}. The daemon needs one to "
                "know your campaign folders and channels: copy config.example.yaml to "
                "config.yaml and edit it (docs/configuration.md), or try `clarion run --demo`",
                err=True,
            )
            sys.exit(EXIT_USAGE)
        options = RunOptions(dry_run, exit_when_idle, once)
    redactor = Redactor()
    configure(config.file.log, redactor)
    reporter = DemoReporter() if demo else None
    requests = Requests()
    _handle_signals(requests)  # before start-up: a stop asked for meanwhile is a clean one
    try:
        daemon = Daemon(
            config,
            options,
            redactor,
            requests=requests,
            on_finished=reporter.show if reporter else None,
        )
    except StartupError as exc:
        click.echo(f"clarion: {redactor.redact(str(exc))}", err=True)
        sys.exit(EXIT_USAGE)
    with daemon:
        daemon.start()
        if reporter:
            reporter.begin(daemon)
        code = daemon.run()
    if reporter:
        reporter.end(daemon)
    sys.exit(code or EXIT_OK)


def _handle_signals(requests: Requests) -> None:
    def stop(signum: int, _frame: FrameType | None) -> None:
        requests.stop(signal.Signals(signum).name)

    def reload(_signum: int, _frame: FrameType | None) -> None:
        requests.reload("SIGHUP")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)


def _demo_config(scratch: Path) -> Config:
    """The embedded defaults (every channel a dry run), the demo campaign, a fresh state
    folder, no health endpoint (a real daemon may hold its port), and quiet logs."""
    from campaigns import delivery
    from campaigns.yamlsource import SourceMap
    from scheduler.config import Config, ConfigFile, LogSettings, ServerSettings

    # The examples ship as package data beside the modules (a plain folder, not a package).
    demo = scratch / "demo.yaml"
    demo.write_bytes((Path(delivery.__file__).parent / "examples" / "demo.yaml").read_bytes())
    settings = ConfigFile(
        campaigns=[str(demo)],
        state_dir=str(scratch / "state"),
        server=ServerSettings(listen=None),
        log=LogSettings(level="warning"),
    )
    return Config(settings, None, SourceMap("(demo)"), base=scratch)


class DemoReporter:
    """Prints each delivery as it happens, in words, and a summary at the end. Channel
    workers call `show` from their own threads."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.outcomes: Counter[str] = Counter()
        self._lock = threading.Lock()

    def begin(self, daemon: Daemon) -> None:
        from scheduler.ledger.api import State

        planned = daemon.ledger.rows(states=[State.PLANNED])
        channels = sorted({row.channel for row in planned})
        last = max((row.due_utc for row in planned), default=datetime.now(UTC))
        seconds = max(0, round((last - datetime.now(UTC)).total_seconds()))
        click.echo(
            f"Clarion demo: {len(planned)} posts for {len(channels)} channels "
            f"({', '.join(channels)}), due over the next {seconds} s.\n"
            f"A dry run: nothing is published, each post is written to {daemon.outbox}\n"
            "Stop at any time with Ctrl-C.\n"
        )

    def show(self, row: Row, outcome: Outcome) -> None:
        from scheduler.ledger.api import Sent
        from scheduler.metrics import OUTCOME_NAMES

        delivery = row.delivery
        now = datetime.now(UTC)
        late = (now - row.due_utc).total_seconds()
        size = delivery.thread_size
        part = f"[{delivery.thread_index + 1}/{size}] " if size > 1 else ""
        words = textwrap.shorten(delivery.text.replace("\n", " "), 48, placeholder=" …")
        if isinstance(outcome, Sent):
            where = "-> " + (outcome.ref.url or outcome.ref.id).rsplit("/", 1)[-1]
        else:
            where = f"not sent: {OUTCOME_NAMES[type(outcome)]}"
        language = f" {delivery.language}" if delivery.language else ""
        with self._lock:
            self.outcomes[OUTCOME_NAMES[type(outcome)]] += 1
            click.echo(
                f"{now:%H:%M:%S} UTC (+{late:.1f} s)  {row.channel:<14}{language}  "
                f'{part}"{words}"  {where}'
            )

    def end(self, daemon: Daemon) -> None:
        took = time.monotonic() - self.started
        counts = ", ".join(f"{n} {name}" for name, n in sorted(self.outcomes.items()))
        click.echo(
            f"\nDone in {took:.0f} s: {counts or 'nothing was due'}. "
            f"Every post is in {daemon.outbox}\n"
            "Next: `clarion init my-campaigns` makes a campaign repository with a real "
            "campaign to start from (#SayNo), its config.yaml and review in CI; "
            "`clarion examples` lists the examples."
        )
