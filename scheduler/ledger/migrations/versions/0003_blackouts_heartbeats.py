"""Blackouts enforced at claim time, timed pauses, daemon heartbeats and fixed `now` anchors.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "blackouts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("campaign", sa.String, nullable=False),
        sa.Column("channel", sa.String),
        sa.Column("start_utc", _when(), nullable=False),
        sa.Column("end_utc", _when(), nullable=False),
        sa.Column("policy", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
    )
    op.create_index("ix_blackouts_campaign", "blackouts", ["campaign", "end_utc"])
    op.create_table(
        "blackout_exemptions",
        sa.Column("campaign", sa.String, primary_key=True),
        sa.Column("post", sa.String, primary_key=True),
    )
    op.create_table(
        "daemons",
        sa.Column("process", sa.String, primary_key=True),
        sa.Column("started_utc", _when(), nullable=False),
        sa.Column("beat_utc", _when(), nullable=False),
        sa.Column("stale_utc", _when(), nullable=False),
        sa.Column("dry_run", sa.Boolean, nullable=False),
    )
    op.create_table(
        "campaign_anchors",
        sa.Column("campaign", sa.String, primary_key=True),
        sa.Column("now_utc", _when(), nullable=False),
    )
    op.add_column("campaign_controls", sa.Column("until", _when()))


def downgrade() -> None:
    with op.batch_alter_table("campaign_controls") as batch:
        batch.drop_column("until")
    for table in ("campaign_anchors", "daemons", "blackout_exemptions", "blackouts"):
        op.drop_table(table)
