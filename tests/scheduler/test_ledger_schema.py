"""Opening a ledger: migrations, the stored time format, and refusals with clear messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from scheduler.ledger import migrate
from scheduler.ledger.api import OPERATOR_RETRY, Cause, ErrorClass, LedgerUnavailable, Retry, State
from scheduler.ledger.sql import SqlLedger, open_ledger
from scheduler.ledger.tables import metadata
from scheduler.repeats import REPEATED
from tests.scheduler.ledgerkit import NOW, delivery


def test_migrations_create_the_schema_from_empty(ledger_url: str) -> None:
    open_ledger(ledger_url).close()
    engine = create_engine(ledger_url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            revision = MigrationContext.configure(connection).get_current_revision()
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
            everything = connection.execute(text("SELECT paused FROM campaign_controls")).all()
    finally:
        engine.dispose()
    assert {"deliveries", "history", "campaign_controls", "channel_holds"} <= tables
    assert revision == migrate.head()
    assert differences == [], "the migrations and tables.py disagree"
    assert [tuple(r) for r in everything] == [(False,)]


STORED_ERROR_CLASSES = {
    *("retry-later", "rejected", "ambiguous", "duplicate", "error", "crash", "media", "auth"),
    *("lease", "window", "deadline", "thread", "blackout", "operator", "removed-from-plan"),
    *("draft", "identity"),
}


def test_error_classes_are_stored_as_they_always_were(ledger: SqlLedger) -> None:
    """Ledgers written by earlier versions keep reading: the stored words never change."""
    assert {c.value for c in ErrorClass} == STORED_ERROR_CLASSES
    ledger.sync([delivery()], NOW)
    claim = ledger.claim(delivery().channel, "test:1", timedelta(minutes=5), NOW)
    assert claim is not None
    ledger.finish(claim, Retry(NOW + timedelta(hours=1), "wait", ErrorClass.RETRY_LATER), NOW)
    with ledger.engine.connect() as connection:
        stored = connection.execute(text("SELECT error_class FROM deliveries")).scalar_one()
    assert stored == "retry-later"
    assert ledger.find(delivery().key).error_class is ErrorClass.RETRY_LATER


def test_opening_again_changes_nothing(ledger_url: str) -> None:
    first = open_ledger(ledger_url)
    first.sync([delivery()], NOW)
    first.close()
    second = open_ledger(ledger_url)
    try:
        assert [r.key for r in second.rows()] == [delivery().key]
    finally:
        second.close()


def test_migration_0005_fills_the_source_file_and_the_causes_of_older_rows(
    ledger_url: str,
) -> None:
    """A ledger of 0004 told repeats and operator retries by the words their reason began
    with, and kept a delivery's file only inside its payload."""
    from scheduler.ledger import codec
    from scheduler.ledger.tables import deliveries, history

    item = delivery("a", source="/plans/say:no.yaml:3:5")
    engine = create_engine(ledger_url, json_serializer=codec.dumps)
    try:
        with engine.begin() as connection:
            migrate.upgrade(connection, "0004")
            connection.execute(
                deliveries.insert().values(
                    key=item.key,
                    campaign=item.campaign,
                    post=item.post,
                    channel=item.channel,
                    platform=item.platform,
                    state=State.PLANNED,
                    due_utc=item.due_utc,
                    payload=codec.encode(item),
                    content_hash=item.content_hash,
                    plan_hash=codec.fingerprint(item),
                    attempts=0,
                    created_utc=NOW,
                    updated_utc=NOW,
                )
            )
            steps = [
                (None, State.PLANNED, "added from the plan"),
                (State.UNKNOWN, State.PLANNED, f"{REPEATED} (the same record key)"),
                (State.FAILED, State.PLANNED, f"{OPERATOR_RETRY}; its deadline is lifted"),
                (State.UNKNOWN, State.PLANNED, "found not sent: planned again"),
            ]
            connection.execute(
                history.insert(),
                [
                    {"key": item.key, "at": NOW, "from_state": old, "to_state": new}
                    | {"process": "host:1", "reason": why}
                    for old, new, why in steps
                ],
            )
    finally:
        engine.dispose()
    ledger = open_ledger(ledger_url)
    try:
        assert ledger.find(item.key).source_file == "/plans/say:no.yaml"
        assert [step.cause for step in ledger.history(item.key)] == [
            None,
            Cause.REPEAT,
            Cause.OPERATOR_RETRY,
            None,
        ]
        assert ledger.sync([item], NOW).unchanged == 1
    finally:
        ledger.close()


def test_datetimes_come_back_aware_in_utc_to_the_microsecond(ledger: SqlLedger) -> None:
    brussels = timezone(timedelta(hours=1))
    due = datetime(2027, 2, 9, 9, 0, 0, 123456, tzinfo=brussels)
    deadline = datetime(2027, 7, 1, 12, 30, tzinfo=UTC)
    ledger.sync([delivery(due=due, deadline=deadline)], NOW)
    row = ledger.rows()[0]
    assert row.due_utc == due
    assert row.due_utc.tzinfo is UTC
    assert row.due_utc.hour == 8 and row.due_utc.microsecond == 123456
    assert row.deadline_utc == deadline
    assert row.delivery.due_utc == due
    assert row.updated_utc == NOW


def test_times_compare_in_time_order_across_offsets(ledger: SqlLedger) -> None:
    east = timezone(timedelta(hours=5))
    early = delivery("early", due=datetime(2027, 2, 9, 12, 0, tzinfo=east))  # 07:00 UTC
    late = delivery("late", due=datetime(2027, 2, 9, 7, 30, tzinfo=UTC))
    ledger.sync([late, early], NOW)
    assert [r.post for r in ledger.rows()] == ["early", "late"]
    assert [a[0] for a in ledger.alarms(NOW, timedelta(hours=1))] == [early.key, late.key]


def test_naive_datetimes_are_refused(ledger: SqlLedger) -> None:
    with pytest.raises(Exception, match="aware"):
        ledger.sync([delivery()], datetime(2027, 2, 9, 8, 0))


def test_a_ledger_from_a_newer_clarion_is_refused(ledger_url: str) -> None:
    open_ledger(ledger_url).close()
    engine = create_engine(ledger_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(LedgerUnavailable, match="newer version of Clarion"):
        open_ledger(ledger_url)


def test_sqlite_uses_wal_and_states_are_checked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    open_ledger(url).close()
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        query = text("SELECT sql FROM sqlite_master WHERE name='deliveries'")
        ddl = str(connection.execute(query).scalar())
    assert all(f"'{state.value}'" in ddl for state in State)
    engine.dispose()


def test_a_missing_sqlite_ledger_is_created_only_when_asked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/state/ledger.db"
    with pytest.raises(LedgerUnavailable, match=r"no ledger at .*ledger\.db yet"):
        open_ledger(url, create=False)
    assert not (tmp_path / "state").exists()
    open_ledger(url).close()
    assert (tmp_path / "state" / "ledger.db").is_file()
    open_ledger(url, create=False).close()


def test_an_in_memory_ledger_is_refused() -> None:
    with pytest.raises(LedgerUnavailable, match="must be a file"):
        open_ledger("sqlite://")


@pytest.mark.postgres
def test_an_unreachable_server_is_reported_without_its_password() -> None:
    url = "postgresql+psycopg://clarion:s3cret@127.0.0.1:1/ledger?connect_timeout=2"
    with pytest.raises(LedgerUnavailable) as caught:
        open_ledger(url)
    assert "s3cret" not in str(caught.value)
    assert "127.0.0.1:1" in str(caught.value)
