"""One daemon per SQLite ledger: an exclusive lock on a file beside it, held for the daemon's life.

The kernel drops an flock when its holder dies, even by `kill -9`, so a crash never leaves a
stale lock behind. PostgreSQL ledgers need no such lock: several daemons may share one, and
their claims skip each other's rows.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
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

    Raises LedgerBusy, naming the running daemon, when another process holds it.
    """
    database = sqlite_path(url)
    if database is None:
        yield
        return
    path = database.with_name(database.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            raise LedgerBusy(
                f"another clarion daemon is already running on the ledger {database} "
                f"({holder}); only one daemon may use an SQLite ledger at a time: stop the "
                "other one first, or share a PostgreSQL ledger between several daemons"
            ) from None
        since = datetime.now(UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}, since {since}".encode(), 0)
        yield
    finally:
        os.close(fd)
