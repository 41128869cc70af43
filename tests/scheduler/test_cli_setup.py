"""`clarion init`, `clarion examples` and `clarion --version`, as real processes: a new
campaign repository that validates, previews and rehearses as written, and never a file
overwritten."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from scheduler.ledger.migrate import head
from scheduler.scaffold import clarion_version
from tests.scheduler.daemonkit import CLARION, daemon_process, free_port, wait_until

EXPECTED = {
    "config.yaml",
    "campaigns/sayno-2027.yaml",
    "campaigns/media/sayno-card.png",
    "campaigns/media/sayno-helpline.png",
    "campaigns/media/sayno-tips.png",
    "clarion.schema.json",
    ".vscode/settings.json",
    ".vscode/extensions.json",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".github/workflows/clarion.yml",
    ".gitlab-ci.yml",
}


def clarion(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "CLARION_CONFIG"} | (env or {})
    return subprocess.run(
        [str(CLARION), *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=environ
    )


def files_under(folder: Path) -> set[str]:
    return {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(folder).parts
    }


def test_init_writes_a_repository_and_says_what_it_wrote(tmp_path: Path) -> None:
    done = clarion("init", "sayno", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    repo = tmp_path / "sayno"
    assert files_under(repo) == EXPECTED
    for name in EXPECTED:
        assert name in done.stdout
    assert "cd sayno" in done.stdout
    assert (repo / ".git").is_dir()  # made a git repository, on branch main
    branch = subprocess.run(
        ["git", "-C", str(repo), "symbolic-ref", "--short", "HEAD"], capture_output=True, text=True
    )
    assert branch.stdout.strip() == "main"
    campaign = (repo / "campaigns" / "sayno-2027.yaml").read_text(encoding="utf-8")
    assert campaign.startswith("# yaml-language-server: $schema=../clarion.schema.json\n")
    settings = json.loads((repo / ".vscode" / "settings.json").read_text())
    assert settings["yaml.schemas"] == {
        "./clarion.schema.json": ["campaigns/**/*.yaml", "campaigns/**/*.yml"]
    }
    schema = clarion("schema", cwd=repo)
    assert json.loads(schema.stdout) == json.loads((repo / "clarion.schema.json").read_text())
    ignored = (repo / ".gitignore").read_text()
    assert ".clarion/" in ignored and "secrets/" in ignored
    for workflow in (".github/workflows/clarion.yml", ".gitlab-ci.yml", ".pre-commit-config.yaml"):
        text = (repo / workflow).read_text()
        yaml.safe_load(text)
        assert "@CLARION_VERSION@" not in text
    assert f'"clarion=={clarion_version()}"' in (repo / ".github/workflows/clarion.yml").read_text()


def test_the_new_repository_validates_previews_and_rehearses(tmp_path: Path) -> None:
    assert clarion("init", "sayno", cwd=tmp_path).returncode == 0
    repo = tmp_path / "sayno"
    free_port(repo)
    validate = clarion("validate", cwd=repo)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "0 errors, 0 warnings" in validate.stdout
    preview = clarion("preview", "--format", "json", cwd=repo)
    assert preview.returncode == 0, preview.stderr
    deliveries = json.loads(preview.stdout)
    assert {d["campaign"] for d in deliveries} == {"sayno-2027"}
    assert any(d["media"] for d in deliveries)
    rehearsal = clarion("run", "--dry-run", "--exit-when-idle", cwd=repo)
    assert rehearsal.returncode == 0, rehearsal.stderr
    assert "nothing falls due within policies.horizon" in rehearsal.stderr
    assert (repo / ".clarion" / "dry-run-ledger.db").exists()


def test_without_credentials_a_real_run_holds_every_channel(tmp_path: Path) -> None:
    assert clarion("init", "sayno", "--no-git", cwd=tmp_path).returncode == 0
    repo = tmp_path / "sayno"
    free_port(repo)
    with daemon_process(repo / "config.yaml") as daemon:  # its log is text, as configured
        wait_until(lambda: "clarion is running" in daemon.text(), 60, what="start-up")
        held = [line for line in daemon.text().splitlines() if "is held" in line]
        assert len(held) == 7  # every channel of config.example.yaml
        assert any("X_CONSUMER_KEY is not set" in line for line in held)
        assert daemon.stop() == 0


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("mine\n")
    (tmp_path / "campaigns").mkdir()
    (tmp_path / "campaigns" / "sayno-2027.yaml").write_text("my own plan\n")
    done = clarion("init", cwd=tmp_path)
    assert done.returncode == 2
    assert ".gitignore already exists" in done.stderr
    assert "sayno-2027.yaml already exists" in done.stderr
    assert "nothing was written" in done.stderr
    assert files_under(tmp_path) == {".gitignore", "campaigns/sayno-2027.yaml"}
    assert (tmp_path / ".gitignore").read_text() == "mine\n"
    assert not (tmp_path / ".git").exists()


def test_init_twice_refuses_the_second_time(tmp_path: Path) -> None:
    assert clarion("init", "repo", "--no-git", cwd=tmp_path).returncode == 0
    before = {p: (tmp_path / "repo" / p).read_bytes() for p in EXPECTED}
    again = clarion("init", "repo", cwd=tmp_path)
    assert again.returncode == 2
    assert all((tmp_path / "repo" / p).read_bytes() == b for p, b in before.items())
    assert not (tmp_path / "repo" / ".git").exists()


def test_init_into_a_file_is_a_clear_usage_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    done = clarion("init", "taken", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_init_config_is_the_example_with_a_new_header(tmp_path: Path) -> None:
    example = clarion("examples", "config", cwd=tmp_path).stdout
    assert clarion("init", "r", "--no-git", cwd=tmp_path).returncode == 0
    config = (tmp_path / "r" / "config.yaml").read_text()
    assert config.startswith("# Clarion configuration for this campaign repository")
    assert config.endswith(example.partition("\n\n")[2])  # every key, every comment
    assert yaml.safe_load(config) == yaml.safe_load(example)


def test_examples_lists_prints_and_copies(tmp_path: Path) -> None:
    listing = clarion("examples", cwd=tmp_path)
    assert listing.returncode == 0
    names = [line.split()[0] for line in listing.stdout.splitlines()]
    assert names == ["demo", "sayno-2027", "config"]
    printed = clarion("examples", "sayno-2027", cwd=tmp_path)
    assert printed.stdout.startswith("# #SayNo")
    copied = clarion("examples", "sayno-2027", "config", "--to", "plans", cwd=tmp_path)
    assert copied.returncode == 0, copied.stderr
    assert files_under(tmp_path / "plans") == {
        "sayno-2027.yaml",
        "config.example.yaml",
        "media/sayno-card.png",
        "media/sayno-helpline.png",
        "media/sayno-tips.png",
    }
    # The demo's "Next:" hint works on the copy.
    check = clarion("validate", "plans/sayno-2027.yaml", cwd=tmp_path)
    assert check.returncode == 0, check.stdout
    again = clarion("examples", "sayno-2027", "--to", "plans", cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_an_unknown_example_names_the_known_ones(tmp_path: Path) -> None:
    done = clarion("examples", "sayno", cwd=tmp_path)
    assert done.returncode == 2
    assert "no example is named 'sayno'" in done.stderr
    assert "sayno-2027" in done.stderr


def test_version_names_the_ledger_schema_from_the_migrations(tmp_path: Path) -> None:
    done = clarion("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.strip() == f"clarion {clarion_version()} (ledger schema {head()})"
    versions = Path(__file__).parents[2] / "scheduler" / "ledger" / "migrations" / "versions"
    assert any(path.name.startswith(head()) for path in versions.glob("*.py"))


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_scripts_as_the_readme_says(tmp_path: Path, shell: str) -> None:
    done = clarion(cwd=tmp_path, env={"_CLARION_COMPLETE": f"{shell}_source"})
    assert done.returncode == 0
    assert "_clarion_completion" in done.stdout


@pytest.mark.parametrize(
    ("words", "expected"),
    [("clarion ini", "plain,init"), ("clarion examples say", "plain,sayno-2027")],
)
def test_completion_offers_commands_and_example_names(
    tmp_path: Path, words: str, expected: str
) -> None:
    env = {
        "_CLARION_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }
    assert clarion(cwd=tmp_path, env=env).stdout.strip() == expected
