"""`clarion diff BASE`: what a change to the campaign files does to the plan, compared with a
git branch (the target of a pull request), for review in CI."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click

from scheduler.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from scheduler.commands import config_option, emit, load_config_or_exit
from scheduler.commands.plan import _configured_paths, _load, _merged, paths_argument

FORMATS = ("text", "markdown", "json")


@click.command()
@click.argument("base", metavar="BASE")
@paths_argument
@config_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for the terminal; markdown for a pull-request comment; json for scripts.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write to FILE instead of standard output.",
)
def diff(
    base: str,
    paths: tuple[Path, ...],
    config_path: Path | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Show the deliveries that the campaign files as they are now add, change and remove,
    compared with BASE: a branch, tag or commit, such as origin/main.

    As in a pull request, the comparison is with the commit where the current branch left
    BASE (their merge base), so that what was merged into BASE since does not show as undone.
    Both versions are read with the current config.yaml; without a PATH, the campaign folders
    it lists. Problems in the current files are listed too. Exit status: 0 fine, 1 the
    current files have errors, 2 BASE or the repository cannot be read.
    """
    from campaigns.deliverydiff import compare
    from campaigns.preview import changes
    from scheduler.gitrefs import GitError, export, find_base

    config = load_config_or_exit(config_path)
    now = datetime.now(UTC)
    current = list(paths) or _configured_paths(config)
    try:
        found = find_base(base, Path.cwd())
        relative = [_inside(path, found.root) for path in current]
        with tempfile.TemporaryDirectory(prefix="clarion-diff-") as scratch:
            export(found, Path(scratch))
            then = [Path(scratch) / path for path in relative if (Path(scratch) / path).exists()]
            before = _merged(_load(then, config, now)) if then else []
    except GitError as exc:
        click.echo(f"clarion: {exc}", err=True)
        raise click.exceptions.Exit(EXIT_USAGE) from None
    after = _load(current, config, now)
    report = changes.DiffReport(
        compare(before, _merged(after)), f"{base} ({found.commit[:12]})", after.problems
    )
    render = {"text": changes.text, "markdown": changes.markdown, "json": changes.as_json_text}
    rendered = render[fmt](report)
    if output is None:
        emit(rendered)
    else:
        output.write_text(rendered, encoding="utf-8")
        click.echo(changes.headline(report), err=True)
    raise click.exceptions.Exit(EXIT_PROBLEMS if after.has_errors() else EXIT_OK)


def _inside(path: Path, root: Path) -> Path:
    from scheduler.gitrefs import GitError

    try:
        return path.resolve().relative_to(root.resolve())
    except ValueError:
        raise GitError(
            f"{path} is outside the git repository at {root}; `clarion diff` compares the "
            "campaign files of one repository"
        ) from None
