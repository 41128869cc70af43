"""Bad environments meet a located message and exit status 2, never a traceback or a hang
(issue 7, points 6, 10, 11, 12, 13, 16 and 19): every test drives `clarion` as a process."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from tests.scheduler.daemonkit import (
    CLARION,
    FAST,
    daemon_process,
    mastodon_channels,
    write_config,
)


def clarion(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, **kw: Any
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "CLARION_CONFIG"}
    return subprocess.run(
        [str(CLARION), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**environ, **(env or {})},
        **kw,
    )


def refused(done: subprocess.CompletedProcess[str], *wanted: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    for text in wanted:
        assert text in done.stderr


def config_with(tmp_path: Path, **keys: Any) -> Path:
    path = write_config(tmp_path, {}, listen=None)
    data = json.loads(path.read_text())
    data.update(keys)
    path.write_text(json.dumps(data, indent=1))
    return path


# --- point 6: one daemon per SQLite file, whatever its name ------------------------------


@pytest.mark.parametrize("link", ["hard link", "symbolic link"])
def test_a_second_daemon_through_another_name_of_the_ledger_is_refused(
    tmp_path: Path, link: str
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    database = first / "ledger.db"
    with daemon_process(config_with(first, ledger=f"sqlite:///{database}")) as running:
        running.ready()
        other = second / "other.db"
        if link == "hard link":
            os.link(database, other)
        else:
            other.symlink_to(database)
        config = config_with(second, ledger=f"sqlite:///{other}")
        done = clarion("run", "--config", str(config), cwd=second)
        refused(done, "another clarion daemon is already running")
        assert "stopped" not in done.stderr  # point 19: it never ran
        assert running.stop() == 0


# --- point 10: secret files ----------------------------------------------------------------


def secret_config(tmp_path: Path, base_url: str, secret: str) -> Path:
    channels = mastodon_channels(["m0"], [base_url])
    channels["m0"]["credentials"] = {"access_token": f"file:{secret}"}
    return write_config(tmp_path, channels, listen=None)


def test_a_secret_saved_as_utf16_by_notepad_is_read(tmp_path: Path) -> None:
    with MastodonFake() as fake:
        (tmp_path / "token").write_bytes(f"{ACCESS_TOKEN}\r\n".encode("utf-16"))
        config = secret_config(tmp_path, fake.base_url, "token")
        done = clarion("check", "--config", str(config), cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("kind", ["latin-1", "/dev/zero", "fifo", "folder", "empty"])
def test_a_secret_file_that_is_no_text_is_a_located_problem(tmp_path: Path, kind: str) -> None:
    secret = tmp_path / "token"
    if kind == "latin-1":
        secret.write_bytes("geheim-schlüssel\n".encode("latin-1"))
        wanted = "is not UTF-8 text"
    elif kind == "/dev/zero":
        secret.symlink_to("/dev/zero")
        wanted = "this is a device, not a file"
    elif kind == "fifo":
        os.mkfifo(secret)
        wanted = "this is a named pipe, not a file"
    elif kind == "folder":
        secret.mkdir()
        wanted = "this is a folder, not a file"
    else:
        secret.write_text("\n")
        wanted = f"secret file {secret} is empty"
    with MastodonFake() as fake:
        config = secret_config(tmp_path, fake.base_url, "token")
        done = clarion("check", "--config", str(config), cwd=tmp_path)
        assert done.returncode == 1, done.stdout + done.stderr  # check: a channel's problem
        assert f"{config}:" in done.stdout and wanted in done.stdout
        assert "Traceback" not in done.stdout + done.stderr
        with daemon_process(config) as daemon:
            held = daemon.wait_log(lambda x: x["message"].startswith("channel m0 is held"))
            assert wanted in held["message"]
            daemon.ready()
            assert daemon.stop() == 0


# --- points 11, 12, 16: config.yaml values checked at load --------------------------------


@pytest.mark.parametrize(
    ("ledger", "wanted"),
    [
        ("::::", "is not a database address"),
        ("mysql://user@localhost/clarion", "a ledger on mysql is not supported"),
        ("sqlite://", "names no ledger file"),
        ("sqlite:///:memory:", "names no ledger file"),
        ("postgresql://u@localhost:99x/db", "is not a database address"),
    ],
)
def test_a_ledger_that_is_not_sqlite_or_postgresql_is_refused_at_load(
    tmp_path: Path, ledger: str, wanted: str
) -> None:
    config = config_with(tmp_path, ledger=ledger)
    line = next(i for i, t in enumerate(config.read_text().splitlines(), 1) if '"ledger"' in t)
    for command in ("validate", "status", "run"):
        args = (command, "--config", str(config)) + (("plans",) if command == "validate" else ())
        refused(clarion(*args, cwd=tmp_path), f"{config}:{line}:", wanted)


def test_a_relative_sqlite_ledger_is_in_the_config_folder_wherever_clarion_runs(
    tmp_path: Path,
) -> None:
    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    site.mkdir()
    elsewhere.mkdir()
    config = config_with(site, ledger="sqlite:///ledger/clarion.db")
    done = clarion("run", "--once", "--config", str(config), cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert (site / "ledger" / "clarion.db").is_file()
    assert not (elsewhere / "ledger").exists()
    status = clarion("status", "--config", str(config), cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert f"sqlite:///{site / 'ledger' / 'clarion.db'}" in status.stdout


@pytest.mark.parametrize("where", ["a file", "/dev/null", "/proc/self"])
def test_a_state_dir_that_cannot_hold_files_is_refused(tmp_path: Path, where: str) -> None:
    if where == "a file":
        (tmp_path / "taken").write_text("")
        state = "taken"
    else:
        state = where
    config = config_with(tmp_path, state_dir=state)
    done = clarion("run", "--config", str(config), cwd=tmp_path)
    line = next(i for i, t in enumerate(config.read_text().splitlines(), 1) if "state_dir" in t)
    refused(done, f"{config}:{line}:", "state_dir")


@pytest.mark.parametrize(
    ("policies", "wanted"),
    [
        ({"lease": 5}, "a duration needs a unit: 5 of what?"),
        ({"lease": True}, "true is not a duration"),
        ({"not_after": True}, "true is not a duration"),
        ({"lease": "0s"}, "the duration must be longer than zero"),
        ({"sweep_interval": 0.5}, "a duration needs a unit"),
        ({"lease": "4s"}, "timeout 5s is not shorter than policies.lease (4s)"),
    ],
)
def test_durations_in_config_follow_the_campaign_rule(
    tmp_path: Path, policies: dict[str, Any], wanted: str
) -> None:
    config = write_config(
        tmp_path,
        mastodon_channels(["m0"], ["https://mastodon.example"]),
        policies={**FAST, **policies},
    )
    refused(clarion("run", "--config", str(config), cwd=tmp_path), f"{config}:", wanted)


# --- point 13: a full disk at start-up ----------------------------------------------------


def no_file_may_grow() -> None:
    """As on a full disk: every write that grows a file fails (Python ignores SIGXFSZ, so
    the write returns EFBIG instead of killing the process)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def test_restarting_on_a_full_disk_is_one_message_and_exit_2(tmp_path: Path) -> None:
    config = config_with(tmp_path)
    first = clarion("run", "--config", str(config), "--once", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    done = clarion("run", "--config", str(config), cwd=tmp_path, preexec_fn=no_file_may_grow)
    refused(done)
    lines = [line for line in done.stderr.splitlines() if line.startswith("clarion: ")]
    assert len(lines) == 1 and "File too large" in lines[0], done.stderr


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs (root only, where mounting is allowed)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_restarting_on_a_really_full_disk_is_one_message_and_exit_2(
    tmp_path: Path, tiny_disk: Path
) -> None:
    config = config_with(tmp_path, state_dir=str(tiny_disk / "state"))
    first = clarion("run", "--config", str(config), "--once", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    (tiny_disk / "state" / "ledger.db.lock").unlink()
    with (tiny_disk / "filler").open("wb", buffering=0) as filler, contextlib.suppress(OSError):
        while True:
            filler.write(b"\0" * 65536)
    done = clarion("run", "--config", str(config), cwd=tmp_path)
    refused(done)
    lines = [line for line in done.stderr.splitlines() if line.startswith("clarion: ")]
    assert len(lines) == 1, done.stderr


# --- point 19: the words ---------------------------------------------------------------------


def test_run_without_a_config_file_says_where_it_looked(tmp_path: Path) -> None:
    done = clarion("run", cwd=tmp_path)
    refused(done, "no config file found", "$CLARION_CONFIG", str(tmp_path), "config.example.yaml")
    assert "lists no campaign folders" not in done.stderr
