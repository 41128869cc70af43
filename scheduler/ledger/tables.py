"""The ledger's schema: one SQLAlchemy Core description for SQLite and PostgreSQL.

Migrations (scheduler/ledger/migrations) create exactly this; a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB

from scheduler.ledger.api import State


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored in UTC.

    PostgreSQL keeps it as `timestamp with time zone`. SQLite has no such type: the column is
    declared DATETIME and holds the UTC wall clock as fixed-width text
    (`2027-02-09 08:00:00.000000`, SQLAlchemy's own SQLite format), which sorts and compares
    in time order; it is converted here directly, the costly part of a large sync otherwise.
    Naive datetimes are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return _to_sqlite
        return super().bind_processor(dialect)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if dialect.name == "sqlite":
            return _from_sqlite
        return super().result_processor(dialect, coltype)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"the ledger stores aware datetimes only, got {value!r}")
    return value.astimezone(UTC)


def _to_sqlite(value: datetime | None) -> str | None:
    if value is None:
        return None
    return _utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


def _from_sqlite(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _json() -> Any:
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


metadata = MetaData()

_STATES = ", ".join(f"'{s.value}'" for s in State)

deliveries = Table(
    "deliveries",
    metadata,
    Column("key", String, primary_key=True),
    Column("campaign", String, nullable=False),
    Column("post", String, nullable=False),
    Column("channel", String, nullable=False),
    Column("platform", String, nullable=False),
    Column("state", String(16), nullable=False),
    Column("due_utc", UtcDateTime, nullable=False),
    Column("deadline_utc", UtcDateTime),
    Column("parent_key", String),
    Column("payload", _json(), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("plan_hash", String(64), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_utc", UtcDateTime),
    Column("lease_owner", String),
    Column("lease_until", UtcDateTime),
    Column("claim_token", String(64)),
    Column("platform_id", String),
    Column("platform_url", Text),
    Column("platform_ref", _json()),
    Column("last_error", Text),
    Column("error_class", String(64)),
    Column("created_utc", UtcDateTime, nullable=False),
    Column("updated_utc", UtcDateTime, nullable=False),
    Column("sent_utc", UtcDateTime),
    Column("source_file", Text),
    CheckConstraint(f"state IN ({_STATES})", name="ck_deliveries_state"),
    Index("ix_deliveries_claim", "channel", "state", "due_utc"),
    Index("ix_deliveries_state_due", "state", "due_utc"),
    Index("ix_deliveries_campaign_state", "campaign", "state"),
    Index("ix_deliveries_state_updated", "state", "updated_utc"),
)
"""`plan_hash` fingerprints the delivery as planned (what it is, then where its file was read
from: codec.fingerprint), so that sync compares plans in memory;
`content_hash` is what the audience sees (an edit to it after sending is reported);
`source_file` is the campaign file the delivery was last read from (set by every sync, and
by migration 0005 for the rows stored before)."""

history = Table(
    "history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("process", String, nullable=False),
    Column("reason", Text),
    Column("cause", String(32)),
    Index("ix_history_key", "key", "id"),
)
"""Append-only: one row per state change, never updated or deleted. `cause` marks the steps
the rules read back (api.Cause); `reason` is for people."""

campaign_controls = Table(
    "campaign_controls",
    metadata,
    Column("campaign", String, primary_key=True),
    Column("paused", Boolean, nullable=False, default=False),
    Column("reason", Text),
    Column("since", UtcDateTime),
    Column("by", String),
    Column("until", UtcDateTime),
)
"""One row per campaign ever synced, plus '*' for everything: a claim takes a shared lock on
its campaign's row and '*', and pause updates them, so the two cannot interleave. A pause with
`until` lifts itself at that instant."""

channel_holds = Table(
    "channel_holds",
    metadata,
    Column("channel", String, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("since", UtcDateTime, nullable=False),
)

rate_spends = Table(
    "rate_spends",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_rate_spends_channel_at", "channel", "at"),
)
"""When each post of a rate-limited channel started, by any daemon: the budget they share.
A claim adds its row in its own transaction; rows older than the budget's window go."""

blackouts = Table(
    "blackouts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign", String, nullable=False),
    Column("channel", String),
    Column("start_utc", UtcDateTime, nullable=False),
    Column("end_utc", UtcDateTime, nullable=False),
    Column("policy", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("source", Text, nullable=False),
    Index("ix_blackouts_campaign", "campaign", "end_utc"),
)
"""The campaigns' blackouts as last read from their files, one row per channel (None: every
channel of the campaign), from `start_utc` included to `end_utc` excluded; `policy` is
postpone or skip. A claim skips the rows they hold."""

blackout_exemptions = Table(
    "blackout_exemptions",
    metadata,
    Column("campaign", String, primary_key=True),
    Column("post", String, primary_key=True),
)
"""Posts with `ignore_blackouts: true`."""

daemons = Table(
    "daemons",
    metadata,
    Column("process", String, primary_key=True),
    Column("started_utc", UtcDateTime, nullable=False),
    Column("beat_utc", UtcDateTime, nullable=False),
    Column("stale_utc", UtcDateTime, nullable=False),
    Column("dry_run", Boolean, nullable=False),
)
"""Daemons running on this ledger: each beats every sweep and removes its row when it stops;
a row whose `stale_utc` has passed belongs to a daemon that died."""

campaign_anchors = Table(
    "campaign_anchors",
    metadata,
    Column("campaign", String, primary_key=True),
    Column("now_utc", UtcDateTime, nullable=False),
)
"""What `now` means in a campaign's file: fixed when the campaign is first loaded, so that a
restart does not move the posts anchored on it."""

figures = Table(
    "figures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("likes", Integer),
    Column("reposts", Integer),
    Column("replies", Integer),
    Column("quotes", Integer),
    Column("views", Integer),
    Column("clicks", Integer),
    Column("extra", _json()),
    Index("ix_figures_key_at", "key", "at"),
)
"""How each sent delivery was received, one row per reading (`connectors.base.Figures`):
append-only, so a report shows how a post grew. A NULL figure is one the platform does not
give, never a zero."""

FIGURES_ENDED = ("unsupported", "not-permitted", "gone")
"""Why the collection of a post's figures ended for good (`connectors.base.FiguresWhy`)."""
_ENDED = ", ".join(f"'{why}'" for why in FIGURES_ENDED)

figure_collection = Table(
    "figure_collection",
    metadata,
    Column("key", String, primary_key=True),
    Column("next_at", UtcDateTime),
    Column("rounds", Integer, nullable=False, default=0),
    Column("tries", Integer, nullable=False, default=0),
    Column("ended", String(16)),
    Column("ended_reason", Text),
    Column("last_error", Text),
    CheckConstraint(f"ended IN ({_ENDED})", name="ck_figure_collection_ended"),
    Index("ix_figure_collection_next_at", "next_at"),
)
"""Where the collection of each sent delivery's figures stands (`scheduler.collect`): when it
is read next (NULL once finished), how many readings were stored, failures in a row, and why
it ended if the platform has no figures for it."""

ALL = "*"
"""The campaign_controls row that pauses every campaign."""
