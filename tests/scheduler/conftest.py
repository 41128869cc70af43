"""Ledger fixtures: every ledger test runs on SQLite (a file in tmp_path) and on PostgreSQL.

PostgreSQL tests (marker `postgres`) use 127.0.0.1:5432, user postgres, trust auth: one
database per test session, made from `postgres` and dropped at the end, and one schema per
test. When the server is unreachable they fail in CI (CI starts it) and are skipped, loudly,
elsewhere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from scheduler.ledger.sql import SqlLedger, open_ledger

PG_HOST = "127.0.0.1:5432"
PG_ADMIN = f"postgresql://postgres@{PG_HOST}/postgres"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh database for this test session; its name is unique, so runs never collide."""
    import psycopg

    name = f"clarion_test_{uuid.uuid4().hex[:12]}"
    try:
        _admin(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        message = (
            f"PostgreSQL is not reachable at {PG_HOST} ({str(exc).strip()}); start it, or "
            "deselect these tests with -m 'not postgres'"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(f"SKIPPED POSTGRESQL LEDGER TESTS: {message}")
    yield name
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    """A URL whose connections work in a schema of their own, empty at first."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    dsn = f"postgresql://postgres@{PG_HOST}/{pg_database}"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    yield f"postgresql+psycopg://postgres@{PG_HOST}/{pg_database}?options=-csearch_path%3D{schema}"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def ledger_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """An empty ledger's URL, on each back-end in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[SqlLedger]:
    opened = open_ledger(ledger_url, process="test:1")
    yield opened
    opened.close()


@pytest.fixture
def config(tmp_path: Path, ledger_url: str) -> Path:
    """A config.yaml naming the test's ledger (the operator commands' tests)."""
    path = tmp_path / "config.yaml"
    path.write_text(f"ledger: '{ledger_url}'\n")
    return path
