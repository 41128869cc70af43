"""The first ledger: deliveries, their history, campaign pauses and channel holds.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_STATES = "'planned', 'claimed', 'sent', 'failed', 'unknown', 'cancelled', 'expired'"


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("campaign", sa.String, nullable=False),
        sa.Column("post", sa.String, nullable=False),
        sa.Column("channel", sa.String, nullable=False),
        sa.Column("platform", sa.String, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("due_utc", _when(), nullable=False),
        sa.Column("deadline_utc", _when()),
        sa.Column("parent_key", sa.String),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("plan_hash", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_utc", _when()),
        sa.Column("lease_owner", sa.String),
        sa.Column("lease_until", _when()),
        sa.Column("claim_token", sa.String(64)),
        sa.Column("platform_id", sa.String),
        sa.Column("platform_url", sa.Text),
        sa.Column("platform_ref", _json()),
        sa.Column("last_error", sa.Text),
        sa.Column("error_class", sa.String(64)),
        sa.Column("created_utc", _when(), nullable=False),
        sa.Column("updated_utc", _when(), nullable=False),
        sa.Column("sent_utc", _when()),
        sa.CheckConstraint(f"state IN ({_STATES})", name="ck_deliveries_state"),
    )
    op.create_index("ix_deliveries_claim", "deliveries", ["channel", "state", "due_utc"])
    op.create_index("ix_deliveries_state_due", "deliveries", ["state", "due_utc"])
    op.create_index("ix_deliveries_campaign_state", "deliveries", ["campaign", "state"])
    op.create_index("ix_deliveries_state_updated", "deliveries", ["state", "updated_utc"])

    op.create_table(
        "history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String, nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("process", sa.String, nullable=False),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_history_key", "history", ["key", "id"])

    controls = op.create_table(
        "campaign_controls",
        sa.Column("campaign", sa.String, primary_key=True),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("since", _when()),
        sa.Column("by", sa.String),
    )
    op.bulk_insert(controls, [{"campaign": "*", "paused": False}])

    op.create_table(
        "channel_holds",
        sa.Column("channel", sa.String, primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("since", _when(), nullable=False),
    )


def downgrade() -> None:
    for table in ("channel_holds", "campaign_controls", "history", "deliveries"):
        op.drop_table(table)
