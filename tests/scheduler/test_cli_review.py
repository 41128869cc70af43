"""`clarion diff BASE` in real git repositories made by the tests: the deliveries a branch
adds, changes and removes compared with where it left its target, in each format, and clear
errors for a missing ref or a folder outside git."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from campaigns.preview.changes import COMMENT_LIMIT, MARKER
from tests.scheduler.daemonkit import CLARION

CONFIG = """\
campaigns: [plans]
channels:
  x-main:
    platform: x
    credentials:
      consumer_key: ${K}
      consumer_secret: ${K}
      access_token: ${K}
      access_token_secret: ${K}
  mastodon-main:
    platform: mastodon
    base_url: https://example.social
    credentials: {access_token: "${K}"}
"""

PLAN = """\
campaign: launch
title: Launch
timezone: Europe/Brussels
anchors: {day: 2031-03-10}
channels: [x-main, mastodon-main]
posts:
  - id: teaser
    at: day - 1d 09:00
    text: "Tomorrow: something new."
  - id: launch
    at: day 10:00
    text: "It is here."
  - id: thanks
    at: day + 1d 12:00
    text: "Thank you all."
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=Test", "-c", "user.email=test@example.org", "commit", "-qm", message)


def clarion(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CLARION_CONFIG"}
    return subprocess.run(
        [str(CLARION), *args], cwd=repo, capture_output=True, text=True, timeout=120, env=env
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "--initial-branch=main")
    (tmp_path / "config.yaml").write_text(CONFIG)
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "launch.yaml").write_text(PLAN)
    commit(tmp_path, "the plan")
    git(tmp_path, "checkout", "-qb", "change")
    return tmp_path


