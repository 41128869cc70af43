"""Alembic environment of the ledger.

`scheduler.ledger.migrate` runs it on a connection already inside a transaction (passed in
`config.attributes["connection"]`). Revisions are written by hand in versions/, numbered
0001, 0002, … (`down_revision` names the previous one), with the same result on SQLite and
PostgreSQL; tests/scheduler/test_ledger_schema.py checks that the last one matches tables.py.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from scheduler.ledger.tables import metadata

connection: Connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
