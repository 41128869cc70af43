"""The ledger on SQLite (one file, one daemon) or PostgreSQL (shared by several daemons).

One schema (tables.py), SQLAlchemy Core, and the statements that change state named at the
top of this module; what differs between the back-ends is chosen once, when the ledger opens
(`_Dialect`). Every public method is one short transaction. The sync rules are not here: the
ledger reads the rows `scheduler.sync` asks for and applies the work it returns.

SQLite: WAL journal, `BEGIN IMMEDIATE` for every transaction that may write, so two
processes never claim the same row, and a busy timeout instead of "database is locked";
within one process, writers take turns on a lock (`_writer_lock`).
PostgreSQL: READ COMMITTED; claims lock their row `FOR UPDATE SKIP LOCKED` and the campaign
controls `FOR SHARE`, which `pause` must wait for (CLAIM_NEXT_LOGGED); a change and its
history line go in one statement where the history would cost a round trip of its own.
"""

from __future__ import annotations

import difflib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    CTE,
    Connection,
    Engine,
    Insert,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    create_engine,
    delete,
    event,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, RowMapping, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

from campaigns.blackouts import Safety, Window
from campaigns.delivery import Delivery
from campaigns.problems import Location
from connectors.base import PlatformRef
from scheduler import sync
from scheduler.ledger import codec, migrate
from scheduler.ledger.api import (
    OPERATOR_RETRY,
    Alarm,
    Cause,
    Claim,
    Control,
    Daemon,
    ErrorClass,
    Failed,
    Held,
    LateSent,
    LedgerUnavailable,
    NoSuchDelivery,
    NotAllowed,
    OnSettled,
    Outcome,
    Released,
    Retry,
    Row,
    Sent,
    State,
    SyncReport,
    Transition,
    Unknown,
)
from scheduler.ledger.groupcommit import GroupCommit
from scheduler.ledger.lock import sqlite_path
from scheduler.ledger.prepared import Prepared
from scheduler.ledger.tables import (
    ALL,
    UtcDateTime,
    blackout_exemptions,
    blackouts,
    campaign_anchors,
    campaign_controls,
    channel_holds,
    daemons,
    deliveries,
    history,
    rate_spends,
)
from scheduler.ratebudget import ChannelBudget, Rate
from scheduler.sync import Add, Move, SyncWork, past_deadline, utc

BUSY_TIMEOUT_S = 30
_SYNC_LOCK_ID = 0x636C6173
_PAUSE_RACES = 3
_CLAIM_BATCH = 8
_D = deliveries.c
T = TypeVar("T")

# --- named statements --------------------------------------------------------------------

_d = deliveries.alias("d")
_parent = deliveries.alias("p")
_PAUSE_IN_FORCE = or_(
    campaign_controls.c.until.is_(None), campaign_controls.c.until > bindparam("now")
)
_PAUSED = (
    select(campaign_controls.c.campaign)
    .where(
        campaign_controls.c.paused,
        _PAUSE_IN_FORCE,
        or_(campaign_controls.c.campaign == _d.c.campaign, campaign_controls.c.campaign == ALL),
    )
    .exists()
)
_HELD = select(channel_holds.c.channel).where(channel_holds.c.channel == _d.c.channel).exists()
_b = blackouts.alias("b")
_EXEMPT = (
    select(blackout_exemptions.c.post)
    .where(
        blackout_exemptions.c.campaign == _d.c.campaign,
        blackout_exemptions.c.post == _d.c.post,
    )
    .correlate(_d)
    .exists()
)
_SENDS_AT = case((_d.c.next_attempt_utc > _d.c.due_utc, _d.c.next_attempt_utc), else_=_d.c.due_utc)
"""The instant a planned row goes out, unless it is late: its due time or its next attempt."""
_BLACKED_OUT = (
    select(_b.c.id)
    .where(
        _b.c.campaign == _d.c.campaign,
        or_(_b.c.channel.is_(None), _b.c.channel == _d.c.channel),
        or_(
            and_(_b.c.start_utc <= bindparam("now"), _b.c.end_utc > bindparam("now")),
            and_(
                _b.c.policy == "skip", _b.c.start_utc <= _d.c.due_utc, _b.c.end_utc > _d.c.due_utc
            ),
            and_(
                bindparam("now") < _SENDS_AT,
                _b.c.start_utc <= _SENDS_AT,
                _b.c.end_utc > _SENDS_AT,
            ),
        ),
        ~_EXEMPT,
    )
    .exists()
)
"""A blackout of the row's campaign and channel is in force now or will be when the row
goes out (a row claimed ahead of its instant), or the row was planned inside a `skip` blackout
(it is cancelled by `settle_blackouts`); posts that ignore blackouts are not held."""
_PARENT_SETTLED = (State.SENT, State.FAILED, State.CANCELLED, State.EXPIRED)
_READY = (
    _d.c.channel == bindparam("b_channel"),
    _d.c.state == State.PLANNED,
    _d.c.due_utc <= bindparam("ready_by"),
    or_(_d.c.next_attempt_utc.is_(None), _d.c.next_attempt_utc <= bindparam("ready_by")),
    or_(
        _d.c.parent_key.is_(None),
        _parent.c.key.is_(None),
        # equalities rather than IN, whose list SQLAlchemy renders again at each execution
        *(_parent.c.state == state for state in _PARENT_SETTLED),
    ),
    ~_PAUSED,
    ~_HELD,
    ~_BLACKED_OUT,
)
"""Planned rows of the channel that are due (by `ready_by`: now, or a little later for a
claim made ahead), not waiting for a retry or for an earlier thread
part, in a campaign not paused, on a channel not held, outside blackouts: each is claimed, or
settled when it is past its deadline or its thread broke."""

CLAIM_CANDIDATES = (
    select(
        _d.c.key,
        _d.c.campaign,
        _d.c.deadline_utc,
        _d.c.parent_key,
        _parent.c.state.label("parent_state"),
    )
    .select_from(_d.outerjoin(_parent, _parent.c.key == _d.c.parent_key))
    .where(*_READY)
    .order_by(_d.c.due_utc, _d.c.key)
    .limit(_CLAIM_BATCH)
    .with_for_update(of=_d, skip_locked=True)
)
"""The channel's earliest ready rows, to settle those that must be."""

_NEXT_READY = (
    select(_d.c.key)
    .select_from(_d.outerjoin(_parent, _parent.c.key == _d.c.parent_key))
    .where(*_READY)
    .order_by(_d.c.due_utc, _d.c.key)
    .limit(1)
    .with_for_update(of=_d, skip_locked=True)
    .scalar_subquery()
)
_up = deliveries.alias("up")
_SENT_PARENT = select(_up.c.key).where(_up.c.key == _D.parent_key, _up.c.state == State.SENT)

CLAIM_NEXT = (
    update(deliveries)
    .where(
        _D.key == _NEXT_READY,
        or_(_D.deadline_utc.is_(None), _D.deadline_utc >= bindparam("now")),
        or_(_D.parent_key.is_(None), _SENT_PARENT.exists()),
    )
    .values(
        state=State.CLAIMED,
        attempts=_D.attempts + 1,
        lease_owner=bindparam("owner"),
        lease_until=bindparam("lease_until"),
        claim_token=bindparam("token"),
        updated_utc=bindparam("now"),
    )
    .returning(*deliveries.c)
)
"""Claim the channel's earliest ready row in one statement, if it may go out (its deadline
has not passed, and the previous thread part, if any, is sent), and return it. No row:
nothing is ready, or the earliest ready row must be settled first (CLAIM_CANDIDATES)."""

FINISH = (
    update(deliveries)
    .where(
        _D.key == bindparam("b_key"),
        _D.state == State.CLAIMED,
        _D.claim_token == bindparam("b_token"),
    )
    .values(
        state=bindparam("to_state"),
        attempts=_D.attempts - bindparam("uncounted"),
        next_attempt_utc=func.coalesce(
            bindparam("b_next_attempt", type_=UtcDateTime), _D.next_attempt_utc
        ),
        last_error=bindparam("last_error"),
        error_class=bindparam("error_class"),
        platform_id=bindparam("platform_id"),
        platform_url=bindparam("platform_url"),
        platform_ref=bindparam("platform_ref"),
        sent_utc=bindparam("sent_utc"),
        lease_owner=None,
        lease_until=None,
        claim_token=None,
        updated_utc=bindparam("now"),
    )
)
"""The fence: the result is written only while the row is still claimed with our token."""


