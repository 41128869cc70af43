"""pre-commit: the hooks this repository offers (`.pre-commit-hooks.yaml`) and the
configuration `clarion init` writes, checked by pre-commit itself and run in a real campaign
repository, where a broken campaign stops the commit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scheduler.daemonkit import CLARION

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
PRE_COMMIT = BIN / "pre-commit"


def run(*args: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CLARION_CONFIG"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # `clarion` as a user has it
    env["PRE_COMMIT_HOME"] = str(cwd.parent / "pre-commit-cache")
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.fixture
def campaign_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    assert run(CLARION, "init", repo, cwd=tmp_path).returncode == 0
    assert run("git", "add", "-A", cwd=repo).returncode == 0
    return repo


def break_campaign(repo: Path) -> None:
    path = repo / "campaigns" / "sayno-2027.yaml"
    path.write_text(path.read_text().replace("timezone: Europe/Brussels", "timezone: Mars/Olympus"))
    assert run("git", "add", "-A", cwd=repo).returncode == 0


def test_the_hooks_manifest_is_valid_for_pre_commit() -> None:
    done = run(PRE_COMMIT, "validate-manifest", ROOT / ".pre-commit-hooks.yaml", cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_config_that_init_writes_is_valid_for_pre_commit(campaign_repo: Path) -> None:
    config = campaign_repo / ".pre-commit-config.yaml"
    done = run(PRE_COMMIT, "validate-config", config, cwd=campaign_repo)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_hooks_pass_a_good_repository_and_stop_a_broken_campaign(
    campaign_repo: Path,
) -> None:
    good = run(PRE_COMMIT, "run", "--all-files", cwd=campaign_repo)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "clarion validate" in good.stdout and "Passed" in good.stdout
    break_campaign(campaign_repo)
    bad = run(PRE_COMMIT, "run", "--all-files", cwd=campaign_repo)
    assert bad.returncode == 1
    assert "Mars/Olympus" in bad.stdout
    assert "sayno-2027.yaml:" in bad.stdout  # located, as file:line:col


def test_a_stale_schema_is_caught(campaign_repo: Path) -> None:
    (campaign_repo / "clarion.schema.json").write_text("{}\n")
    run("git", "add", "-A", cwd=campaign_repo)
    done = run(PRE_COMMIT, "run", "clarion-schema", "--all-files", cwd=campaign_repo)
    assert done.returncode == 1
    assert "clarion.schema.json is stale" in done.stdout


@pytest.mark.slow
def test_the_hook_from_this_repository_installs_clarion_and_validates(
    campaign_repo: Path,
) -> None:
    """What a team gets with `repo: <Clarion's repository>`: pre-commit installs Clarion from
    this repository into an environment of its own, then runs the hook."""
    good = run(PRE_COMMIT, "try-repo", ROOT, "clarion-validate", "--all-files", cwd=campaign_repo)
    assert good.returncode == 0, good.stdout + good.stderr
    break_campaign(campaign_repo)
    bad = run(PRE_COMMIT, "try-repo", ROOT, "clarion-validate", "--all-files", cwd=campaign_repo)
    assert bad.returncode == 1
    assert "Mars/Olympus" in bad.stdout
