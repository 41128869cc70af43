"""The sync rules: what the plan changes in the ledger (the contract: `Ledger.sync`).

Pure: the rows the ledger holds and the plan in, the work to apply out (`plan_sync`). The
ledger reads what these functions ask for, applies the work in one transaction, and decides
nothing itself:
- a delivery new to the ledger is added, planned (expired if its deadline has passed), unless
  it went out (or may have) under another key before a rename (`match_went_out`): then it is
  recorded sent, or cancelled while the other's outcome is unknown;
- a claimed, sent or unknown row is never touched: an edit to what the audience sees is
  reported;
- any other row takes the plan's new version and keeps its state, but for a planned row moved
  past its deadline (expired), an expired one moved ahead, or one sync cancelled itself whose
  post is back (planned again);
- a planned row whose key left the plan, or whose post became a draft, is cancelled;
- a recurring post's occurrence renamed (it recurs more or less often on its date) is the
  same row, found by its instant (`renamed_occurrences`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from campaigns.delivery import Delivery, DeliveryKey
from connectors.base import PlatformRef
from scheduler.ledger import codec
from scheduler.ledger.api import ErrorClass, Row, State, SyncReport

SETTLED_BY_SYNC = ErrorClass.REMOVED_FROM_PLAN, ErrorClass.DRAFT
"""`error_class` of rows that sync cancelled itself: they come back when their post does."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of this daemon's clock another daemon's may be: a row due that much later
may already have been claimed."""
GONE_OUT = (State.SENT, State.CLAIMED, State.UNKNOWN)
"""States of a row that went out, or may have: sync never touches it."""


class Stored(Protocol):
    """What sync reads of a row the ledger holds."""

    @property
    def key(self) -> str: ...
    @property
    def campaign(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def plan_hash(self) -> str: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def error_class(self) -> str | None: ...


class StoredAt(Stored, Protocol):
    """A stored row with its instant: what a renamed occurrence is recognised by."""

    @property
    def due_utc(self) -> datetime: ...


# --- the work ------------------------------------------------------------------------------
# Named tuples: a sync makes one per delivery of the plan, and they cost a quarter of what a
# frozen dataclass does to build.


class Add(NamedTuple):
    """A row to insert for a delivery new to the ledger, with its first history line."""

    delivery: Delivery
    fingerprint: str
    state: State
    why: str
    """The history line."""
    error: str | None = None
    """Why it is in its state, for an operator (`Row.last_error`)."""
    error_class: ErrorClass | None = None
    sent: PlatformRef | None = None
    sent_utc: datetime | None = None


class Refresh(NamedTuple):
    """Store the plan's new version of a row that has not gone out (seen in state `seen`)."""

    delivery: Delivery
    fingerprint: str
    seen: State


class Move(NamedTuple):
    """A row moved from the state it was seen in to another, with the reason; a move back to
    planned clears the row's error."""

    key: str
    seen: State
    to: State
    why: str
    error_class: ErrorClass | None


class Note(NamedTuple):
    """A history line for a row whose state stays as it is."""

    key: str
    state: State
    why: str


@dataclass(frozen=True, slots=True)
class SyncWork:
    """What a sync changes, in the order the ledger applies it: adds, refreshes, moves (each
    with its history line), then the notes."""

    adds: list[Add]
    refreshes: list[Refresh]
    moves: list[Move]
    notes: list[Note]
    report: SyncReport

    def touched(self) -> dict[str, State]:
        """Rows this sync would change, with the state each was seen in."""
        seen = {item.delivery.key: item.seen for item in self.refreshes}
        return seen | {move.key: move.seen for move in self.moves}

    def without(self, keys: Collection[str]) -> SyncWork:
        """The work but for the rows in `keys` (they moved on since they were read)."""
        if not keys:
            return self
        found = self.report

        def kept(listed: list[str]) -> list[str]:
            return [key for key in listed if key not in keys]

        return SyncWork(
            self.adds,
            [item for item in self.refreshes if item.delivery.key not in keys],
            [move for move in self.moves if move.key not in keys],
            [note for note in self.notes if note.key not in keys],
            replace(
                found,
                added=kept(found.added),
                updated=kept(found.updated),
                cancelled=kept(found.cancelled),
                expired=kept(found.expired),
            ),
        )


# --- the rules -----------------------------------------------------------------------------


def by_key(deliveries: Iterable[Delivery]) -> dict[str, Delivery]:
    """The plan by delivery key; ValueError if two deliveries share one (a plan bug)."""
    plan: dict[str, Delivery] = {}
    for delivery in deliveries:
        if delivery.key in plan:
            raise ValueError(f"two deliveries share the key {delivery.key}")
        plan[delivery.key] = delivery
    return plan


def renamed_candidates(plan: Mapping[str, Delivery], existing: Mapping[str, Stored]) -> list[str]:
    """Keys of recurring rows gone from the plan that may be a new key's renamed occurrence
    (for the ledger to read with their instants): none unless a recurring key is new."""
    new = [key for key in plan if key not in existing and "@" in key]
    gone = [key for key in existing if key not in plan and "@" in key]
    return gone if new and gone else []


