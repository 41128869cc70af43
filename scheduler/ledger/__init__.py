"""The ledger: which delivery is in which state (contract in `api`, SQL back-end in `sql`).

`open_ledger` and `acquire_daemon_lock` are imported on first use, so that importing the
contract never loads SQLAlchemy (the plan commands must start fast without it).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler.ledger.lock import acquire_daemon_lock
    from scheduler.ledger.sql import SqlLedger, open_ledger

__all__ = ["SqlLedger", "acquire_daemon_lock", "open_ledger"]

_LAZY = {
    "open_ledger": "scheduler.ledger.sql",
    "SqlLedger": "scheduler.ledger.sql",
    "acquire_daemon_lock": "scheduler.ledger.lock",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
