"""Group commit: the writes of one process's threads that wait together go in one transaction.

On SQLite a commit is a flush to disk (`synchronous=FULL`, so that a claim or a `sent`
survives a power cut), about 2 ms, and one transaction writes at a time: 50 channel workers
finishing their posts together would commit one after another, 50 flushes in a row. Here the
first writer to arrive becomes the leader: it takes every write waiting at that moment, runs
them one after another in one transaction and commits once; the writes that arrive meanwhile
wait for the next leader. Each writer gets its own result or its own exception, and only once
the transaction that holds its write is committed, so what it does next (publishing on a
claim) rests on a durable write, as if it had committed alone.

If anything in a batch fails (a write, or the commit), the batch is rolled back and each of
its writes runs again alone, in a transaction of its own: a failure fails only the write that
meets it. (If the transaction cannot even begin, every write of the batch fails with that:
each trying alone would only wait as long again, in turn.) So a write must depend on nothing
but the database: it may run twice, the first run rolled back. Savepoints would isolate a
failing write without running the others again, but cost two more statements per write, on
the path every write of the process waits on, to guard against a failure that almost never
happens."""

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
    the process's other writers take) and commits it when the block ends without error.
    Each waiting writer is woken once, when its write is done or when it is to lead the
    next batch: not all of them at every commit."""

    def __init__(self, transaction: Callable[[], AbstractContextManager[Connection]]) -> None:
        self._transaction = transaction
        self._mutex = threading.Lock()
        self._waiting: list[_Write[Any]] = []
        self._leading = False

    def run(self, work: Callable[[Connection], T]) -> T:
        """`work`'s result once the transaction that ran it is committed, or the exception
        it met when it ran alone."""
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
            if len(batch) == 1:
                self._alone(batch[0])
                return
            begun = False
            try:
                with self._transaction() as connection:
                    begun = True
                    results = [write.work(connection) for write in batch]
            except Exception as exc:
                for write in batch:
                    if begun:
                        self._alone(write)
                    else:  # no transaction to be had (the ledger is unavailable): none alone
                        write.error = exc
                return
            for write, result in zip(batch, results, strict=True):
                write.result = result
        except BaseException as exc:
            for write in batch:
                write.error, write.result = write.error or exc, None
        finally:
            for write in batch:
                write.done = True

    def _alone(self, write: _Write[Any]) -> None:
        try:
            with self._transaction() as connection:
                write.result = write.work(connection)
        except Exception as exc:
            write.error = exc
