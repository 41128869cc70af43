"""PostgreSQL connections of the ledger's pool: one idle a while is checked before use and
replaced if the server closed it; one back from a transaction a moment ago is used as it is,
and if the server closed it in that moment, the operation fails as the ledger unavailable
and the next one works on a new connection."""

from __future__ import annotations

import psycopg
import pytest

from scheduler.ledger import sql
from scheduler.ledger.api import LedgerUnavailable
from scheduler.ledger.sql import SqlLedger
from tests.scheduler.conftest import PG_ADMIN
from tests.scheduler.ledgerkit import NOW, delivery

pytestmark = pytest.mark.postgres


def end_connections(ledger: SqlLedger) -> int:
    """Close, on the server's side, every connection the ledger holds; how many there were."""
    with ledger.engine.connect() as connection:
        database = connection.exec_driver_sql("SELECT current_database()").scalar()
        mine = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        ended = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid = %s",
            (database, mine),
        ).fetchall()
    return len(ended)


def test_a_connection_idle_a_while_is_checked_and_replaced(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = sql.open_ledger(pg_url, process="test:1")
    try:
        ledger.sync([delivery("a")], NOW)
        assert end_connections(ledger) == 1
        monkeypatch.setattr(sql, "PING_AFTER_IDLE_S", 0.0)
        assert ledger.keys() == [delivery("a").key]
    finally:
        ledger.close()


def test_a_connection_closed_right_after_its_last_use_fails_one_operation_only(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = sql.open_ledger(pg_url, process="test:1")
    try:
        ledger.sync([delivery("a")], NOW)
        monkeypatch.setattr(sql, "PING_AFTER_IDLE_S", 3600.0)
        assert end_connections(ledger) == 1
        with pytest.raises(LedgerUnavailable):
            ledger.keys()
        assert ledger.keys() == [delivery("a").key]
    finally:
        ledger.close()
