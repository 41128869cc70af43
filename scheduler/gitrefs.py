"""Reading another version of the campaign repository out of git, for `clarion diff`: the
files of a commit are exported into a folder (`git archive`), never checked out over the
user's work."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path


class GitError(Exception):
    """What went wrong, in words for the user (exit status 2)."""


@dataclass(frozen=True, slots=True)
class Base:
    root: Path
    """The top of the working tree."""
    commit: str
    """The commit compared with: the merge base of the ref and HEAD, as a pull request does."""
    ref: str


def _git(root: Path | None, *args: str) -> subprocess.CompletedProcess[bytes]:
    git = shutil.which("git")
    if git is None:
        raise GitError("git is not installed, and `clarion diff` reads the history with it")
    command = [git, *(("-C", str(root)) if root else ()), *args]
    return subprocess.run(command, capture_output=True, check=False)


def _out(done: subprocess.CompletedProcess[bytes]) -> str:
    return done.stdout.decode("utf-8", "replace").strip()


def find_base(ref: str, where: Path) -> Base:
    top = _git(where, "rev-parse", "--show-toplevel")
    if top.returncode:
        raise GitError(f"{where.resolve()} is not inside a git repository")
    root = Path(_out(top))
    found = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode:
        raise GitError(
            f"git knows no branch, tag or commit named '{ref}'; fetch it first "
            f"(git fetch origin {ref.removeprefix('origin/')}), and in CI fetch the whole "
            "history (actions/checkout with fetch-depth: 0, or GIT_DEPTH: 0 on GitLab)"
        )
    commit = _out(found)
    head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    if head.returncode == 0:
        merge_base = _git(root, "merge-base", commit, _out(head))
        if merge_base.returncode == 0:
            commit = _out(merge_base)
    return Base(root, commit, ref)


def export(base: Base, destination: Path) -> None:
    """The files of the base commit, under `destination`."""
    done = _git(base.root, "archive", "--format=tar", base.commit)
    if done.returncode:
        raise GitError(f"git archive {base.commit[:12]} failed: {done.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(destination, filter="data")
