"""`clarion init` and `clarion examples`: a campaign repository to start from, and the shipped
examples, copied out of the installed package."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import click

from scheduler.cli import EXIT_USAGE
from scheduler.commands import emit

if TYPE_CHECKING:
    from scheduler.scaffold import Planned


@click.command()
@click.argument(
    "folder", required=False, default=".", type=click.Path(file_okay=False, path_type=Path)
)
@click.option("--no-git", is_flag=True, help="Do not make the folder a git repository.")
def init(folder: Path, no_git: bool) -> None:
    """Make FOLDER (default: the current folder) a campaign repository, ready to use.

    It writes config.yaml (every channel reads its credentials from environment variables, so
    nothing can be posted until you set them), the #SayNo example campaign with its images in
    campaigns/, the JSON Schema and VS Code settings for checking as you type, a .gitignore, a
    pre-commit configuration, and review workflows for GitHub Actions and GitLab CI. It never
    overwrites a file: if any of them exists, it writes nothing and says which.
    """
    from scheduler.scaffold import existing, repository_files

    planned = repository_files()
    _refuse_clashes(
        existing(folder, planned),
        "run `clarion init` in a new folder (`clarion init my-campaigns`), or move these "
        "files away first",
    )
    written = _write(folder, planned)
    width = max(len(item.path) for item in written)
    click.echo(f"Wrote a campaign repository in {folder.resolve()}:")
    for item in written:
        click.echo(f"  {item.path:<{width}}  {item.why}")
    if not no_git and _git_init(folder):
        click.echo("  (and made it a git repository: git init)")
    here = "" if folder.resolve() == Path.cwd() else f"cd {folder}\n  "
    click.echo(
        "\nNext:\n"
        f"  {here}clarion validate                          # check the campaign\n"
        "  clarion preview                           # every post, in time order\n"
        "  clarion run --dry-run --exit-when-idle    # a rehearsal: nothing is published\n"
        "Then edit campaigns/sayno-2027.yaml, or start your own file beside it, and set up the "
        "channels in config.yaml."
    )


def _write(folder: Path, planned: list[Planned]) -> list[Planned]:
    from scheduler.scaffold import write

    try:
        return list(write(folder, planned))
    except OSError as exc:
        click.echo(f"clarion: cannot write into {folder}: {exc.strerror or exc}", err=True)
        raise click.exceptions.Exit(EXIT_USAGE) from None


def _refuse_clashes(clashes: list[Path], advice: str) -> None:
    if not clashes:
        return
    for path in clashes:
        click.echo(f"clarion: {path} already exists", err=True)
    click.echo(f"clarion: nothing was written; {advice}", err=True)
    raise click.exceptions.Exit(EXIT_USAGE)


def _git_init(folder: Path) -> bool:
    """`git init` when git is installed and the folder is not inside a repository already."""
    git = shutil.which("git")
    if git is None:
        return False
    inside = subprocess.run(
        [git, "-C", str(folder), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        check=False,
    )
    if inside.returncode == 0:
        return False
    done = subprocess.run(
        [git, "init", "-q", "--initial-branch=main", str(folder)], capture_output=True, check=False
    )
    return done.returncode == 0


def _example_names(_ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[str]:
    from scheduler.scaffold import examples

    return [n for n in (*(e.name for e in examples()), "config") if n.startswith(incomplete)]


@click.command()
@click.argument("names", nargs=-1, metavar="[NAME]...", shell_complete=_example_names)
@click.option(
    "--to",
    "destination",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="FOLDER",
    help="Copy the named examples (with their images) into FOLDER.",
)
def examples(names: tuple[str, ...], destination: Path | None) -> None:
    """List the example campaigns shipped with Clarion, print one, or copy them.

    \b
      clarion examples                        # the list
      clarion examples sayno-2027             # print a campaign file
      clarion examples config                 # print the example config.yaml
      clarion examples sayno-2027 --to plans  # copy it, with its images, into plans/
    """
    from scheduler.scaffold import (
        Example,
        Planned,
        example,
        example_config,
        example_files,
        examples,
        existing,
    )

    shipped = examples()
    if not names:
        if destination is not None:
            raise click.UsageError("name the examples to copy, such as `sayno-2027`")
        width = max(len(e.name) for e in shipped)
        for e in shipped:
            click.echo(f"{e.name:<{width}}  {e.title}")
        click.echo(f"{'config':<{width}}  The example config.yaml, with every key explained")
        return
    chosen: list[Example | None] = []  # None: the example config
    for name in names:
        if name in ("config", "config.yaml", "config.example.yaml"):
            chosen.append(None)
            continue
        found = example(name)
        if found is None:
            known = ", ".join([*(e.name for e in shipped), "config"])
            raise click.BadParameter(f"no example is named '{name}'; examples: {known}")
        chosen.append(found)
    if destination is None:
        for found in chosen:
            emit(example_config() if found is None else found.file.read_text(encoding="utf-8"))
        return
    planned: list[Planned] = []
    for found in chosen:
        if found is None:
            text = example_config().encode("utf-8")
            planned.append(Planned("config.example.yaml", text, "every key explained"))
        else:
            planned += example_files(found)
    _refuse_clashes(existing(destination, planned), "copy into another folder (--to)")
    for item in _write(destination, planned):
        click.echo(f"{destination / item.path}")
