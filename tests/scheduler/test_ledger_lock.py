"""One daemon per SQLite ledger; any number on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from scheduler.ledger.api import LedgerBusy
from scheduler.ledger.lock import acquire_daemon_lock

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_daemon_on_the_same_file_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    with acquire_daemon_lock(url):
        with pytest.raises(LedgerBusy) as refused, acquire_daemon_lock(url):
            pass
        message = str(refused.value)
        assert "another clarion daemon is already running" in message
        assert str(tmp_path / "ledger.db") in message
        assert f"pid {os.getpid()}" in message
    with acquire_daemon_lock(url):
        pass  # released when the first one ended


def test_another_ledger_file_is_not_blocked(tmp_path: Path) -> None:
    with (
        acquire_daemon_lock(f"sqlite:///{tmp_path}/a.db"),
        acquire_daemon_lock(f"sqlite:///{tmp_path}/b.db"),
    ):
        pass


def test_the_lock_goes_with_a_daemon_killed_by_sigkill(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    script = (
        "import sys, time\n"
        "from scheduler.ledger.lock import acquire_daemon_lock\n"
        f"with acquire_daemon_lock({url!r}):\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(60)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        with pytest.raises(LedgerBusy, match=f"pid {child.pid}"), acquire_daemon_lock(url):
            pass
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    with acquire_daemon_lock(url):
        pass


def test_postgresql_ledgers_take_no_lock() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/anything"
    with acquire_daemon_lock(url), acquire_daemon_lock(url):
        pass
