"""Group commit: the writes of one process's threads that wait together go in one transaction.

On SQLite a commit is a flush to disk (`synchronous=FULL`, so that a claim or a `sent`
survives a power cut), about 2 ms, and one transaction writes at a time: 50 channel workers
finishing their posts together would commit one after another, 50 flushes in a row. Here the
first writer to arrive becomes the leader: it takes every write waiting at that moment, runs
each in a savepoint of one transaction and commits once; the writes that arrive meanwhile wait
for the next leader. Each writer gets its own result or its own exception, and only once the
transaction that holds its write is committed, so what it does next (publishing on a claim)
rests on a durable write, as if it had committed alone:

- a write that raises is rolled back to its savepoint: the others of the batch still commit;
- a commit that fails fails every write of the batch: none of them happened.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

T = TypeVar("T")


class _Write(Generic[T]):
    __slots__ = ("done", "error", "result", "wake", "work")

    def __init__(self, work: Callable[[Connection], T]) -> None:
        self.work = work
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None
        self.wake = threading.Lock()
        """Held until the write is done, or until its writer is to lead the next batch."""
        self.wake.acquire()

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class GroupCommit:
    """Runs writes, each a function of a connection in a transaction, batched as they meet.

    `transaction()` opens the transaction a leader runs its batch in (taking whatever lock
    the process's other writers take) and commits it when the block ends without error. It
    must begin the transaction in the database (the ledger's `BEGIN IMMEDIATE`): with the
    sqlite3 module's own transaction handling, a savepoint outside a transaction would
    commit by itself.
    Each waiting writer is woken once, when its write is done or when it is to lead the
    next batch: not all of them at every commit."""

    def __init__(self, transaction: Callable[[], AbstractContextManager[Connection]]) -> None:
        self._transaction = transaction
        self._mutex = threading.Lock()
        self._waiting: list[_Write[Any]] = []
        self._leading = False

    def run(self, work: Callable[[Connection], T]) -> T:
        """`work`'s result once the transaction that ran it is committed, or its exception
        (the commit's, if that failed)."""
        write = _Write(work)
        with self._mutex:
            self._waiting.append(write)
            follow, self._leading = self._leading, True
        if follow:
            write.wake.acquire()
            if write.done:
                return write.outcome()
        with self._mutex:
            batch, self._waiting = self._waiting, []
        try:
            self._commit(batch)
        finally:
            with self._mutex:
                following = self._waiting[0] if self._waiting else None
                self._leading = following is not None
            for other in batch:
                if other is not write:
                    other.wake.release()
            if following is not None:
                following.wake.release()
        return write.outcome()

    def _commit(self, batch: list[_Write[Any]]) -> None:
        try:
            with self._transaction() as connection:
                if len(batch) == 1:
                    batch[0].result = batch[0].work(connection)
                else:
                    for write in batch:
                        _in_savepoint(connection, write)
        except BaseException as exc:
            for write in batch:
                write.error, write.result = write.error or exc, None
        finally:
            for write in batch:
                write.done = True


def _in_savepoint(connection: Connection, write: _Write[Any]) -> None:
    """SQL of the driver's own rather than SQLAlchemy's `begin_nested`, which names each
    savepoint anew and so compiles each statement again: the writes of a batch run one after
    another, so one name serves them all."""
    connection.exec_driver_sql("SAVEPOINT clarion_write")
    try:
        write.result = write.work(connection)
    except Exception as exc:
        connection.exec_driver_sql("ROLLBACK TO SAVEPOINT clarion_write")
        write.error = exc
    connection.exec_driver_sql("RELEASE SAVEPOINT clarion_write")