def _history_of(changed: CTE, from_state: State) -> Insert:
    """PostgreSQL: the history line of each row a statement (a CTE returning the key)
    changed, in the same statement: one round trip less."""
    return insert(history).from_select(
        ["key", "at", "from_state", "to_state", "process", "reason"],
        select(
            changed.c.key,
            bindparam("now", type_=UtcDateTime),
            literal(from_state.value),
            bindparam("to_state", type_=String),
            bindparam("process", type_=String),
            bindparam("reason", type_=String),
        ),
    )


FINISH_LOGGED = _history_of(FINISH.returning(_D.key).cte("finished"), State.CLAIMED).returning(
    history.c.key
)
"""PostgreSQL: FINISH and its history line; the fence held if the line was written."""

RENEW = (
    update(deliveries)
    .where(
        _D.key == bindparam("b_key"),
        _D.state == State.CLAIMED,
        _D.claim_token == bindparam("b_token"),
        _D.lease_until >= bindparam("now"),
    )
    .values(lease_until=bindparam("lease_until"))
)
"""Extend a claim's lease, only while it is still ours and has not run out: a claim whose
lease ran out may already be another daemon's (or unknown), even if no sweeper noticed yet."""

HOLDS = select(_D.key).where(
    _D.key == bindparam("b_key"), _D.state == State.CLAIMED, _D.claim_token == bindparam("b_token")
)
"""Whether a claim is still ours (a statement built once: building it costs more than running
it)."""

_BUDGET_LOCK = cast(literal(0x636C6162), Integer)
"""With the channel's hash, the PostgreSQL advisory lock its rate budget is read under."""
_S = rate_spends.c
RECENT_SPENDS = (
    select(_S.at)
    .where(_S.channel == bindparam("b_channel"))
    .order_by(_S.at.desc())
    .limit(bindparam("posts"))
)
"""The channel's latest post starts, newest first: all its rate budget needs to know."""
FORGET_SPENDS = delete(rate_spends).where(
    _S.channel == bindparam("b_channel"), _S.at < bindparam("before")
)

_claimed = CLAIM_NEXT.cte("claimed")
_controls = (
    select(campaign_controls.c.paused)
    .where(
        or_(
            campaign_controls.c.campaign.in_(select(_claimed.c.campaign)),
            campaign_controls.c.campaign == ALL,
        ),
        _PAUSE_IN_FORCE,
    )
    .with_for_update(read=True)
    .cte("controls")
)
_paused_meanwhile = select(_controls).where(_controls.c.paused).exists()
CLAIM_NEXT_LOGGED = select(_claimed, _paused_meanwhile.label("paused_meanwhile")).add_cte(
    _history_of(_claimed, State.PLANNED).cte("logged")
)
"""PostgreSQL: CLAIM_NEXT with its history line, and whether the campaign is paused after all,
re-read under a shared lock on its control rows: `pause` updates them, so it waits for a claim
in flight, and a claim that meets a pause committed since its statement began (a locking read
sees the latest version) is rolled back. On SQLite the claim's write lock keeps `pause` out."""

SETTLE = (
    update(deliveries)
    .where(_D.key == bindparam("b_key"), _D.state == bindparam("b_state"))
    .values(
        state=bindparam("to_state"),
        last_error=bindparam("error"),
        error_class=bindparam("error_class"),
        next_attempt_utc=None,
        lease_owner=None,
        lease_until=None,
        claim_token=None,
        updated_utc=bindparam("now"),
    )
)
"""Move a row from the state it was seen in to another, with the reason."""

SYNC_REFRESH = (
    update(deliveries)
    .where(_D.key == bindparam("b_key"), _D.state == bindparam("b_state"))
    .values(
        post=bindparam("post"),
        platform=bindparam("platform"),
        due_utc=bindparam("due_utc"),
        deadline_utc=bindparam("deadline_utc"),
        parent_key=bindparam("parent_key"),
        payload=bindparam("payload"),
        content_hash=bindparam("content_hash"),
        plan_hash=bindparam("plan_hash"),
        source_file=bindparam("source_file"),
        updated_utc=bindparam("now"),
    )
)
"""Store the plan's new version of a row that has not gone out."""

SYNC_EXISTING = select(_D.key, _D.campaign, _D.state, _D.plan_hash, _D.content_hash, _D.error_class)

GONE_OUT = select(
    _D.key,
    _D.campaign,
    _D.state,
    _D.plan_hash,
    _D.content_hash,
    _D.error_class,
    _D.due_utc,
).where(_D.key.in_(bindparam("keys", expanding=True)), _D.state.in_(sync.GONE_OUT))
"""Rows that went out (or may have), of the keys given: renamed occurrences, perhaps."""

WENT_OUT = (
    select(deliveries)
    .where(
        _D.state.in_(sync.GONE_OUT),
        _D.due_utc.in_(bindparam("dues", expanding=True)),
        _D.platform.in_(bindparam("platforms", expanding=True)),
    )
    .order_by(_D.key)
)
"""Rows that went out (or may have), due at one of the instants on one of the platforms: what
a new key may correspond to (`sync.match_went_out`)."""

LOCK_STATES = (
    select(_D.key, _D.state).where(_D.key.in_(bindparam("keys", expanding=True))).with_for_update()
)

LEASES_RUN_OUT = (
    select(_D.key)
    .where(_D.state == State.CLAIMED, _D.lease_until < bindparam("now"))
    .with_for_update(skip_locked=True)
)

CLAIMS_OF_OTHERS = select(_D.key).where(
    _D.state == State.CLAIMED,
    or_(_D.lease_owner.is_(None), _D.lease_owner != bindparam("owner")),
)

OVERDUE = (
    select(_D.key)
    .where(_D.state == State.PLANNED, _D.deadline_utc < bindparam("now"))
    .with_for_update(skip_locked=True)
)

ADD_HISTORY = insert(history)

HISTORY_LINE = insert(history).values(
    {name: bindparam(name) for name in ("key", "at", "from_state", "to_state", "process", "reason")}
)
"""A dispatch history line (no cause), with its columns fixed: prepared once (`Prepared`)."""


class _Dialect:
    """What SQLite does (one daemon per file, whose transactions take turns on the file's
    write lock): the statements and locks of a back-end, chosen once when the ledger opens.

    On SQLite the statements of every delivery (claim, finish, their history lines, renewal,
    the check before publishing, the search for rows to settle) are `Prepared`: they run on
    the group commit's leader, the one writer all channels wait on, and SQLAlchemy's
    execution cost more than SQLite's."""

    insert: Callable[[Table], Any] = staticmethod(sqlite.insert)
    """INSERT with ON CONFLICT."""

    def __init__(self, dialect: Dialect) -> None:
        self._claim_next = Prepared(CLAIM_NEXT, dialect)
        self._finish = Prepared(FINISH, dialect)
        self._history_line = Prepared(HISTORY_LINE, dialect)
        self._renew = Prepared(RENEW, dialect)
        self._holds = Prepared(HOLDS, dialect)
        self._candidates = Prepared(CLAIM_CANDIDATES, dialect)

    def writer(self, engine: Engine) -> threading.Lock | None:
        """The lock this process's writers to the file take in turn (`_writer_lock`)."""
        database = engine.url.database
        if database in (None, "", ":memory:"):
            return None
        return _writer_lock(Path(database).expanduser().resolve())

    def serialize(self, connection: Connection, *lock: Any) -> None:
        """Take the transaction-long lock of `lock` (numbers, or SQL expressions of them);
        the write lock already serializes SQLite's writers."""

    def claim_next(
        self, connection: Connection, params: dict[str, Any]
    ) -> Mapping[Any, Any] | None:
        """CLAIM_NEXT and its history line: the claimed row, or None."""
        found = self._claim_next.first(connection, params)
        if found is None:
            return None
        record = _record(
            found["key"],
            params["now"],
            State.PLANNED,
            State.CLAIMED,
            params["reason"],
            params["owner"],
        )
        self._history_line.execute(connection, record)
        return found

    def finish(self, connection: Connection, params: dict[str, Any]) -> bool:
        """FINISH and its history line; False if the claim's fence did not hold."""
        if self._finish.execute(connection, params).rowcount != 1:
            return False
        record = _record(
            params["b_key"],
            params["now"],
            State.CLAIMED,
            params["to_state"],
            params["reason"],
            params["process"],
        )
        self._history_line.execute(connection, record)
        return True

    def renew(self, connection: Connection, params: dict[str, Any]) -> bool:
        """RENEW; False if the claim is no longer ours or its lease ran out."""
        return bool(self._renew.execute(connection, params).rowcount == 1)

    def holds(self, connection: Connection, params: dict[str, Any]) -> bool:
        """HOLDS: whether the claim is still ours."""
        return self._holds.first(connection, params) is not None

    def candidates(self, connection: Connection, params: dict[str, Any]) -> list[Any]:
        """CLAIM_CANDIDATES' rows, by column name."""
        return self._candidates.all(connection, params)

    def moved_on(self, connection: Connection, seen: Mapping[str, State]) -> set[str]:
        """Of the rows read in the states `seen`, those another daemon changed since, now
        locked until the transaction ends: none can, under SQLite's write lock."""
        return set()

    def claims_left(self, owner: str) -> Select[Any] | None:
        """At a daemon's start, the claims that are surely no running daemon's: under the
        daemon lock, every claim but this owner's."""
        return CLAIMS_OF_OTHERS.params(owner=owner)


