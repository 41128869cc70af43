"""Bring a ledger's schema up to date with alembic, inside the caller's transaction."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from scheduler.ledger.api import LedgerUnavailable

_MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_ID = 0x636C6172
"""PostgreSQL advisory lock taken while migrating, so that daemons starting together take turns."""


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("path_separator", "os")
    return config


def head() -> str:
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None, "the ledger has no migrations"
    return revision


def is_current(connection: Connection) -> bool:
    """Whether the ledger's schema is this Clarion's (for readers that must not migrate)."""
    return MigrationContext.configure(connection).get_current_revision() == head()


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Apply every migration the ledger lacks (up to `revision`: a test rebuilds an old
    ledger); refuse a ledger written by a newer Clarion."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(_LOCK_ID)))
    config = _config()
    script = ScriptDirectory.from_config(config)
    current = MigrationContext.configure(connection).get_current_revision()
    if current == script.get_current_head():
        return
    if current is not None:
        try:
            script.get_revision(current)
        except CommandError:
            raise LedgerUnavailable(
                f"the ledger's schema (revision {current}) was written by a newer version of "
                "Clarion: upgrade Clarion on this machine before using it"
            ) from None
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