def edit(repo: Path, old: str, new: str) -> None:
    path = repo / "plans" / "launch.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_added_changed_and_removed_against_the_target_branch(repo: Path) -> None:
    edit(repo, "It is here.", "It is here, at last.")  # changed text
    edit(repo, "day + 1d 12:00", "day + 2d 12:00")  # changed time
    edit(
        repo,
        '  - id: teaser\n    at: day - 1d 09:00\n    text: "Tomorrow: something new."\n',
        '  - id: recap\n    at: day + 7d 09:00\n    text: "One week on."\n',
    )  # one post removed, another added
    commit(repo, "edits")
    done = clarion(repo, "diff", "main", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert sorted(d["key"] for d in report["added"]) == [
        "launch/recap/-/mastodon-main",
        "launch/recap/-/x-main",
    ]
    assert sorted(d["key"] for d in report["removed"]) == [
        "launch/teaser/-/mastodon-main",
        "launch/teaser/-/x-main",
    ]
    changed = {c["key"]: c["what"] for c in report["changed"]}
    assert changed == {
        "launch/launch/-/x-main": ["text"],
        "launch/launch/-/mastodon-main": ["text"],
        "launch/thanks/-/x-main": ["time"],
        "launch/thanks/-/mastodon-main": ["time"],
    }
    assert report["unchanged"] == 0
    assert report["base"].startswith("main (")


def test_uncommitted_edits_count_and_nothing_changed_says_so(repo: Path) -> None:
    same = clarion(repo, "diff", "main")
    assert same.returncode == 0
    assert same.stdout.startswith("No delivery added, changed or removed compared with main")
    edit(repo, "Thank you all.", "Thanks, everyone.")  # not committed: the working tree counts
    done = clarion(repo, "diff", "main")
    assert "0 added, 2 changed, 0 removed" in done.stdout
    assert (
        "~ 2031-03-11 12:00 CET · mastodon-main · thanks  (text)  Thanks, everyone." in done.stdout
    )


def test_what_was_merged_into_the_target_since_does_not_show_as_undone(repo: Path) -> None:
    git(repo, "checkout", "-q", "main")
    edit(repo, "Tomorrow: something new.", "Tomorrow, the news.")
    commit(repo, "an edit on main after the branch left it")
    git(repo, "checkout", "-q", "change")
    edit(repo, "Thank you all.", "Thanks!")
    commit(repo, "the branch's own edit")
    report = json.loads(clarion(repo, "diff", "main", "--format", "json").stdout)
    assert sorted(c["key"] for c in report["changed"]) == [
        "launch/thanks/-/mastodon-main",
        "launch/thanks/-/x-main",
    ]


def test_a_new_campaign_file_is_all_added_and_a_deleted_one_all_removed(repo: Path) -> None:
    (repo / "plans" / "second.yaml").write_text(
        PLAN.replace("campaign: launch", "campaign: second")
    )
    (repo / "plans" / "launch.yaml").unlink()
    commit(repo, "swap")
    report = json.loads(clarion(repo, "diff", "main", "--format", "json").stdout)
    assert len(report["added"]) == 6 and all(d["campaign"] == "second" for d in report["added"])
    assert len(report["removed"]) == 6 and all(d["campaign"] == "launch" for d in report["removed"])


def test_markdown_is_one_comment_with_its_marker(repo: Path) -> None:
    edit(repo, "It is here.", "It is here @everyone #1 <b>")
    edit(repo, "day + 1d 12:00", "day + 1d 13:00")
    out = repo / "clarion-diff.md"
    done = clarion(repo, "diff", "main", "--format", "markdown", "--output", str(out))
    assert done.returncode == 0
    assert "0 added, 4 changed, 0 removed" in done.stderr
    text = out.read_text()
    assert text.startswith(MARKER + "\n## Clarion: what this change does to the plan")
    assert "### Changed (4)" in text
    assert "~~2031-03-11 12:00 CET~~ → 2031-03-11 13:00 CET" in text
    assert "<b>" not in text and "&lt;b&gt;" in text  # shown as written, never as HTML
    assert "@\u2060everyone" in text  # notifies nobody
    assert "Before:" in text and "After:" in text


def test_a_huge_change_is_cut_to_fit_one_comment(repo: Path) -> None:
    posts = "".join(
        f'  - id: p{i}\n    at: day + {i}h\n    text: "{"long words " * 20}{i}"\n'
        for i in range(400)
    )
    (repo / "plans" / "launch.yaml").write_text(PLAN + posts)
    done = clarion(repo, "diff", "main", "--format", "markdown")
    assert len(done.stdout) <= COMMENT_LIMIT
    assert "too large for one comment" in done.stdout


def test_errors_in_the_change_are_listed_and_exit_1(repo: Path) -> None:
    edit(repo, "channels: [x-main, mastodon-main]", "channels: [x-mian]")
    done = clarion(repo, "diff", "main", "--format", "markdown")
    assert done.returncode == 1
    assert "Problems" in done.stdout and "x-mian" in done.stdout


def test_errors_in_the_change_are_listed_in_text_too(repo: Path) -> None:
    edit(repo, "channels: [x-main, mastodon-main]", "channels: [x-mian]")
    done = clarion(repo, "diff", "main")
    assert done.returncode == 1
    assert "plans/launch.yaml:5:" in done.stdout and "x-mian" in done.stdout


def test_an_unknown_base_is_a_clear_error(repo: Path) -> None:
    done = clarion(repo, "diff", "origin/main")
    assert done.returncode == 2
    assert "git knows no branch, tag or commit named 'origin/main'" in done.stderr
    assert "fetch-depth: 0" in done.stderr
    assert "Traceback" not in done.stderr


def test_outside_a_git_repository_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG)
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "launch.yaml").write_text(PLAN)
    env_dir = tmp_path  # not inside any repository (tmp_path is outside the source tree)
    done = clarion(env_dir, "diff", "main")
    assert done.returncode == 2
    assert "is not inside a git repository" in done.stderr


def test_named_paths_limit_the_comparison(repo: Path) -> None:
    (repo / "plans" / "other.yaml").write_text(PLAN.replace("campaign: launch", "campaign: other"))
    edit(repo, "Thank you all.", "Thanks!")
    only_launch = clarion(repo, "diff", "main", "plans/launch.yaml", "--format", "json")
    report = json.loads(only_launch.stdout)
    assert report["added"] == [] and len(report["changed"]) == 2
    everything = json.loads(clarion(repo, "diff", "main", "--format", "json").stdout)
    assert len(everything["added"]) == 6