class _PostgreSQL(_Dialect):
    """PostgreSQL, shared by several daemons: locks where they meet, and a change with its
    history line in one statement where the history would cost a round trip of its own."""

    insert = staticmethod(postgresql.insert)

    def __init__(self, dialect: Dialect) -> None:
        pass  # psycopg's own execution stays SQLAlchemy's (connections it must invalidate)

    def writer(self, engine: Engine) -> threading.Lock | None:
        return None

    def serialize(self, connection: Connection, *lock: Any) -> None:
        connection.execute(select(func.pg_advisory_xact_lock(*lock)))

    def claim_next(
        self, connection: Connection, params: dict[str, Any]
    ) -> Mapping[Any, Any] | None:
        logged = {**params, "to_state": State.CLAIMED, "process": params["owner"]}
        found = connection.execute(CLAIM_NEXT_LOGGED, logged).first()
        if found is None:
            return None
        if found.paused_meanwhile:
            raise _PausedMeanwhile
        return found._mapping

    def finish(self, connection: Connection, params: dict[str, Any]) -> bool:
        return connection.execute(FINISH_LOGGED, params).first() is not None

    def renew(self, connection: Connection, params: dict[str, Any]) -> bool:
        return bool(connection.execute(RENEW, params).rowcount == 1)

    def holds(self, connection: Connection, params: dict[str, Any]) -> bool:
        return connection.execute(HOLDS, params).first() is not None

    def candidates(self, connection: Connection, params: dict[str, Any]) -> list[Any]:
        return list(connection.execute(CLAIM_CANDIDATES, params).mappings())

    def moved_on(self, connection: Connection, seen: Mapping[str, State]) -> set[str]:
        keys = list(seen)
        current: dict[str, str] = {}
        for start in range(0, len(keys), 10_000):
            chunk = keys[start : start + 10_000]
            current.update((k, s) for k, s in connection.execute(LOCK_STATES, {"keys": chunk}))
        return {key for key, state in seen.items() if current.get(key) != state}

    def claims_left(self, owner: str) -> Select[Any] | None:
        """None: other daemons sharing the ledger may be publishing their claims right now;
        only a lease tells, and the sweeper expires the leases that ran out."""
        return None


def _dialect(engine: Engine) -> _Dialect:
    if engine.dialect.name == "postgresql":
        return _PostgreSQL(engine.dialect)
    return _Dialect(engine.dialect)


# --- the ledger ----------------------------------------------------------------------------


def default_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def open_ledger(
    url: str, *, create: bool = True, process: str | None = None, upgrade: bool = True
) -> SqlLedger:
    """Open (and migrate) the ledger at a SQLAlchemy URL: `sqlite:///path/ledger.db` or
    `postgresql+psycopg://user@host/db`.

    With `create=False` a missing SQLite file is an error instead of a new, empty ledger;
    with `upgrade=False` so is a schema this Clarion would migrate (for a reader that must not
    change the ledger under a running daemon of an older version).
    `process` names this process in the history (default `host:pid`).
    Raises LedgerUnavailable with a message for the operator.
    """
    safe = make_url(url).render_as_string(hide_password=True)
    engine = _engine(url, create)
    ledger = SqlLedger(engine, process or default_process(), safe)
    try:
        if not upgrade:
            with ledger._read() as connection:
                if not migrate.is_current(connection):
                    raise LedgerUnavailable(f"the ledger at {safe} has an older schema")
            return ledger
        with ledger._write() as connection:
            migrate.upgrade(connection)
    except BaseException:
        engine.dispose()
        raise
    return ledger


def _engine(url: str, create: bool) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(parsed, json_serializer=codec.dumps)
        event.listen(engine, "connect", _postgresql_connect)
        event.listen(engine, "checkin", _checked_in)
        event.listen(engine, "checkout", _pinging(engine.dialect))
        return engine
    database = sqlite_path(url)
    if database is None:
        raise LedgerUnavailable(
            "the ledger must be a file (sqlite:///path/ledger.db) or a PostgreSQL database: "
            "an in-memory SQLite database cannot be shared by the daemon and clarion commands"
        )
    if not database.exists():
        if not create:
            raise LedgerUnavailable(
                f"there is no ledger at {database} yet: `clarion run` creates it when it "
                "first starts (check that --config points to the right config.yaml)"
            )
        database.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        parsed, connect_args={"timeout": BUSY_TIMEOUT_S}, json_serializer=codec.dumps
    )
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


IDLE_IN_TRANSACTION = timedelta(seconds=30)
"""How long PostgreSQL lets a ledger session sit idle inside a transaction before it ends the
session, releasing its locks. A daemon frozen mid-transaction (stopped, swapped out, its
virtual machine suspended) would otherwise hold a channel's budget lock or a row's lock, and
keep every other daemon waiting on it, for as long as it stays frozen. The ledger's
transactions are short: the longest pause inside one, syncing 100,000 deliveries, is a few
seconds. A daemon that wakes after its session ended finds the ledger unavailable once, and
its next round reconnects."""


def _postgresql_connect(dbapi_connection: Any, _record: Any) -> None:
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    with dbapi_connection.cursor() as cursor:
        milliseconds = int(IDLE_IN_TRANSACTION.total_seconds() * 1000)
        cursor.execute(f"SET idle_in_transaction_session_timeout = {milliseconds}")
    dbapi_connection.autocommit = autocommit


PING_AFTER_IDLE_S = 1.0
"""PostgreSQL: a pooled connection idle longer than this is checked (`SELECT 1`) before use."""


