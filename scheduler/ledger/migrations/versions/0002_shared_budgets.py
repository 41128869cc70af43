"""Rate budgets shared by every daemon on the ledger: when each post of a channel started.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "rate_spends",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rate_spends_channel_at", "rate_spends", ["channel", "at"])
    # The posts already out count, as each daemon used to seed its own budget with them.
    op.execute(
        "INSERT INTO rate_spends (channel, at) SELECT channel, sent_utc FROM deliveries "
        "WHERE state = 'sent' AND sent_utc IS NOT NULL AND sent_utc > "
        + (
            "now() - interval '7 days'"
            if op.get_bind().dialect.name == "postgresql"
            else "datetime('now', '-7 days')"
        )
    )


def downgrade() -> None:
    op.drop_table("rate_spends")
