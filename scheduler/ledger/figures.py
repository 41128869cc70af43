"""How each sent post was received: its snapshots (`figures`) and where their collection stands
(`figure_collection`), on SQLite and PostgreSQL alike.

The collector (`scheduler.collect`) decides when to read a post; this store only records and
answers. It keeps its own tables beside the ledger's and writes through the ledger's public
transactions (`SqlLedger.writing`), so on SQLite it takes its turn with the publishing writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping

from connectors.base import Figures, FiguresWhy, PlatformRef
from scheduler.ledger.api import State
from scheduler.ledger.sql import SqlLedger
from scheduler.ledger.tables import deliveries, figure_collection, figures

_D = deliveries.c
_C = figure_collection.c
_F = figures.c

COUNTS = tuple(f.name for f in fields(Figures) if f.name != "extra")
"""The figures every platform may give (likes, reposts, replies, quotes, views, clicks), each
a column of `figures`."""


@dataclass(frozen=True, slots=True)
class Pending:
    """A sent post whose figures are to be read."""

    key: str
    campaign: str
    channel: str
    platform: str
    ref: PlatformRef
    sent_utc: datetime
    next_at: datetime | None
    rounds: int
    tries: int


@dataclass(frozen=True, slots=True)
class CollectionRow:
    """Where the collection of one post stands (a row of `figure_collection`)."""

    key: str
    next_at: datetime | None
    """When it is read next; None once finished."""
    rounds: int
    """Readings stored."""
    tries: int
    """Failures in a row."""
    ended: FiguresWhy | None
    """Why there are no figures to read for it, now or later."""
    ended_reason: str | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    key: str
    at: datetime
    figures: Figures


@dataclass(frozen=True, slots=True)
class Read:
    """Figures were read: stored as a snapshot; `next_at` None finishes the collection."""

    key: str
    figures: Figures
    next_at: datetime | None


@dataclass(frozen=True, slots=True)
class Missed:
    """Reading failed for now: nothing is stored but the error; tried again at `next_at`
    (None: given up, the last moment passed)."""

    key: str
    error: str
    next_at: datetime | None


@dataclass(frozen=True, slots=True)
class Ended:
    """The platform has no figures for this post, now or later."""

    key: str
    why: FiguresWhy
    reason: str


Outcome = Read | Missed | Ended


class FigureStore:
    def __init__(self, ledger: SqlLedger) -> None:
        self.ledger = ledger

    # --- scheduling

    def discover(
        self,
        first: Mapping[str, timedelta],
        *,
        campaign: str | None = None,
        since: datetime | None = None,
    ) -> int:
        """Schedule the first reading of every sent post, on the channels of `first`, that
        collection does not know yet: at its channel's first moment after it went out.
        `since`: only posts whose row changed since then (cheaper than every sent post, for a
        caller that looked at the others already). Returns how many it found."""
        if not first:
            return 0
        known = select(_C.key).where(_C.key == _D.key).exists()
        query = select(_D.key, _D.channel, _D.sent_utc).where(
            _D.state == State.SENT,
            _D.sent_utc.is_not(None),
            _D.platform_ref.is_not(None),
            _D.channel.in_(list(first)),
            ~known,
        )
        if campaign is not None:
            query = query.where(_D.campaign == campaign)
        if since is not None:
            query = query.where(_D.updated_utc >= since)
        with self.ledger.reading() as connection:
            found = connection.execute(query).all()
        if not found:
            return 0
        rows = [
            {"key": key, "next_at": sent + first[channel], "rounds": 0, "tries": 0}
            for key, channel, sent in found
        ]
        with self.ledger.writing() as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            # Another daemon (PostgreSQL) may have scheduled some meanwhile: those are kept.
            add = dialect.insert(figure_collection).on_conflict_do_nothing(index_elements=["key"])
            connection.execute(add, rows)
        return len(rows)

    def due(self, now: datetime, limits: Mapping[str, int]) -> dict[str, list[Pending]]:
        """The posts whose next reading is due, on each channel of `limits` at most its
        limit, earliest first."""
        if not limits:
            return {}
        order = func.row_number().over(partition_by=_D.channel, order_by=(_C.next_at, _C.key))
        ranked = (
            self._pending()
            .add_columns(order.label("place"))
            .where(_C.next_at <= now, _D.channel.in_(list(limits)))
            .subquery()
        )
        query = (
            select(ranked)
            .where(ranked.c.place <= max(limits.values()))
            .order_by(ranked.c.channel, ranked.c.place)
        )
        found: dict[str, list[Pending]] = {channel: [] for channel in limits}
        # Nothing due, the usual case, is found on the index of next_at alone: the query
        # above, ranking per channel, is planned from the deliveries' channel index.
        anything = select(_C.key).where(_C.next_at <= now, _C.ended.is_(None)).limit(1)
        with self.ledger.reading() as connection:
            if connection.execute(anything).first() is None:
                return found
            for row in connection.execute(query).mappings():
                if row["place"] <= limits[row["channel"]]:
                    found[row["channel"]].append(_pending(row))
        return found

    def open(self, channel: str, limit: int, *, campaign: str | None = None) -> list[Pending]:
        """The channel's posts whose collection has not ended (finished ones included: their
        figures may still be read on demand), latest sent first."""
        query = self._pending().where(_D.channel == channel)
        if campaign is not None:
            query = query.where(_D.campaign == campaign)
        query = query.order_by(_D.sent_utc.desc(), _D.key).limit(limit)
        with self.ledger.reading() as connection:
            return [_pending(row) for row in connection.execute(query).mappings()]

    def _pending(self) -> Any:
        return (
            select(
                _D.key,
                _D.campaign,
                _D.channel,
                _D.platform,
                _D.platform_ref,
                _D.sent_utc,
                _C.next_at,
                _C.rounds,
                _C.tries,
            )
            .join(figure_collection, _C.key == _D.key)
            .where(_C.ended.is_(None))
        )

    # --- recording

    def save(self, outcomes: Iterable[Outcome], now: datetime) -> None:
        """Record a batch of readings in one transaction: snapshots of what was read, the
        next moment of each post, failures counted, ended collections with their reason."""
        snapshots: list[dict[str, Any]] = []
        reads: list[dict[str, Any]] = []
        misses: list[dict[str, Any]] = []
        ends: list[dict[str, Any]] = []
        for outcome in outcomes:
            if isinstance(outcome, Read):
                snapshots.append(_snapshot(outcome.key, now, outcome.figures))
                reads.append({"b_key": outcome.key, "b_next": outcome.next_at})
            elif isinstance(outcome, Missed):
                misses.append(
                    {"b_key": outcome.key, "b_next": outcome.next_at, "b_error": outcome.error}
                )
            else:
                ends.append(
                    {"b_key": outcome.key, "b_why": outcome.why, "b_reason": outcome.reason}
                )
        if not (snapshots or misses or ends):
            return
        with self.ledger.writing() as connection:
            if snapshots:
                connection.execute(insert(figures), snapshots)
                connection.execute(READ, reads)
            if misses:
                connection.execute(MISSED, misses)
            if ends:
                connection.execute(ENDED, ends)

    # --- reading back

    def collection(self, key: str) -> CollectionRow | None:
        with self.ledger.reading() as connection:
            found = (
                connection.execute(select(figure_collection).where(_C.key == key))
                .mappings()
                .first()
            )
        return None if found is None else _collection(found)

    def collections(self, *, campaign: str | None = None) -> dict[str, CollectionRow]:
        query = select(figure_collection)
        if campaign is not None:
            query = query.join(deliveries, _D.key == _C.key).where(_D.campaign == campaign)
        with self.ledger.reading() as connection:
            return {row["key"]: _collection(row) for row in connection.execute(query).mappings()}

    def snapshots(self, *, key: str | None = None, campaign: str | None = None) -> list[Snapshot]:
        """Every reading, by post then oldest first."""
        query = select(figures).order_by(_F.key, _F.at, _F.id)
        if key is not None:
            query = query.where(_F.key == key)
        if campaign is not None:
            query = query.join(deliveries, _D.key == _F.key).where(_D.campaign == campaign)
        with self.ledger.reading() as connection:
            return [_read_snapshot(row) for row in connection.execute(query).mappings()]

    def totals(self) -> dict[tuple[str, str], dict[str, int]]:
        """(campaign, platform) -> each figure summed over the latest reading of every post;
        a figure no post of theirs has is left out (unknown, not zero)."""
        latest = select(func.max(_F.id).label("id")).group_by(_F.key).subquery("latest")
        sums = [func.sum(getattr(_F, name)).label(name) for name in COUNTS]
        query = (
            select(_D.campaign, _D.platform, *sums)
            .select_from(figures)
            .join(latest, latest.c.id == _F.id)
            .join(deliveries, _D.key == _F.key)
            .group_by(_D.campaign, _D.platform)
        )
        with self.ledger.reading() as connection:
            rows = connection.execute(query).mappings().all()
        return {
            (row["campaign"], row["platform"]): {
                name: int(row[name]) for name in COUNTS if row[name] is not None
            }
            for row in rows
        }


READ = (
    update(figure_collection)
    .where(_C.key == bindparam("b_key"))
    .values(rounds=_C.rounds + 1, tries=0, next_at=bindparam("b_next"), last_error=None)
)
MISSED = (
    update(figure_collection)
    .where(_C.key == bindparam("b_key"))
    .values(tries=_C.tries + 1, next_at=bindparam("b_next"), last_error=bindparam("b_error"))
)
ENDED = (
    update(figure_collection)
    .where(_C.key == bindparam("b_key"))
    .values(ended=bindparam("b_why"), ended_reason=bindparam("b_reason"), next_at=None)
)


def _snapshot(key: str, at: datetime, found: Figures) -> dict[str, Any]:
    counts = {name: getattr(found, name) for name in COUNTS}
    return {"key": key, "at": at, **counts, "extra": dict(found.extra) or None}


def _read_snapshot(row: RowMapping) -> Snapshot:
    counts = {name: row[name] for name in COUNTS}
    return Snapshot(row["key"], row["at"], Figures(**counts, extra=dict(row["extra"] or {})))


def _pending(row: RowMapping) -> Pending:
    return Pending(
        row["key"],
        row["campaign"],
        row["channel"],
        row["platform"],
        PlatformRef.from_json(row["platform_ref"]),
        row["sent_utc"],
        row["next_at"],
        row["rounds"],
        row["tries"],
    )


def _collection(row: RowMapping) -> CollectionRow:
    return CollectionRow(
        row["key"],
        row["next_at"],
        row["rounds"],
        row["tries"],
        cast(FiguresWhy | None, row["ended"]),
        row["ended_reason"],
        row["last_error"],
    )