def _checked_in(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _pinging(dialect: Dialect) -> Callable[[Any, Any, Any], None]:
    """SQLAlchemy's `pool_pre_ping`, but only for a connection that was idle: a server may
    have closed it meanwhile (a restart, an idle timeout), and then the pool opens another.
    One back from a transaction a moment ago is used as it is: a ping would add a round trip
    to each of the dispatcher's two transactions per post. Should the server have gone in
    that moment, the statement fails, the ledger reports it unavailable and the pool is
    renewed, as for any failure mid-transaction."""

    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since", float("-inf"))
        if time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(str(exc)) from exc

    return ping_if_idle


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the sqlite3 module, decides where transactions begin (_sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # a committed claim survives a power cut
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


def _record(
    key: str,
    at: datetime,
    from_state: State | None,
    to_state: State,
    reason: str,
    process: str,
    cause: Cause | None = None,
) -> dict[str, Any]:
    """A history line; `cause` only when there is one (the lines of one statement all have
    one, or none do: sync writes thousands without)."""
    line = {
        "key": key,
        "at": at,
        "from_state": from_state,
        "to_state": to_state,
        "process": process,
        "reason": reason,
    }
    return line if cause is None else {**line, "cause": cause}


class _PausedMeanwhile(Exception):
    """PostgreSQL: the campaign was paused between choosing a row and claiming it."""


_WRITERS: dict[Path, threading.Lock] = {}
_WRITERS_LOCK = threading.Lock()


def _writer_lock(database: Path) -> threading.Lock:
    """The lock that this process's writers to an SQLite file take in turn.

    SQLite lets one transaction write at a time, and a connection that finds the file busy
    sleeps in growing steps (up to 100 ms) before it tries again: threads that write together
    would wait far longer than the writes take. Queued on one lock per file, they go in turn;
    other processes (`clarion pause`, ...) still meet the busy timeout.
    """
    with _WRITERS_LOCK:
        return _WRITERS.setdefault(database, threading.Lock())


class SqlLedger:
    def __init__(self, engine: Engine, process: str, url: str) -> None:
        self._engine = engine
        self.process = process
        self.url = url
        """The URL with any password hidden: safe to show."""
        self._dialect = _dialect(engine)
        self._writer = self._dialect.writer(engine)
        self._group = None if self._writer is None else GroupCommit(self._write)
        """SQLite: the process's claims, renewals and finishes share commits (`groupcommit`);
        PostgreSQL commits concurrent transactions in parallel already."""

    @property
    def engine(self) -> Engine:
        return self._engine

    def writing(self) -> AbstractContextManager[Connection]:
        """A write transaction for a store that keeps its own tables in the ledger
        (`scheduler.ledger.figures`): on SQLite it waits its turn with the ledger's own writes
        in this process (see `_writer_lock`) instead of meeting them as a busy file."""
        return self._write()

    def reading(self) -> AbstractContextManager[Connection]:
        """A read transaction, for the same stores."""
        return self._read()

    # --- transactions

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            # A lost connection is an outage whatever its error class: PostgreSQL ending a
            # session left idle in a transaction (IDLE_IN_TRANSACTION) raises InternalError.
            lost = isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated
            if not lost:
                raise
            cause = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            raise LedgerUnavailable(f"the ledger at {self.url} is unavailable: {cause}") from exc

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._errors(), self._turn(), self._engine.begin() as connection:
            yield connection

    def _transact(self, work: Callable[[Connection], T]) -> T:
        """A write of the dispatch path (claim, renew, finish): on SQLite, committed with the
        others that wait at the same moment (`groupcommit`); returns once it is committed."""
        if self._group is None:
            with self._write() as connection:
                return work(connection)
        with self._errors():
            return self._group.run(work)

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """SQLite: wait for this process's other writers to the file (see `_writer_lock`)."""
        if self._writer is None:
            yield
            return
        if not self._writer.acquire(timeout=BUSY_TIMEOUT_S):
            raise LedgerUnavailable(
                f"the ledger at {self.url} is unavailable: another write in this process "
                f"took longer than {BUSY_TIMEOUT_S} s"
            )
        try:
            yield
        finally:
            self._writer.release()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with (
            self._errors(),
            self._engine.connect().execution_options(sqlite_begin="DEFERRED") as connection,
            connection.begin(),
        ):
            yield connection

    def close(self) -> None:
        self._engine.dispose()

    def _settle(
        self,
        connection: Connection,
        moves: Sequence[Move],
        now: datetime,
        process: str | None = None,
    ) -> None:
        """Apply the moves and write their history."""
        if not moves:
            return
        connection.execute(
            SETTLE,
            [
                {
                    "b_key": move.key,
                    "b_state": move.seen,
                    "to_state": move.to,
                    "error": None if move.to == State.PLANNED else move.why,
                    "error_class": None if move.to == State.PLANNED else move.error_class,
                    "now": now,
                }
                for move in moves
            ],
        )
        by = process or self.process
        connection.execute(
            ADD_HISTORY,
            [_record(move.key, now, move.seen, move.to, move.why, by) for move in moves],
        )

    # --- sync

    def sync(
        self,
        deliveries: Sequence[Delivery],
        now: datetime,
        *,
        campaigns: Collection[str] | None = None,
    ) -> SyncReport:
        plan = sync.by_key(deliveries)
        present = {d.campaign for d in plan.values()}
        with self._write() as connection:
            self._dialect.serialize(connection, _SYNC_LOCK_ID)
            query = SYNC_EXISTING
            if campaigns is not None:
                query = query.where(_D.campaign.in_(sorted(present | set(campaigns))))
            existing = {row.key: row for row in connection.execute(query)}
            gone = sync.renamed_candidates(plan, existing)
            renamed = sync.renamed_occurrences(
                connection.execute(GONE_OUT, {"keys": gone}) if gone else ()
            )
            fresh = sync.fresh(plan, existing, renamed)
            went_out = self._went_out_as(connection, fresh, plan, now)
            work = sync.plan_sync(plan, existing, renamed, went_out, now)
            # Another daemon may have claimed a row since it was read: leave out those that
            # moved on (the rows to change stay locked until the work is applied).
            work = work.without(self._dialect.moved_on(connection, work.touched()))
            self._apply_sync(connection, work, present, now)
        return work.report

    def went_out_as(self, deliveries: Sequence[Delivery], now: datetime) -> dict[str, Row]:
        plan = {d.key: d for d in deliveries}
        with self._read() as connection:
            stored: set[str] = set()
            keys = list(plan)
            for start in range(0, len(keys), 10_000):
                chunk = keys[start : start + 10_000]
                stored.update(connection.scalars(select(_D.key).where(_D.key.in_(chunk))))
            fresh = [d for key, d in plan.items() if key not in stored and d.status != "draft"]
            return self._went_out_as(connection, fresh, plan, now)

    def _went_out_as(
        self,
        connection: Connection,
        fresh: Sequence[Delivery],
        plan: Mapping[str, Delivery],
        now: datetime,
    ) -> dict[str, Row]:
        """`sync.match_went_out` of the fresh deliveries due by now, with the rows they may
        have gone out as read from the ledger."""
        due = sync.due_by(fresh, now)
        if not due:
            return {}
        instants = sorted({d.due_utc for d in due})
        platforms = sorted({d.platform for d in due})
        candidates: list[Row] = []
        for start in range(0, len(instants), 10_000):
            params = {"dues": instants[start : start + 10_000], "platforms": platforms}
            candidates += (_row(r._mapping) for r in connection.execute(WENT_OUT, params))
        return sync.match_went_out(due, plan, candidates)

    def _apply_sync(
        self, connection: Connection, work: SyncWork, campaigns: set[str], now: datetime
    ) -> None:
        if campaigns:
            inherited = self._inherited_pauses(connection, work.report.went_out_as, now)
            connection.execute(
                self._dialect.insert(campaign_controls).on_conflict_do_nothing(),
                [inherited.get(c, {**_NOT_PAUSED, "campaign": c}) for c in sorted(campaigns)],
            )
        # In chunks: a sync of thousands of new deliveries then holds few rows at once, which
        # spares the garbage collector full passes over the plan.
        for chunk in _chunks(work.adds):
            connection.execute(insert(deliveries), [_added(add, now) for add in chunk])
        if work.refreshes:
            connection.execute(
                SYNC_REFRESH,
                [
                    {
                        **_plan_values(item.delivery, item.fingerprint),
                        "b_key": item.delivery.key,
                        "b_state": item.seen,
                        "now": now,
                    }
                    for item in work.refreshes
                ],
            )
        self._settle(connection, work.moves, now)
        for chunk in _chunks(work.adds):
            lines = [
                _record(a.delivery.key, now, None, a.state, a.why, self.process) for a in chunk
            ]
            connection.execute(ADD_HISTORY, lines)
        if work.notes:
            connection.execute(
                ADD_HISTORY,
                [_record(n.key, now, n.state, n.state, n.why, self.process) for n in work.notes],
            )

    def _inherited_pauses(
        self, connection: Connection, went_out_as: Mapping[str, str], now: datetime
    ) -> dict[str, dict[str, Any]]:
        """Control rows for campaigns renamed from a paused one (seen by their deliveries that
        went out under the old id): the pause carries over to the new id."""
        renamed = sync.renamed_campaigns(went_out_as)
        if not renamed:
            return {}
        query = select(campaign_controls).where(
            campaign_controls.c.campaign.in_(sorted(set(renamed.values()))),
            campaign_controls.c.paused,
        )
        paused = {r.campaign: r for r in connection.execute(query)}
        return {
            new: {
                "campaign": new,
                "paused": True,
                "reason": f"paused as {old} before it was renamed {new}"
                + (f": {paused[old].reason}" if paused[old].reason else ""),
                "since": now,
                "by": paused[old].by,
            }
            for new, old in renamed.items()
            if old in paused
        }

    # --- alarms and claims

    def alarms(self, now: datetime, horizon: timedelta) -> list[Alarm]:
        until = now + horizon
        query = select(_D.key, _D.channel, _D.due_utc, _D.next_attempt_utc).where(
            _D.state == State.PLANNED,
            _D.due_utc < until,
            or_(_D.next_attempt_utc.is_(None), _D.next_attempt_utc < until),
        )
        with self._read() as connection:
            found = [
                Alarm(r.key, r.channel, max(r.due_utc, r.next_attempt_utc or r.due_utc))
                for r in connection.execute(query)
            ]
        return sorted(found, key=lambda alarm: (alarm.at, alarm.key))

    def due_channels(self, now: datetime) -> list[str]:
        query = (
            select(_d.c.channel)
            .distinct()
            .where(
                _d.c.state == State.PLANNED,
                _d.c.due_utc <= now,
                or_(_d.c.next_attempt_utc.is_(None), _d.c.next_attempt_utc <= now),
                ~_PAUSED,
                ~_HELD,
                ~_BLACKED_OUT,
            )
            .order_by(_d.c.channel)
        )
        with self._read() as connection:
            return list(connection.scalars(query, {"now": now}))

    def claim(
        self,
        channel: str,
        owner: str,
        lease: timedelta,
        now: datetime,
        *,
        on_settled: OnSettled | None = None,
        rate: Rate | None = None,
        ahead: timedelta = timedelta(0),
    ) -> Claim | None:
        return self._claiming(channel, owner, lease, now, on_settled, None, rate, ahead)[1]

    def finish_and_claim(
        self,
        claim: Claim,
        outcome: Outcome,
        now: datetime,
        lease: timedelta,
        *,
        on_settled: OnSettled | None = None,
        rate: Rate | None = None,
        ahead: timedelta = timedelta(0),
    ) -> tuple[bool, Claim | None]:
        return self._claiming(
            claim.row.channel, claim.owner, lease, now, on_settled, (claim, outcome), rate, ahead
        )

    def _claiming(
        self,
        channel: str,
        owner: str,
        lease: timedelta,
        now: datetime,
        on_settled: OnSettled | None,
        finishing: tuple[Claim, Outcome] | None,
        rate: Rate | None,
        ahead: timedelta = timedelta(0),
    ) -> tuple[bool, Claim | None]:
        """Finish `finishing` if given, then claim if the channel's rate budget allows, in one
        transaction."""

        def work(connection: Connection) -> tuple[bool, Claim | None, list[Move]]:
            finished = False
            if finishing is not None:
                finished = self._finish(connection, *finishing, now)
            if rate is not None and self._budget_wait(connection, channel, rate, now):
                return finished, None, []
            claim, settled = self._claim(connection, channel, owner, lease, now, ahead)
            if rate is not None and claim is not None:
                self._spend(connection, channel, rate, now)
            return finished, claim, settled

        finished, claim = False, None
        settled: list[Move] = []
        for _ in range(_PAUSE_RACES):
            try:
                finished, claim, settled = self._transact(work)
                break
            except _PausedMeanwhile:
                continue  # rolled back; the next statement sees the pause
        else:
            if finishing is not None:
                finished = self.finish(*finishing, now)
        if on_settled is not None:
            for move in settled:
                on_settled(move.key, move.to, move.why)
        return finished, claim

    def _claim(
        self,
        connection: Connection,
        channel: str,
        owner: str,
        lease: timedelta,
        now: datetime,
        ahead: timedelta,
    ) -> tuple[Claim | None, list[Move]]:
        until = now + lease
        ready = {"b_channel": channel, "now": now, "ready_by": now + ahead}
        token = uuid.uuid4().hex
        reason = f"claimed until {utc(until)}"
        params = {**ready, "owner": owner, "lease_until": until, "token": token, "reason": reason}
        settled: list[Move] = []
        while (claimed := self._dialect.claim_next(connection, params)) is None:
            moves = [
                Move(candidate["key"], State.PLANNED, *move)
                for candidate in self._dialect.candidates(connection, ready)
                if (move := _settlement(candidate, now)) is not None
            ]
            if not moves:
                return None, settled
            self._settle(connection, moves, now, owner)
            settled += moves  # settling may free the next part of a thread: look again
        parent, root = self._thread_refs(connection, claimed["parent_key"])
        return Claim(_row(claimed), token, owner, until, parent, root), settled

    def renew(self, claim: Claim, lease: timedelta, now: datetime) -> datetime | None:
        until = now + lease
        params = {"b_key": claim.row.key, "b_token": claim.token, "now": now, "lease_until": until}
        renewed = self._transact(lambda c: self._dialect.renew(c, params))
        return until if renewed else None

    def holds(self, claim: Claim) -> bool:
        params = {"b_key": claim.row.key, "b_token": claim.token}
        # One statement: no transaction of its own (BEGIN, COMMIT) around it.
        with self._errors(), self._engine.connect() as connection:
            return self._dialect.holds(connection, params)

    def rate_wait(self, channel: str, rate: Rate, now: datetime) -> timedelta:
        with self._read() as connection:
            return self._budget(connection, channel, rate).wait(now)

    def _budget(self, connection: Connection, channel: str, rate: Rate) -> ChannelBudget:
        budget = ChannelBudget.from_settings(rate)
        starts = connection.scalars(RECENT_SPENDS, {"b_channel": channel, "posts": rate.posts})
        budget.seed(sorted(starts))
        return budget

    def _budget_wait(self, connection: Connection, channel: str, rate: Rate, now: datetime) -> bool:
        """Whether the channel's budget makes its next post wait, read under a lock on the
        channel that the other daemons' claims on it wait for (SQLite: the write lock)."""
        self._dialect.serialize(connection, _BUDGET_LOCK, func.hashtext(channel))
        return self._budget(connection, channel, rate).wait(now) > timedelta(0)

    def _spend(self, connection: Connection, channel: str, rate: Rate, now: datetime) -> None:
        budget = ChannelBudget.from_settings(rate)
        connection.execute(FORGET_SPENDS, {"b_channel": channel, "before": now - budget.memory})
        connection.execute(insert(rate_spends).values(channel=channel, at=now))

    def finish(self, claim: Claim, outcome: Outcome, now: datetime) -> bool:
        return self._transact(lambda connection: self._finish(connection, claim, outcome, now))

    def _finish(
        self, connection: Connection, claim: Claim, outcome: Outcome, now: datetime
    ) -> bool:
        to_state, reason, values = _finish_values(claim, outcome, now)
        params = {
            **_FINISH_DEFAULTS,
            **values,
            "b_key": claim.row.key,
            "b_token": claim.token,
            "to_state": to_state,
            "now": now,
            "process": claim.owner,
            "reason": reason,
        }
        if not self._dialect.finish(connection, params):
            return False
        if isinstance(outcome, Held):
            self._hold(connection, claim.row.channel, outcome.reason, now)
        return True

    def late_sent(self, claim: Claim, sent: Sent, now: datetime) -> LateSent:
        ref, key = sent.ref, claim.row.key
        with self._write() as connection:
            locked = select(deliveries).where(_D.key == key).with_for_update()
            found = connection.execute(locked).first()
            if found is None:
                raise self._no_such(connection, key)
            row = _row(found._mapping)
            late = _late_sent(row, ref, claim.owner)
            to_state = State.SENT if late.recorded else row.state
            if late.recorded:
                values = {**_CLEARED, **_sent_values(ref, now)}
                statement = update(deliveries).where(_D.key == key, _D.state == row.state)
                connection.execute(statement.values(state=State.SENT, updated_utc=now, **values))
            why = _late_reason(late, ref)
            connection.execute(
                ADD_HISTORY, _record(key, now, row.state, to_state, why, claim.owner)
            )
        return late

    def expire_leases(self, now: datetime) -> list[str]:
        reason = "the lease ran out mid-publish: it may have gone out"
        return self._settle_all(
            LEASES_RUN_OUT,
            {"now": now},
            State.CLAIMED,
            State.UNKNOWN,
            reason,
            ErrorClass.LEASE,
            now,
        )

    def recover_claims(self, owner: str, now: datetime) -> list[str]:
        left = self._dialect.claims_left(owner)
        if left is None:
            return []
        reason = "the daemon that claimed it stopped mid-publish: it may have gone out"
        return self._settle_all(
            left, {}, State.CLAIMED, State.UNKNOWN, reason, ErrorClass.LEASE, now
        )

    def expire_overdue(self, now: datetime) -> list[str]:
        reason = "its deadline passed before it could go out"
        return self._settle_all(
            OVERDUE, {"now": now}, State.PLANNED, State.EXPIRED, reason, ErrorClass.DEADLINE, now
        )

    def _settle_all(
        self,
        query: Select[Any],
        params: Mapping[str, Any],
        old: State,
        new: State,
        reason: str,
        error_class: ErrorClass,
        now: datetime,
    ) -> list[str]:
        with self._write() as connection:
            keys: list[str] = list(connection.scalars(query, params))
            self._settle(connection, [Move(k, old, new, reason, error_class) for k in keys], now)
        return keys

    # --- reading

    def _fetch(self, connection: Connection, key: str) -> Row | None:
        found = connection.execute(select(deliveries).where(_D.key == key)).first()
        return None if found is None else _row(found._mapping)

    def _thread_refs(
        self, connection: Connection, parent_key: str | None
    ) -> tuple[PlatformRef | None, PlatformRef | None]:
        if parent_key is None:
            return None, None
        query = select(_D.parent_key, _D.platform_ref).where(_D.key == bindparam("key"))
        chain: list[PlatformRef | None] = []
        key: str | None = parent_key
        while key is not None and len(chain) < 1000:
            found = connection.execute(query, {"key": key}).first()
            if found is None:
                break
            chain.append(
                None if found.platform_ref is None else PlatformRef.from_json(found.platform_ref)
            )
            key = found.parent_key
        if not chain:
            return None, None
        return chain[0], chain[-1]

    def get(self, key: str) -> Row | None:
        with self._read() as connection:
            return self._fetch(connection, key)

    def find(self, key: str) -> Row:
        with self._read() as connection:
            row = self._fetch(connection, key)
            if row is None:
                raise self._no_such(connection, key)
            return row

    def rows(
        self,
        campaign: str | None = None,
        states: Sequence[State] = (),
        *,
        channel: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
        error_class: str | None = None,
    ) -> list[Row]:
        query = select(deliveries)
        if campaign is not None:
            query = query.where(_D.campaign == campaign)
        if states:
            query = query.where(_D.state.in_(list(states)))
        if channel is not None:
            query = query.where(_D.channel == channel)
        if error_class is not None:
            query = query.where(_D.error_class == error_class)
        if newest_first:
            query = query.order_by(_D.updated_utc.desc(), _D.key)
        else:
            query = query.order_by(_D.due_utc, _D.key)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as connection:
            return [_row(r._mapping) for r in connection.execute(query)]

    def counts(self, campaign: str | None = None) -> dict[State, int]:
        query = select(_D.state, func.count()).group_by(_D.state)
        if campaign is not None:
            query = query.where(_D.campaign == campaign)
        counts = dict.fromkeys(State, 0)
        with self._read() as connection:
            for state, count in connection.execute(query):
                counts[State(state)] = count
        return counts

    def keys(self, campaign: str | None = None) -> list[str]:
        query = select(_D.key).order_by(_D.key)
        if campaign is not None:
            query = query.where(_D.campaign == campaign)
        with self._read() as connection:
            return list(connection.scalars(query))

    def campaigns(self) -> list[str]:
        with self._read() as connection:
            return list(connection.scalars(select(_D.campaign).distinct().order_by(_D.campaign)))

    def history(self, key: str) -> list[Transition]:
        query = select(history).where(history.c.key == key).order_by(history.c.id)
        with self._read() as connection:
            found = connection.execute(query).all()
            if not found and self._fetch(connection, key) is None:
                raise self._no_such(connection, key)
        return [
            Transition(
                r.key,
                r.at,
                None if r.from_state is None else State(r.from_state),
                State(r.to_state),
                r.process,
                r.reason,
                None if r.cause is None else Cause(r.cause),
            )
            for r in found
        ]

    def _no_such(self, connection: Connection, key: str) -> NoSuchDelivery:
        keys = list(connection.scalars(select(_D.key)))
        close = difflib.get_close_matches(key, keys, n=5, cutoff=0.6)
        containing = sorted(k for k in keys if key in k and k not in close)
        return NoSuchDelivery(key, (close + containing)[:8])

    def thread_refs(self, key: str) -> tuple[PlatformRef | None, PlatformRef | None]:
        with self._read() as connection:
            row = self._fetch(connection, key)
            if row is None:
                raise self._no_such(connection, key)
            return self._thread_refs(connection, row.delivery.parent_key)

    def sent_since(self, channel: str, since: datetime) -> list[datetime]:
        query = (
            select(_D.sent_utc)
            .where(_D.channel == channel, _D.state == State.SENT, _D.sent_utc >= since)
            .where(
                or_(_D.error_class.is_(None), _D.error_class != ErrorClass.IDENTITY)
            )  # counted once
            .order_by(_D.sent_utc)
        )
        with self._read() as connection:
            return [when for when in connection.scalars(query) if when is not None]

    # --- operator actions

    def _operator_move(
        self,
        key: str,
        action: str,
        allowed: Collection[State],
        to_state: State,
        change: Callable[[Row], tuple[Mapping[str, Any], str]],
        by: str,
        now: datetime,
        cause: Cause | None = None,
    ) -> Row:
        """Move a delivery an operator (or reconciliation) names, if its state allows;
        `change` gives the columns to set and the reason, from the row as it is now."""
        with self._write() as connection:
            row = self._fetch(connection, key)
            if row is None:
                raise self._no_such(connection, key)
            if row.state not in allowed:
                raise NotAllowed(key, row.state, _refusal(row, action))
            values, why = change(row)
            statement = update(deliveries).where(_D.key == key, _D.state == row.state)
            connection.execute(statement.values(state=to_state, updated_utc=now, **values))
            line = _record(key, now, row.state, to_state, why, by, cause)
            connection.execute(ADD_HISTORY, line)
            moved = self._fetch(connection, key)
        assert moved is not None
        return moved

    def retry(self, key: str, by: str, now: datetime) -> Row:
        def change(row: Row) -> tuple[Mapping[str, Any], str]:
            if row.state == State.SENT and row.error_class != ErrorClass.IDENTITY:
                raise NotAllowed(key, row.state, _refusal(row, "retry"))
            values: dict[str, Any] = {"attempts": 0, **_CLEARED, **_NOT_SENT}
            why = OPERATOR_RETRY
            if row.state == State.SENT:
                why += f"; it had gone out under another key, at {_where(row)}: posted again"
            if row.deadline_utc is not None and row.deadline_utc < now:
                values["deadline_utc"] = None
                why += f"; its deadline ({utc(row.deadline_utc)}) is lifted"
            return values, why

        allowed = (State.FAILED, State.UNKNOWN, State.EXPIRED, State.CANCELLED, State.SENT)
        return self._operator_move(
            key, "retry", allowed, State.PLANNED, change, by, now, Cause.OPERATOR_RETRY
        )

    def cancel(self, key: str, reason: str | None, by: str, now: datetime) -> Row:
        why = f"cancelled by an operator: {reason}" if reason else "cancelled by an operator"
        values = {**_CLEARED, "last_error": why, "error_class": ErrorClass.OPERATOR}
        allowed = (State.PLANNED, State.FAILED, State.UNKNOWN, State.EXPIRED)
        return self._operator_move(
            key, "cancel", allowed, State.CANCELLED, lambda _: (values, why), by, now
        )

    def resolve(
        self,
        key: str,
        sent: PlatformRef | None,
        by: str,
        now: datetime,
        reason: str | None = None,
        cause: Cause | None = None,
    ) -> Row:
        if sent is not None:
            why = reason or f"found sent, at {sent.url or sent.id}"
            values = {**_CLEARED, **_sent_values(sent, now)}
            target = State.SENT
        else:
            why = reason or "found not sent: planned again"
            values = dict(_CLEARED)
            target = State.PLANNED
        return self._operator_move(
            key, "resolve", (State.UNKNOWN,), target, lambda _: (values, why), by, now, cause
        )

    # --- pauses and holds

    def _control(
        self,
        campaign: str | None,
        paused: bool,
        reason: str | None,
        by: str,
        now: datetime,
        until: datetime | None = None,
    ) -> None:
        values = {"paused": paused, "reason": reason, "since": now, "by": by, "until": until}
        with self._write() as connection:
            statement = self._dialect.insert(campaign_controls).values(
                campaign=campaign or ALL, **values
            )
            connection.execute(
                statement.on_conflict_do_update(index_elements=["campaign"], set_=values)
            )

    def pause(
        self,
        campaign: str | None,
        reason: str | None,
        by: str,
        now: datetime,
        until: datetime | None = None,
    ) -> None:
        self._control(campaign, True, reason, by, now, until)

    def resume(self, campaign: str | None, by: str, now: datetime) -> None:
        self._control(campaign, False, None, by, now)

    def controls(self, now: datetime | None = None) -> list[Control]:
        query = (
            select(campaign_controls)
            .where(campaign_controls.c.paused, _PAUSE_IN_FORCE)
            .order_by(campaign_controls.c.campaign)
        )
        with self._read() as connection:
            return [
                Control(
                    None if r.campaign == ALL else r.campaign,
                    r.reason,
                    r.since,
                    r.by or "?",
                    r.until,
                )
                for r in connection.execute(query, {"now": now or datetime.now(UTC)})
            ]

    def _hold(self, connection: Connection, channel: str, reason: str, now: datetime) -> None:
        values = {"reason": reason, "since": now}
        statement = self._dialect.insert(channel_holds).values(channel=channel, **values)
        connection.execute(statement.on_conflict_do_update(index_elements=["channel"], set_=values))

    def hold_channel(self, channel: str, reason: str, now: datetime) -> None:
        with self._write() as connection:
            self._hold(connection, channel, reason, now)

    def release_channel(self, channel: str, now: datetime) -> None:
        with self._write() as connection:
            connection.execute(delete(channel_holds).where(channel_holds.c.channel == channel))

    def held_channels(self) -> dict[str, str]:
        query = select(channel_holds.c.channel, channel_holds.c.reason).order_by(
            channel_holds.c.channel
        )
        with self._read() as connection:
            return {r.channel: r.reason for r in connection.execute(query)}

    # --- blackouts

    def set_blackouts(self, safety: Safety, *, replace: bool) -> list[Window]:
        wanted = [_blackout_row(safety.campaign, w) for w in safety.windows]
        rows = [row for item in wanted for row in item]
        mine = blackouts.c.campaign == safety.campaign
        with self._write() as connection:
            before = {
                _blackout_ident(r._mapping)
                for r in connection.execute(select(blackouts).where(mine))
            }
            if replace:
                connection.execute(delete(blackouts).where(mine))
                connection.execute(
                    delete(blackout_exemptions).where(
                        blackout_exemptions.c.campaign == safety.campaign
                    )
                )
                exempt = [{"campaign": safety.campaign, "post": p} for p in safety.exempt_posts]
                if exempt:
                    connection.execute(insert(blackout_exemptions), exempt)
                fresh = rows
            else:
                fresh = [row for row in rows if _blackout_ident(row) not in before]
            if fresh:
                connection.execute(insert(blackouts), fresh)
        return [
            window
            for window, item in zip(safety.windows, wanted, strict=True)
            if any(_blackout_ident(row) not in before for row in item)
        ]

    def blackouts(self) -> dict[str, Safety]:
        with self._read() as connection:
            found = connection.execute(select(blackouts).order_by(blackouts.c.id)).all()
            exempt = connection.execute(select(blackout_exemptions)).all()
        windows: dict[tuple[Any, ...], Window] = {}
        for r in found:
            ident = (r.campaign, r.start_utc, r.end_utc, r.policy, r.reason, r.source)
            known = windows.get(ident)
            channels = None if r.channel is None else frozenset([r.channel])
            if known is not None and known.channels is not None and channels is not None:
                channels = known.channels | channels
            elif known is not None:
                channels = None
            file, line, col = r.source.rsplit(":", 2)
            where = Location(file, int(line), int(col))
            windows[ident] = Window(r.start_utc, r.end_utc, r.reason, channels, where, r.policy)
        result: dict[str, Safety] = {}
        for (campaign, *_), window in windows.items():
            known_safety = result.get(campaign)
            before = known_safety.windows if known_safety else ()
            result[campaign] = Safety(campaign, (*before, window), frozenset())
        for r in exempt:
            known_safety = result.get(r.campaign) or Safety(r.campaign, (), frozenset())
            result[r.campaign] = Safety(
                r.campaign, known_safety.windows, known_safety.exempt_posts | {r.post}
            )
        return result

    def settle_blackouts(self, now: datetime) -> list[tuple[str, State, str]]:
        safety = {c: s for c, s in self.blackouts().items() if s.windows}
        if not safety:
            return []
        skips = [w for s in safety.values() for w in s.windows if w.then == "skip"]
        settles = _D.deadline_utc < now  # only these, or rows planned inside a `skip` blackout
        if skips:
            first, last = min(w.start for w in skips), max(w.end for w in skips)
            settles = or_(settles, and_(_D.due_utc >= first, _D.due_utc < last))
        query = (
            select(_D.key, _D.campaign, _D.post, _D.channel, _D.due_utc, _D.deadline_utc)
            .where(
                _D.state == State.PLANNED,
                _D.due_utc <= now,
                _D.campaign.in_(sorted(safety)),
                settles,
            )
            .with_for_update(skip_locked=True)
        )
        moves: list[Move] = []
        with self._write() as connection:
            for row in connection.execute(query):
                found = safety[row.campaign]
                if row.post in found.exempt_posts:
                    continue
                move = _blackout_settlement(found.windows, row, now)
                if move is not None:
                    moves.append(Move(row.key, State.PLANNED, *move))
            self._settle(connection, moves, now)
        return [(move.key, move.to, move.why) for move in moves]

    def blackout_ends(self, now: datetime, horizon: timedelta) -> list[Alarm]:
        query = (
            select(blackouts.c.id, blackouts.c.end_utc, _D.channel)
            .distinct()
            .join(deliveries, _D.campaign == blackouts.c.campaign)
            .where(
                blackouts.c.end_utc > now,
                blackouts.c.end_utc <= now + horizon,
                or_(blackouts.c.channel.is_(None), blackouts.c.channel == _D.channel),
                _D.state == State.PLANNED,
                _D.due_utc < blackouts.c.end_utc,
            )
        )
        with self._read() as connection:
            return sorted(
                Alarm(f"@blackout-end/{r.id}/{r.channel}", r.channel, r.end_utc)
                for r in connection.execute(query)
            )

    # --- daemons and anchors

    def beat(
        self, process: str, started: datetime, now: datetime, stale: datetime, dry_run: bool
    ) -> None:
        values = {"started_utc": started, "beat_utc": now, "stale_utc": stale, "dry_run": dry_run}
        with self._write() as connection:
            statement = self._dialect.insert(daemons).values(process=process, **values)
            connection.execute(
                statement.on_conflict_do_update(index_elements=["process"], set_=values)
            )

    def stopped(self, process: str) -> None:
        with self._write() as connection:
            connection.execute(delete(daemons).where(daemons.c.process == process))

    def daemons(self, now: datetime) -> list[Daemon]:
        query = select(daemons).where(daemons.c.stale_utc > now).order_by(daemons.c.process)
        with self._read() as connection:
            return [
                Daemon(r.process, r.started_utc, r.beat_utc, r.stale_utc, r.dry_run)
                for r in connection.execute(query)
            ]

    def now_anchors(self) -> dict[str, datetime]:
        with self._read() as connection:
            return {r.campaign: r.now_utc for r in connection.execute(select(campaign_anchors))}

    def fix_now_anchors(self, anchors: Mapping[str, datetime]) -> None:
        if not anchors:
            return
        with self._write() as connection:
            connection.execute(
                self._dialect.insert(campaign_anchors).on_conflict_do_nothing(),
                [{"campaign": c, "now_utc": when} for c, when in sorted(anchors.items())],
            )


# --- helpers -------------------------------------------------------------------------------


def _blackout_row(campaign: str, window: Window) -> list[dict[str, Any]]:
    """The ledger rows of a window: one per channel, or one for every channel."""
    where = window.where
    base = {
        "campaign": campaign,
        "start_utc": window.start,
        "end_utc": window.end,
        "policy": window.then,
        "reason": window.reason,
        "source": f"{where.file}:{where.line}:{where.col}",
    }
    channels: list[str | None] = [None]
    if window.channels is not None:
        channels = [*sorted(window.channels)]
    return [{**base, "channel": channel} for channel in channels]


def _blackout_ident(row: Mapping[str, Any] | RowMapping) -> tuple[Any, ...]:
    return tuple(row[k] for k in ("channel", "start_utc", "end_utc", "policy", "reason"))


def _blackout_settlement(
    windows: Sequence[Window], row: Any, now: datetime
) -> tuple[State, str, ErrorClass] | None:
    """(new state, reason, error class) of a due planned row a blackout settles, else None:
    cancelled if planned inside a `skip` blackout; expired if its deadline passed while a
    blackout held it."""
    from campaigns.blackouts import fate

    found = fate(windows, row.channel, row.due_utc, None)
    if found is not None and found.release is None:
        return (
            State.CANCELLED,
            f"skipped: planned inside {_named(found.window)}",
            ErrorClass.BLACKOUT,
        )
    if row.deadline_utc is None or row.deadline_utc >= now:
        return None
    for window in windows:
        if window.covers(row.channel, row.deadline_utc):
            return (
                State.EXPIRED,
                f"{past_deadline(row.deadline_utc)}: {_named(window)} held it",
                ErrorClass.DEADLINE,
            )
    return None


def _named(window: Window) -> str:
    where = f"{window.where.file}:{window.where.line}"
    return f"the blackout '{window.reason}' ({utc(window.start)} to {utc(window.end)}, {where})"


def _settlement(
    candidate: Mapping[str, Any], now: datetime
) -> tuple[State, str, ErrorClass] | None:
    """(new state, reason, error class) of a ready row that must not go out, else None."""
    deadline, parent_state = candidate["deadline_utc"], candidate["parent_state"]
    if deadline is not None and deadline < now:
        return State.EXPIRED, past_deadline(deadline), ErrorClass.DEADLINE
    if candidate["parent_key"] is not None and parent_state != State.SENT:
        return State.FAILED, _broken_thread(parent_state), ErrorClass.THREAD
    return None


def _broken_thread(parent_state: str | None) -> str:
    if parent_state is None:
        return "the previous part of the thread is not in the ledger: not posted"
    return f"the previous part of the thread is {parent_state}, so this part cannot follow it"


def _plan_values(delivery: Delivery, fingerprint: str) -> dict[str, Any]:
    return {
        "post": delivery.post,
        "platform": delivery.platform,
        "due_utc": delivery.due_utc,
        "deadline_utc": delivery.deadline_utc,
        "parent_key": delivery.parent_key,
        "payload": codec.encode(delivery),
        "content_hash": delivery.content_hash,
        "plan_hash": fingerprint,
        "source_file": delivery.source_file,
    }


def _chunks(items: Sequence[Add], size: int = 1000) -> Iterator[Sequence[Add]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _added(add: Add, now: datetime) -> dict[str, Any]:
    """The row sync inserts."""
    delivery = add.delivery
    row = _plan_values(delivery, add.fingerprint)
    row.update(_NOT_SENT if add.sent is None else _sent_values(add.sent, add.sent_utc or now))
    row["key"] = delivery.key
    row["campaign"] = delivery.campaign
    row["channel"] = delivery.channel
    row["state"] = add.state
    row["attempts"] = 0
    row["last_error"] = add.error
    row["error_class"] = add.error_class
    row["created_utc"] = row["updated_utc"] = now
    return row


def _sent_values(ref: PlatformRef, now: datetime) -> dict[str, Any]:
    return {
        "platform_id": ref.id,
        "platform_url": ref.url,
        "platform_ref": ref.as_json(),
        "sent_utc": now,
    }


_NOT_PAUSED: dict[str, Any] = {"paused": False, "reason": None, "since": None, "by": None}
_NOT_SENT: dict[str, Any] = {
    "platform_id": None,
    "platform_url": None,
    "platform_ref": None,
    "sent_utc": None,
}
_RELEASED = {"lease_owner": None, "lease_until": None, "claim_token": None}
_CLEARED = {**_RELEASED, "next_attempt_utc": None, "last_error": None, "error_class": None}


_FINISH_DEFAULTS: dict[str, Any] = {
    "uncounted": 0,
    "b_next_attempt": None,
    "last_error": None,
    "error_class": None,
    "platform_id": None,
    "platform_url": None,
    "platform_ref": None,
    "sent_utc": None,
}
"""FINISH's parameters where an outcome sets nothing (the next attempt then stays as it was)."""


def _finish_values(
    claim: Claim, outcome: Outcome, now: datetime
) -> tuple[State, str, dict[str, Any]]:
    """(new state, history reason, FINISH parameters) for an outcome."""
    match outcome:
        case Sent(ref, note):
            reason = f"sent: {ref.url or ref.id}" + (f" ({note})" if note else "")
            return State.SENT, reason, _sent_values(ref, now)
        case Retry(at, why, error_class):
            deadline = claim.row.deadline_utc
            if deadline is not None and at > deadline:
                reason = f"{why}; the next try ({utc(at)}) would be {past_deadline(deadline)}"
                return State.EXPIRED, reason, {"last_error": reason, "error_class": error_class}
            values = {"b_next_attempt": at, "last_error": why, "error_class": error_class}
            return State.PLANNED, f"will try again at {utc(at)}: {why}", values
        case Failed(why, error_class) | Unknown(why, error_class):
            state = State.FAILED if isinstance(outcome, Failed) else State.UNKNOWN
            return state, why, {"last_error": why, "error_class": error_class}
        case Released(why):
            return State.PLANNED, f"not sent: {why}", {"last_error": why, "uncounted": 1}
        case Held(why):
            reason = f"channel held until its credentials work again: {why}"
            return (
                State.PLANNED,
                reason,
                {"last_error": why, "error_class": ErrorClass.AUTH, "uncounted": 1},
            )
    raise TypeError(f"not an outcome: {outcome!r}")


_DONE = {"retry": "retried", "cancel": "cancelled", "resolve": "resolved"}


def _refusal(row: Row, action: str) -> str:
    """Why an operator's `action` does not apply to the row, in the operator's words."""
    where = f" ({row.ref.url or row.ref.id})" if row.ref else ""
    if row.state == State.CLAIMED:
        return (
            f"{row.key} is being published right now (by {row.lease_owner}); "
            "wait for the result and try again"
        )
    if action == "resolve":
        return (
            f"{row.key} is {row.state}{where}, not unknown: only a delivery whose outcome is "
            "unknown needs resolving"
        )
    if row.state == State.SENT:
        return f"{row.key} was already sent{where}: it cannot be {_DONE[action]}"
    if row.state == State.PLANNED:
        return f"{row.key} is already planned, due {utc(row.due_utc)}"
    return f"{row.key} is already {row.state}"


def _late_sent(row: Row, ref: PlatformRef, owner: str) -> LateSent:
    """What a post that went out on a lost claim makes of the row as it is now."""
    if row.state == State.CLAIMED:
        return LateSent(row.state, True, other_owner=row.lease_owner)
    if row.state == State.UNKNOWN or (row.state == State.PLANNED and row.lease_owner is None):
        return LateSent(row.state, True)
    if row.state == State.SENT and not _same_post(row.ref, ref):
        return LateSent(row.state, False, other_ref=row.ref)
    return LateSent(row.state, False)


def _same_post(recorded: PlatformRef | None, ref: PlatformRef) -> bool:
    """Whether the post recorded (by a look-up, or an operator who may give only its URL) is
    this one."""
    if recorded is None:
        return False
    return recorded.id == ref.id or (recorded.url is not None and recorded.url == ref.url)


def _late_reason(late: LateSent, ref: PlatformRef) -> str:
    url = ref.url or ref.id
    said = f"the answer came after its claim ran out: it went out, at {url}"
    if late.other_owner is not None:
        return f"{said}; the claim of {late.other_owner} ends here, before it sends it"
    if late.recorded:
        return f"{said} (it was {late.found})"
    if late.other_ref is not None:
        other = late.other_ref.url or late.other_ref.id
        return f"{said}: posted twice, at {other} and {url}; delete one of them"
    if late.found == State.SENT:
        return f"{said}, as recorded"
    return f"{said}, though it is {late.found}: delete that post if it must not be out"


def _where(row: Row) -> str:
    return "?" if row.ref is None else row.ref.url or row.ref.id


def _ref(data: Mapping[str, Any] | None) -> PlatformRef | None:
    return None if data is None else PlatformRef.from_json(data)


def _row(r: Mapping[Any, Any]) -> Row:
    return Row(
        key=r["key"],
        campaign=r["campaign"],
        post=r["post"],
        channel=r["channel"],
        platform=r["platform"],
        state=State(r["state"]),
        due_utc=r["due_utc"],
        deadline_utc=r["deadline_utc"],
        delivery=codec.decode(r["payload"]),
        source_file=r["source_file"],
        content_hash=r["content_hash"],
        attempts=r["attempts"],
        next_attempt_utc=r["next_attempt_utc"],
        ref=_ref(r["platform_ref"]),
        last_error=r["last_error"],
        error_class=ErrorClass(r["error_class"]) if r["error_class"] else None,
        updated_utc=r["updated_utc"],
        sent_utc=r["sent_utc"],
        lease_owner=r["lease_owner"],
        lease_until=r["lease_until"],
    )