Occurrences = Mapping[tuple[DeliveryKey, datetime], StoredAt]


def renamed_occurrences(rows: Iterable[StoredAt]) -> dict[tuple[DeliveryKey, datetime], StoredAt]:
    """Rows that went out (or may have), by occurrence: a new key of the same post, variant
    and channel at the same instant is that row, never a new post.

    A recurring post's key names its occurrence by local date, adding the time only when the
    post recurs more than once that day; making it recur more or less often renames its
    occurrences, but not their instants.
    """
    return {
        (DeliveryKey.parse(row.key).series, row.due_utc): row
        for row in rows
        if State(row.state) in GONE_OUT
    }


def _row_of(
    delivery: Delivery, existing: Mapping[str, Stored], renamed: Occurrences
) -> Stored | None:
    found = existing.get(delivery.key)
    if found is None and renamed:
        return renamed.get((DeliveryKey.parse(delivery.key).series, delivery.due_utc))
    return found


def fresh(
    plan: Mapping[str, Delivery], existing: Mapping[str, Stored], renamed: Occurrences
) -> list[Delivery]:
    """The plan's deliveries that have no row yet (drafts aside): those that may have gone
    out under another key."""
    return [
        d for d in plan.values() if d.status != "draft" and _row_of(d, existing, renamed) is None
    ]


def due_by(deliveries: Sequence[Delivery], now: datetime) -> list[Delivery]:
    """Of new deliveries, those that may have gone out under another key: only a delivery
    due by now can be one, as nothing is claimed before it is due (give or take the clocks
    of other daemons)."""
    return [d for d in deliveries if d.due_utc <= now + CLOCK_SKEW]


def match_went_out(
    due: Sequence[Delivery], plan: Mapping[str, Delivery], candidates: Iterable[Row]
) -> dict[str, Row]:
    """Of `due` (new deliveries, `due_by` now), those that went out under another key, with
    the row each went out as (the rule: `Ledger.went_out_as`). `candidates`: rows that went
    out (or may have) at the deliveries' instants on their platforms."""
    slots: dict[tuple[str, datetime], list[Row]] = {}
    for row in candidates:
        if row.key not in plan:
            slots.setdefault((row.platform, row.due_utc), []).append(row)
    matched: dict[str, Row] = {}
    for delivery in sorted(due, key=lambda d: d.key):
        rows = slots.get((delivery.platform, delivery.due_utc))
        if not rows:
            continue
        best = min(rows, key=lambda row: _distance(delivery, row))
        if best.content_hash == delivery.content_hash or renamed_parts(delivery.key, best.key) <= 1:
            rows.remove(best)
            matched[delivery.key] = best
    return matched


def plan_sync(
    plan: Mapping[str, Delivery],
    existing: Mapping[str, Stored],
    renamed: Occurrences,
    went_out: Mapping[str, Row],
    now: datetime,
) -> SyncWork:
    """The work that makes the ledger's rows (`existing`, with the `renamed` occurrences)
    match the plan; `went_out`: the new keys that went out under another (`match_went_out`)."""
    work = _Builder(now)
    new: list[Delivery] = []
    for delivery in plan.values():
        row = _row_of(delivery, existing, renamed)
        if row is None and delivery.status != "draft":
            new.append(delivery)
        else:
            work.sync_one(delivery, row)
    for delivery in new:
        if delivery.key in went_out:
            work.add_gone_out(delivery, went_out[delivery.key])
        else:
            work.sync_one(delivery, None)
    for key, row in existing.items():
        if key not in plan and row.state == State.PLANNED:
            work.cancel(key, "removed from the plan", ErrorClass.REMOVED_FROM_PLAN)
    return work.done()


