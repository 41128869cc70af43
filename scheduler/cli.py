"""The `clarion` command. Subcommands live in scheduler/commands/ and are imported on use, so
that `clarion --help` and the plan commands start fast and never load the platform clients."""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import Any

import click

# name: (module:attribute, one-line help shown by `clarion --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("scheduler.commands.setup:init", "Start a campaign repository, ready to use."),
    "examples": ("scheduler.commands.setup:examples", "List or copy the example campaigns."),
    "validate": (
        "scheduler.commands.plan:validate",
        "Check campaign files and report every problem.",
    ),
    "preview": ("scheduler.commands.plan:preview", "Show what goes out where and when."),
    "diff": ("scheduler.commands.review:diff", "Show what a change does to the plan, vs git."),
    "schema": ("scheduler.commands.plan:schema", "Print the JSON Schema of campaign files."),
    "serve": ("scheduler.web.command:serve", "Serve the web view: calendar, previews, live state."),
    "run": ("scheduler.commands.run:run", "Run the daemon that posts campaigns on time."),
    "status": ("scheduler.commands.status:status", "Show deliveries by state, next due, failures."),
    "pause": ("scheduler.commands.pause:pause", "Stop posting a campaign (or all) until resumed."),
    "resume": ("scheduler.commands.pause:resume", "Resume a paused campaign (or all)."),
    "retry": ("scheduler.commands.ops:retry", "Try a failed or unknown delivery again."),
    "cancel": ("scheduler.commands.ops:cancel", "Cancel a delivery that has not gone out."),
    "resolve": ("scheduler.commands.ops:resolve", "Settle an unknown delivery: sent or not."),
    "history": ("scheduler.commands.ops:history", "Show every state change of a delivery."),
    "report": (
        "scheduler.commands.report:report",
        "Report what went out and how people responded.",
    ),
    "health": ("scheduler.commands.probe:health", "Ask the running daemon whether it is healthy."),
    "check": ("scheduler.commands.channels:check", "Test each channel's credentials and limits."),
    "login": ("scheduler.commands.channels:login", "Obtain credentials for a channel."),
}

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        target, _ = COMMANDS[cmd_name]
        module, _, attr = target.partition(":")
        command: click.Command = getattr(import_module(module), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, _param, value: _print_version(ctx) if value else None,
    help="Show the version of Clarion and of its ledger schema, then exit.",
)
def cli() -> None:
    """Clarion schedules social-media campaigns written as YAML.

    Check a plan with `clarion validate`, see exactly what goes out where and when with
    `clarion preview`, then let `clarion run` post it on time, never twice.

    Exit codes: 0 fine, 1 problems found in the input, 2 usage or environment error.
    """


def _print_version(ctx: click.Context) -> None:
    from scheduler.ledger.migrate import head
    from scheduler.scaffold import clarion_version

    click.echo(f"clarion {clarion_version()} (ledger schema {head()})")
    ctx.exit()


def main(argv: list[str] | None = None) -> Any:
    _without_pydantic_plugins()
    try:
        return cli.main(args=argv, prog_name="clarion")
    except KeyboardInterrupt:
        sys.exit(130)


def _without_pydantic_plugins() -> None:
    """Pydantic looks for plugins when it builds its first model: it imports importlib.metadata
    and reads the entry points of every installed package, 25 ms of each command's start-up (a
    tenth of `clarion validate` on a small plan; PYDANTIC_DISABLE_PLUGINS skips the reading, not
    the import). Clarion uses no pydantic plugin: the command gives pydantic an empty list in
    place of its plugin loader, unless something loaded the real one first."""
    name = "pydantic.plugin._loader"
    if name not in sys.modules:
        loader = ModuleType(name, "No pydantic plugins: see scheduler.cli.")
        loader.__dict__["get_plugins"] = tuple
        sys.modules[name] = loader
