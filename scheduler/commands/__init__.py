"""What the `clarion` subcommands share: the `--config` option, loading the configuration with
its problems reported, and writing output that a closed pipe (`clarion preview | head`) ends
quietly. Kept free of heavy imports: every subcommand's `--help` loads this module."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from scheduler.cli import EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from campaigns.problems import Problem
    from scheduler.config import Config

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="The config.yaml to use. Default: $CLARION_CONFIG, else ./config.yaml, else the "
    "built-in channel names.",
)


def load_config_or_exit(path: Path | None) -> Config:
    """The configuration; when it has errors, print them all and exit with status 2."""
    from campaigns.problems import InputError
    from scheduler.config import load_config

    try:
        config = load_config(path)
    except InputError as exc:
        echo_problems(exc.problems, err=True)
        click.echo("clarion: the configuration has errors; nothing was done.", err=True)
        raise click.exceptions.Exit(EXIT_USAGE) from None
    echo_problems(config.warnings, err=True)
    return config


def echo_problems(problems: Iterable[Problem], err: bool = False) -> None:
    from campaigns.yamlsource import printable

    for problem in problems:
        click.echo(printable(problem.format()), err=err)


@contextmanager
def standard_output() -> Iterator[None]:
    """Around everything a command prints: when the reader goes away, stop without a trace."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise click.exceptions.Exit(EXIT_OK) from None


def emit(text: str) -> None:
    """Write text to standard output as UTF-8, whatever the terminal's encoding."""
    with standard_output():
        click.echo(text.encode("utf-8"), nl=False)