@dataclass
class _Builder:
    now: datetime
    adds: list[Add] = field(default_factory=list)
    refreshes: list[Refresh] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    report: SyncReport = field(default_factory=SyncReport)
    """What the sync found, but for the count of unchanged rows (the report is frozen)."""
    unchanged: int = 0

    def done(self) -> SyncWork:
        report = replace(self.report, unchanged=self.unchanged)
        return SyncWork(self.adds, self.refreshes, self.moves, self.notes, report)

    def cancel(self, key: str, why: str, error_class: ErrorClass) -> None:
        self.moves.append(Move(key, State.PLANNED, State.CANCELLED, why, error_class))
        self.report.cancelled.append(key)

    def sync_one(self, delivery: Delivery, row: Stored | None) -> None:
        key = delivery.key
        state = None if row is None else State(row.state)
        if delivery.status == "draft":
            if state == State.PLANNED:
                self.cancel(key, f"the post is a draft again ({delivery.source})", ErrorClass.DRAFT)
            return
        deadline = delivery.deadline_utc
        target = State.EXPIRED if deadline is not None and deadline < self.now else State.PLANNED
        if row is None or state is None:
            self._add(delivery, codec.fingerprint(delivery), target)
            return
        if state in GONE_OUT:
            if delivery.content_hash != row.content_hash:
                self.report.edited_after_sending.append(key)
            else:
                self.unchanged += 1
            return
        fingerprint = codec.fingerprint(delivery)
        revive = state == State.CANCELLED and row.error_class in SETTLED_BY_SYNC
        if row.plan_hash == fingerprint and not revive:
            self.unchanged += 1
            return
        self.refreshes.append(Refresh(delivery, fingerprint, state))
        if not revive and codec.same_delivery(row.plan_hash, delivery, fingerprint):
            # Read from another path (another daemon's, or the file moved): the stored
            # payload follows, so that media are read where they are now; no change to report.
            self.unchanged += 1
            return
        if state not in (State.PLANNED, State.EXPIRED) and not revive:
            target = state  # failed, or cancelled by an operator: new payload, same state
        if target != state:
            why = (
                f"back in the plan ({delivery.source})"
                if target == State.PLANNED
                else f"changed in the plan ({delivery.source}), {past_deadline(deadline)}"
            )
            self.moves.append(Move(key, state, target, why, ErrorClass.DEADLINE))
        else:
            self.notes.append(Note(key, state, f"changed in the plan ({delivery.source})"))
        if target == State.EXPIRED:
            self.report.expired.append(key)
        else:
            (self.report.added if revive else self.report.updated).append(key)

    def _add(self, delivery: Delivery, fingerprint: str, target: State) -> None:
        why = f"added from the plan ({delivery.source})"
        if target == State.EXPIRED:
            error = past_deadline(delivery.deadline_utc)
            self.adds.append(
                Add(delivery, fingerprint, target, f"{why}, {error}", error, ErrorClass.DEADLINE)
            )
            self.report.expired.append(delivery.key)
        else:
            self.adds.append(Add(delivery, fingerprint, target, why))
            self.report.added.append(delivery.key)

    def add_gone_out(self, delivery: Delivery, earlier: Row) -> None:
        """Store a new key that went out (or may have) as `earlier`: sent, as that one was,
        or cancelled while that one's outcome is unknown; an operator's retry posts it."""
        key = delivery.key
        where = f" at {earlier.ref.url or earlier.ref.id}" if earlier.ref else ""
        edited = "" if delivery.content_hash == earlier.content_hash else ", with other words,"
        before = f"before {renaming(earlier.key, key)}"
        sent = earlier.ref if earlier.state == State.SENT else None
        if sent is not None:
            state, sent_utc = State.SENT, earlier.sent_utc or self.now
            why = (
                f"already went out{edited} as {earlier.key}{where} {before}: recorded as sent, "
                f"not posted again (`clarion retry {key} --force` posts it again)"
            )
        else:
            state, sent_utc = State.CANCELLED, None
            why = (
                f"may have gone out{edited} as {earlier.key} ({earlier.state}) {before}: not "
                f"posted; once that one is settled, `clarion retry {key} --force` posts this "
                "one if it did not go out"
            )
        fingerprint = codec.fingerprint(delivery)
        history = f"{why} ({delivery.source})"
        self.adds.append(
            Add(delivery, fingerprint, state, history, why, ErrorClass.IDENTITY, sent, sent_utc)
        )
        self.report.went_out_as[key] = earlier.key


# --- renames -------------------------------------------------------------------------------


def renamed_parts(new: str, old: str) -> int:
    """In how many parts two delivery keys differ."""
    a, b = DeliveryKey.parse(new).named(), DeliveryKey.parse(old).named()
    return sum(x != y for x, y in zip(a, b, strict=False)) + abs(len(a) - len(b))


def _distance(delivery: Delivery, row: Row) -> tuple[bool, int, str]:
    """How far a row that went out is from being this delivery: same content first, then
    fewest renamed parts (ties broken by key, so the choice is the same on every run)."""
    return (
        row.content_hash != delivery.content_hash,
        renamed_parts(delivery.key, row.key),
        row.key,
    )


def renaming(old: str, new: str) -> str:
    """What changed between two keys, in words: "its campaign c1 became c2"."""
    changes = [
        f"{name} {x} became {y}"
        for (name, x), (_, y) in zip(
            DeliveryKey.parse(old).named(), DeliveryKey.parse(new).named(), strict=False
        )
        if x != y
    ]
    return "its " + ", ".join(changes) if changes else "its key changed"


def renamed_campaigns(went_out_as: Mapping[str, str]) -> dict[str, str]:
    """New campaign id -> old, for the campaigns renamed as the keys that went out show."""
    renamed = {
        DeliveryKey.parse(new).campaign: DeliveryKey.parse(old).campaign
        for new, old in went_out_as.items()
    }
    return {new: old for new, old in renamed.items() if new != old}


# --- words ---------------------------------------------------------------------------------


def utc(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def past_deadline(deadline: datetime | None) -> str:
    return f"past its deadline ({utc(deadline)}): not posted" if deadline else "past its deadline"
