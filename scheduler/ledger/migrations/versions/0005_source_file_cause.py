"""A delivery's campaign file in its own column; the history's steps that rules read back marked
by a cause instead of by the words their reason begins with.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

_deliveries = sa.table(
    "deliveries",
    sa.column("key", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("source_file", sa.Text),
)
_history = sa.table("history", sa.column("reason", sa.Text), sa.column("cause", sa.String))
_CAUSES = {
    "repeat": "planned again: the platform recognises a repeat",
    "operator-retry": "retry asked by an operator",
}
"""The cause of each step whose reason began with these words (how Clarion up to 0004 told
them apart)."""
_BATCH = 1000


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("source_file", sa.Text))
    op.add_column("history", sa.Column("cause", sa.String(32)))
    bind = op.get_bind()
    for cause, words in _CAUSES.items():
        bind.execute(
            _history.update().where(_history.c.reason.like(f"{words}%")).values(cause=cause)
        )
    rows = bind.execute(sa.select(_deliveries.c.key, _deliveries.c.payload)).all()
    fill = _deliveries.update().where(_deliveries.c.key == sa.bindparam("b_key"))
    files = [{"b_key": key, "source_file": _file(payload["source"])} for key, payload in rows]
    for start in range(0, len(files), _BATCH):
        bind.execute(
            fill.values(source_file=sa.bindparam("source_file")), files[start : start + _BATCH]
        )


def _file(source: str) -> str:
    """The file of a `file:line:col` source (as campaigns.problems.Location.parse reads it)."""
    return source.rsplit(":", 2)[0]


def downgrade() -> None:
    with op.batch_alter_table("history") as batch:
        batch.drop_column("cause")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("source_file")
