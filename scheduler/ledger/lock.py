"""One daemon per SQLite ledger: an exclusive lock on the database file for the daemon's life.

The kernel drops an flock when its holder dies, even by `kill -9`, so a crash never leaves a
stale lock behind. PostgreSQL ledgers need no such lock: several daemons may share one, and
their claims skip each other's rows.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from scheduler.ledger.api import LedgerBusy


def sqlite_path(url: str) -> Path | None:
    """The database file of an SQLite URL; None for other back-ends and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser().resolve()


@contextmanager
def acquire_daemon_lock(url: str) -> Iterator[None]:
    """Hold the daemon lock of the ledger at `url` for the duration of the `with` block.

    The lock is taken on the database file itself, so that every name of that file (a hard
    link, a symbolic link, another path to the same folder) meets it; the file beside it
    (`ledger.db.lock`) is locked too and says which process holds the lock.
    Raises LedgerBusy, naming the running daemon, when another process holds it.
    """
    database = sqlite_path(url)
    if database is None:
        yield
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as held:
        # An empty file is a new, empty SQLite database: creating it here is harmless.
        # This descriptor must stay open until SQLite has closed the file: closing any
        # descriptor of a file drops the process's POSIX locks on it, SQLite's included
        # (the daemon's ExitStack closes the ledger before this lock).
        ledger_fd = _open(database, held)
        sidecar = database.with_name(database.name + ".lock")
        info_fd = _open(sidecar, held)
        for fd in (ledger_fd, info_fd):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(info_fd, 200, 0).decode(errors="replace").strip()
                raise LedgerBusy(
                    f"another clarion daemon is already running on the ledger {database} "
                    f"({holder or 'another process, through another name of this file'}); "
                    "only one daemon may use an SQLite ledger at a time: stop the other one "
                    "first, or share a PostgreSQL ledger between several daemons"
                ) from None
        since = datetime.now(UTC).isoformat(timespec="seconds")
        os.ftruncate(info_fd, 0)
        os.pwrite(
            info_fd, f"pid {os.getpid()} on {socket.gethostname()}, since {since}".encode(), 0
        )
        yield


def _open(path: Path, stack: ExitStack) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    stack.callback(os.close, fd)
    return fd
