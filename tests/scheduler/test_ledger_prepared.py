"""SQLite's prepared statements (`scheduler.ledger.prepared`): the same values as SQLAlchemy's
own execution, in the SQLAlchemy connection's transaction, its errors and events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, event, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from scheduler.ledger import open_ledger
from scheduler.ledger.api import Sent
from scheduler.ledger.prepared import Prepared
from scheduler.ledger.sql import CLAIM_CANDIDATES, CLAIM_NEXT, HISTORY_LINE, SqlLedger
from scheduler.ledger.tables import deliveries, history
from tests.scheduler.ledgerkit import LEASE, NOW, delivery, ref


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[SqlLedger]:
    """SQLite only: PostgreSQL runs its statements through SQLAlchemy."""
    opened = open_ledger(f"sqlite:///{tmp_path}/ledger.db", process="test:1")
    yield opened
    opened.close()


def claim_params(channel: str = "x-main") -> dict[str, Any]:
    return {
        "b_channel": channel,
        "now": NOW,
        "ready_by": NOW,
        "owner": "test:1",
        "lease_until": NOW + LEASE,
        "token": "t1",
        "reason": "claimed",
    }


def test_a_claim_returns_what_sqlalchemy_reads_back(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a")], NOW)
    prepared = Prepared(CLAIM_NEXT, ledger.engine.dialect)
    with ledger.engine.begin() as connection:
        found = prepared.first(connection, claim_params())
        assert found is not None
        read = connection.execute(select(deliveries)).mappings().one()
    assert found == dict(read)
    assert found["lease_until"] == NOW + LEASE  # an aware UTC datetime, as stored
    assert found["payload"]["text"] == "a in en"  # the JSON column, decoded


def test_nothing_to_claim_is_none(ledger: SqlLedger) -> None:
    with ledger.engine.begin() as connection:
        assert Prepared(CLAIM_NEXT, ledger.engine.dialect).first(connection, claim_params()) is None


def test_it_runs_in_the_connections_transaction(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a")], NOW)
    prepared = Prepared(CLAIM_NEXT, ledger.engine.dialect)
    with ledger.engine.connect() as connection, connection.begin() as transaction:
        assert prepared.first(connection, claim_params()) is not None
        transaction.rollback()
    assert ledger.find(delivery("a").key).state == "planned"


def test_a_history_line_reads_back_as_the_ledger_writes_it(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a")], NOW)
    found = ledger.claim("x-main", "test:1", LEASE, NOW)
    assert found is not None
    assert ledger.finish(found, Sent(ref(1)), NOW + timedelta(seconds=1))
    lines = ledger.history(delivery("a").key)
    assert [(t.from_state, t.to_state) for t in lines[-2:]] == [
        ("planned", "claimed"),
        ("claimed", "sent"),
    ]
    assert lines[-1].at == NOW + timedelta(seconds=1)
    assert lines[-1].reason == "sent: https://x.example/status/1"


def test_a_driver_error_is_sqlalchemys_and_the_transaction_rolls_back(ledger: SqlLedger) -> None:
    prepared = Prepared(HISTORY_LINE, ledger.engine.dialect)
    line = {"key": "k", "at": NOW, "from_state": None, "to_state": None, "process": "p"}
    with pytest.raises(IntegrityError) as raised, ledger.engine.begin() as connection:
        prepared.execute(connection, {**line, "to_state": "claimed", "reason": "kept?"})
        prepared.execute(connection, {**line, "reason": "refused"})  # to_state is NOT NULL
    assert isinstance(raised.value, DBAPIError)
    with ledger.engine.connect() as connection:
        assert connection.execute(select(history.c.key).where(history.c.key == "k")).all() == []


def test_the_engines_cursor_events_see_its_statements(ledger: SqlLedger) -> None:
    seen: list[tuple[str, str]] = []

    def before(*args: Any) -> None:
        seen.append(("before", args[2]))

    def after(*args: Any) -> None:
        seen.append(("after", args[2]))

    event.listen(ledger.engine, "before_cursor_execute", before)
    event.listen(ledger.engine, "after_cursor_execute", after)
    prepared = Prepared(CLAIM_NEXT, ledger.engine.dialect)
    with ledger.engine.begin() as connection:
        prepared.first(connection, claim_params())
    assert ("before", prepared.sql) in seen
    assert ("after", prepared.sql) in seen


def test_a_statement_rendered_at_each_execution_is_refused(ledger: SqlLedger) -> None:
    expanding = select(deliveries.c.key).where(
        deliveries.c.key.in_(bindparam("keys", expanding=True))
    )
    with pytest.raises(ValueError, match="rendered anew"):
        Prepared(expanding, ledger.engine.dialect)


def test_every_row_it_returns_reads_as_sqlalchemy_reads_it(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a", deadline=NOW + LEASE), delivery("b")], NOW)
    later = NOW + 2 * LEASE  # a is past its deadline: a row to settle
    params = {"b_channel": "x-main", "now": later, "ready_by": later}
    with ledger.engine.begin() as connection:
        prepared = Prepared(CLAIM_CANDIDATES, ledger.engine.dialect).all(connection, params)
        read = connection.execute(CLAIM_CANDIDATES, params).mappings().all()
    assert prepared == [dict(row) for row in read]
    assert [row["deadline_utc"] for row in prepared] == [NOW + LEASE, None]
