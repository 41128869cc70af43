"""Figures: how each sent post was received, read from its platform over time, and where
the collection of each post stands.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "figures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("likes", sa.Integer),
        sa.Column("reposts", sa.Integer),
        sa.Column("replies", sa.Integer),
        sa.Column("quotes", sa.Integer),
        sa.Column("views", sa.Integer),
        sa.Column("clicks", sa.Integer),
        sa.Column("extra", sa.JSON().with_variant(JSONB(), "postgresql")),
    )
    op.create_index("ix_figures_key_at", "figures", ["key", "at"])
    op.create_table(
        "figure_collection",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("next_at", sa.DateTime(timezone=True)),
        sa.Column("rounds", sa.Integer, nullable=False),
        sa.Column("tries", sa.Integer, nullable=False),
        sa.Column("ended", sa.String(16)),
        sa.Column("ended_reason", sa.Text),
        sa.Column("last_error", sa.Text),
        sa.CheckConstraint(
            "ended IN ('unsupported', 'not-permitted', 'gone')",
            name="ck_figure_collection_ended",
        ),
    )
    op.create_index("ix_figure_collection_next_at", "figure_collection", ["next_at"])


def downgrade() -> None:
    op.drop_index("ix_figure_collection_next_at", table_name="figure_collection")
    op.drop_table("figure_collection")
    op.drop_index("ix_figures_key_at", table_name="figures")
    op.drop_table("figures")
