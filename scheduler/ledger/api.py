"""The ledger's contract: the one place that knows which delivery is in which state.

Every state change goes through these methods, each in its own short transaction, and each
writes a history row (when, which process, why). `scheduler.ledger.sql` implements it for
SQLite and PostgreSQL with one schema.

States:   planned ──claim──▶ claimed ──finish──▶ sent | planned (retry) | failed | unknown
          planned ──sync (post removed)──▶ cancelled;  planned ──deadline passed──▶ expired
          claimed ──lease expired, or its daemon stopped──▶ unknown
                    (never back to planned: it may have gone out)
          unknown ──reconcile / resolve──▶ sent | planned
          unknown | planned | claimed (by another) ──a lost claim's post went out──▶ sent
          failed | unknown | expired | cancelled ──operator retry──▶ planned
          planned | failed | unknown | expired ──operator cancel──▶ cancelled

Every `now` and every datetime handed in must be timezone-aware; the ledger stores UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple, Protocol

from campaigns.blackouts import Safety, Window
from campaigns.delivery import Delivery
from connectors.base import PlatformRef

if TYPE_CHECKING:
    from scheduler.ratebudget import Rate


class State(StrEnum):
    PLANNED = "planned"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class ErrorClass(StrEnum):
    """Why a delivery is in its state, for counting and alerting (`Row.error_class`, the
    `error_class` label of `clarion_errors_total`); stored as its value."""

    RETRY_LATER = "retry-later"
    """The platform asked to wait (a rate limit, a passing failure)."""
    REJECTED = "rejected"
    """The platform refused the post for good."""
    AMBIGUOUS = "ambiguous"
    """The answer was lost: it may have gone out."""
    DUPLICATE = "duplicate"
    """The platform called it a duplicate without naming the post."""
    ERROR = "error"
    """Any other error the connector reported: it may have gone out."""
    CRASH = "crash"
    """The connector failed unexpectedly: it may have gone out."""
    MEDIA = "media"
    """A media file is missing."""
    AUTH = "auth"
    """The channel's credentials do not work: it is held."""
    LEASE = "lease"
    """A claim abandoned mid-publish: its lease ran out, or its daemon stopped."""
    WINDOW = "window"
    """Not sent again: the platform would no longer recognise the repeat."""
    DEADLINE = "deadline"
    """Past its deadline."""
    THREAD = "thread"
    """The previous part of its thread did not go out."""
    BLACKOUT = "blackout"
    """Cancelled: planned inside a blackout whose posts are skipped."""
    OPERATOR = "operator"
    """Settled by an operator (`clarion retry`, `cancel`, `resolve`)."""
    REMOVED_FROM_PLAN = "removed-from-plan"
    """Cancelled by sync: its post left the campaign file (it comes back with the post)."""
    DRAFT = "draft"
    """Cancelled by sync: its post became a draft again (it comes back once approved)."""
    IDENTITY = "identity"
    """Went out (or may have) under another key before its campaign, post, audience,
    language or channel was renamed: recorded, not posted again."""


class Alarm(NamedTuple):
    """When to wake a channel: for a planned delivery, or at the end of a blackout."""

    key: str
    """The delivery key, or the blackout end's own id (`@blackout-end/...`)."""
    channel: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Row:
    """A delivery as the ledger holds it."""

    key: str
    campaign: str
    post: str
    channel: str
    platform: str
    state: State
    due_utc: datetime
    deadline_utc: datetime | None
    """The deadline in force: the plan's, unless an operator lifted it with `retry`."""
    delivery: Delivery
    """The rendered payload, as planned (text, media, link, thread parent)."""
    source_file: str
    """The campaign file it was last read from (`delivery.source_file`, as a column)."""
    content_hash: str
    attempts: int
    next_attempt_utc: datetime | None
    """Not before this instant (retry back-off, the platform's reset time)."""
    ref: PlatformRef | None
    """Where it went out, once sent."""
    last_error: str | None
    """Why it is in its state, for an operator (also kept while a retry waits)."""
    error_class: ErrorClass | None
    updated_utc: datetime
    sent_utc: datetime | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """Proof that this process may publish `row` now; `token` fences the result."""

    row: Row
    token: str
    owner: str
    lease_until: datetime
    parent: PlatformRef | None = None
    """The platform reference of the previous thread part (already sent), if any."""
    root: PlatformRef | None = None
    """The platform reference of the thread's first part, if this is a later part."""


@dataclass(frozen=True, slots=True)
class Sent:
    ref: PlatformRef
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Retry:
    at: datetime
    reason: str
    error_class: ErrorClass


@dataclass(frozen=True, slots=True)
class Failed:
    reason: str
    error_class: ErrorClass


@dataclass(frozen=True, slots=True)
class Unknown:
    reason: str
    error_class: ErrorClass


@dataclass(frozen=True, slots=True)
class Held:
    """Credentials broken: the delivery goes back to planned untouched and its channel is
    held; no attempt is counted."""

    reason: str


@dataclass(frozen=True, slots=True)
class Released:
    """Claimed ahead of its due time and not sent (its campaign was paused meanwhile, or the
    daemon stopped): planned again untouched; no attempt is counted."""

    reason: str


Outcome = Sent | Retry | Failed | Unknown | Held | Released


@dataclass(frozen=True, slots=True)
class LateSent:
    """What became of a post that went out after its claim was lost (`Ledger.late_sent`)."""

    found: State
    """The delivery's state when the answer came."""
    recorded: bool
    """True: the delivery is now sent with this post's reference; False: only its history
    says it went out (it was sent by someone else, cancelled, expired, failed)."""
    other_owner: str | None = None
    """The process whose claim on it the answer ended (`found` is claimed)."""
    other_ref: PlatformRef | None = None
    """The post already recorded for it (`found` is sent): it went out twice."""


@dataclass(frozen=True, slots=True)
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    edited_after_sending: list[str] = field(default_factory=list)
    """Sent (or claimed, or unknown) deliveries whose YAML changed afterwards: reported only."""
    expired: list[str] = field(default_factory=list)
    """New or changed deliveries whose deadline had already passed."""
    went_out_as: dict[str, str] = field(default_factory=dict)
    """New keys of deliveries that already went out (or may have) under another key, with
    that key: recorded as sent (or held, cancelled, while the other is unknown), never posted
    again without an operator's `retry` (see `Ledger.went_out_as`)."""
    unchanged: int = 0


class Cause(StrEnum):
    """What a step of a delivery's history was, where the rules read it back (its reason is
    for people)."""

    REPEAT = "repeat"
    """Planned again because the platform recognises a repeat: nothing shows that the earlier
    attempt did not go out (`scheduler.repeats`)."""
    OPERATOR_RETRY = "operator-retry"
    """An operator's `clarion retry`: sent again whatever happened before."""


@dataclass(frozen=True, slots=True)
class Transition:
    """One line of a delivery's history."""

    key: str
    at: datetime
    from_state: State | None
    """None when the delivery was first stored."""
    to_state: State
    process: str
    """Who made the change: `host:pid` of a daemon, `user@host:pid` of an operator."""
    reason: str | None
    cause: Cause | None = None


@dataclass(frozen=True, slots=True)
class Control:
    """A paused campaign, or everything (`campaign` None)."""

    campaign: str | None
    reason: str | None
    since: datetime
    by: str
    until: datetime | None = None
    """The pause lifts itself at this instant (`clarion pause --until`)."""


@dataclass(frozen=True, slots=True)
class Daemon:
    """A daemon that beats on this ledger."""

    process: str
    started: datetime
    beat: datetime
    stale: datetime
    """Past this instant without a new beat, it is taken as stopped."""
    dry_run: bool


OPERATOR_RETRY = "retry asked by an operator"
"""How the history line of an operator's `retry` begins."""


class LedgerError(Exception):
    """Base of the ledger's own errors; the message is written for an operator."""


class LedgerUnavailable(LedgerError):
    """The ledger cannot be opened or reached (no file yet, server down, newer schema)."""


class LedgerBusy(LedgerError):
    """Another daemon already runs on this SQLite ledger."""


class NoSuchDelivery(LedgerError):
    def __init__(self, key: str, suggestions: Sequence[str] = ()) -> None:
        super().__init__(f"no delivery with key '{key}'")
        self.key = key
        self.suggestions = list(suggestions)


class NotAllowed(LedgerError):
    """The delivery's state does not allow this change (it moved on, or never could)."""

    def __init__(self, key: str, state: State, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.state = state


OnSettled = Callable[[str, State, str], None]
"""Told (key, new state, reason) of each row a claim settled on its way: expired, or failed
because an earlier thread part will never go out."""


class Ledger(Protocol):
    def sync(
        self,
        deliveries: Sequence[Delivery],
        now: datetime,
        *,
        campaigns: Collection[str] | None = None,
    ) -> SyncReport:
        """Make the planned state match the plans, in one transaction.

        An upsert keyed by delivery key: never touches claimed, sent or unknown rows
        (reports content edits to them); a failed, expired or cancelled row gets the new
        payload but keeps its state, except that a row sync cancelled comes back when its
        post does, and an expired row moved to a time still ahead is planned again. Cancels
        only planned rows whose key is gone; drafts are not stored (a planned row whose post
        became a draft is cancelled). A new key that went out under another key
        (`went_out_as`) is stored sent, or cancelled while the other is unknown or claimed,
        never planned. A delivery read from another path (its `source`, its media's paths)
        is no change: only the stored payload follows.

        `deliveries` is the whole plan of the campaigns it covers: `campaigns` names them,
        and by default (None) it is every campaign, so the planned rows of a campaign that
        is absent altogether are cancelled. A caller whose campaign file now has errors
        passes that campaign's last good deliveries, never nothing.
        """
        ...

    def went_out_as(self, deliveries: Sequence[Delivery], now: datetime) -> dict[str, Row]:
        """Of the deliveries not in the ledger yet, those that already went out (or may
        have: claimed, unknown) under another key, with the row they went out as.

        A key changes when a campaign id, post id, audience, language or channel is renamed.
        A new key is the same post as a row that went out when that row's key is no longer in
        `deliveries`, it was due at the same instant on the same platform, and either the
        audience sees the same content or the two keys differ in one part only (a rename,
        with the words edited too). Sync records such a delivery as it stands rather than
        posting it again; `clarion validate` warns of it.
        """
        ...

    def alarms(self, now: datetime, horizon: timedelta) -> list[Alarm]:
        """An alarm for each planned row due before now + horizon, in due order; it rings at
        the later of due and next attempt."""
        ...

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
        """Claim the channel's earliest due, claimable row, in its own committed transaction.

        With `ahead`, a row due (or whose next attempt comes) within that time from now may
        be claimed early; one that a blackout will hold at that instant is not.

        Skips paused campaigns and held channels (checked inside the transaction), rows whose
        next attempt is later, and thread parts whose parent is not sent yet; expires rows past
        their deadline on the way, and fails thread parts whose parent failed, was cancelled
        or expired. PostgreSQL uses FOR UPDATE SKIP LOCKED.

        With `rate`, claims only if the channel's budget, shared by every daemon on the ledger,
        allows a post now (else None: `rate_wait` says how long), and counts the claim in it.
        """
        ...

    def rate_wait(self, channel: str, rate: Rate, now: datetime) -> timedelta:
        """How long the channel's next post must wait for its shared rate budget; zero: now."""
        ...

    def renew(self, claim: Claim, lease: timedelta, now: datetime) -> datetime | None:
        """Extend the claim's lease to now + lease, only if the claim is still ours and its
        lease has not run out; the new end of the lease, or None if the claim is lost."""
        ...

    def holds(self, claim: Claim) -> bool:
        """Whether the claim is still ours (a read: its lease is not checked)."""
        ...

    def due_channels(self, now: datetime) -> list[str]:
        """Channels that have at least one row due now (for the sweeper)."""
        ...

    def finish(self, claim: Claim, outcome: Outcome, now: datetime) -> bool:
        """Record the outcome only if the claim is still ours (fenced); False if it was not."""
        ...

    def late_sent(self, claim: Claim, sent: Sent, now: datetime) -> LateSent:
        """A post went out on a claim `finish` found lost: a fact, never thrown away. In one
        transaction: an unknown delivery, a planned one no one has claimed, or one another
        process holds a claim on (whose claim ends: its last check before sending refuses)
        becomes sent with this reference; any other state keeps its state and gets a history
        line naming the post. Other outcomes of a lost claim stay refused (docs/design.md
        rule 4)."""
        ...

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
        """`finish`, then `claim` the channel's next row for the same owner, in one
        transaction: one commit (on SQLite one flush to disk) per delivery instead of two.
        Returns (what `finish` returns, what `claim` returns)."""
        ...

    def expire_leases(self, now: datetime) -> list[str]:
        """Claimed rows whose lease ran out become unknown; returns their keys."""
        ...

    def recover_claims(self, owner: str, now: datetime) -> list[str]:
        """At a daemon's start, settle the claims a stopped daemon left: they become unknown
        at once; returns their keys.

        On SQLite, under the daemon lock, every claim but `owner`'s: the lock proves that no
        other daemon runs, so they belong to one that stopped mid-publish and need not wait
        for their lease. On PostgreSQL none: other daemons sharing the ledger may be
        publishing those rows right now, so only a lease tells (`expire_leases`).
        """
        ...

    def expire_overdue(self, now: datetime) -> list[str]:
        """Planned rows past their deadline become expired; returns their keys."""
        ...

    def get(self, key: str) -> Row | None: ...

    def find(self, key: str) -> Row:
        """The delivery, or NoSuchDelivery naming the closest keys."""
        ...

    def rows(
        self,
        campaign: str | None = None,
        states: Sequence[State] = (),
        *,
        channel: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
        error_class: ErrorClass | None = None,
    ) -> list[Row]:
        """In due order, or most recently changed first."""
        ...

    def counts(self, campaign: str | None = None) -> dict[State, int]:
        """Deliveries per state (every state present, zero included)."""
        ...

    def keys(self, campaign: str | None = None) -> list[str]: ...

    def campaigns(self) -> list[str]: ...

    def history(self, key: str) -> list[Transition]:
        """Oldest first. Raises NoSuchDelivery (with close matches)."""
        ...

    def thread_refs(self, key: str) -> tuple[PlatformRef | None, PlatformRef | None]:
        """(parent, root) platform references of a thread part, as a claim carries them."""
        ...

    def sent_since(self, channel: str, since: datetime) -> list[datetime]:
        """When the channel's deliveries went out since `since`, oldest first."""
        ...

    def retry(self, key: str, by: str, now: datetime) -> Row:
        """failed, unknown, expired or cancelled -> planned, due now, attempts counted afresh;
        so is a sent row recorded under a new key after it went out under another (error
        class identity: `went_out_as`), which is then posted again.

        An expired row loses its deadline (the operator wants it out late). Raises
        NoSuchDelivery or NotAllowed.
        """
        ...

    def cancel(self, key: str, reason: str | None, by: str, now: datetime) -> Row:
        """planned, failed, unknown or expired -> cancelled; sync will not bring it back."""
        ...

    def resolve(
        self,
        key: str,
        sent: PlatformRef | None,
        by: str,
        now: datetime,
        reason: str | None = None,
        cause: Cause | None = None,
    ) -> Row:
        """Settle an unknown delivery: sent (at `sent`), or planned again to go out now
        (`cause` REPEAT when it goes out again only because the platform recognises a repeat)."""
        ...

    def pause(
        self,
        campaign: str | None,
        reason: str | None,
        by: str,
        now: datetime,
        until: datetime | None = None,
    ) -> None:
        """None pauses everything; once this returns, no claim succeeds for it (until `until`,
        when given: the pause then lifts itself)."""
        ...

    def resume(self, campaign: str | None, by: str, now: datetime) -> None: ...

    def controls(self, now: datetime | None = None) -> list[Control]:
        """What is paused at `now` (default: the present)."""
        ...

    def set_blackouts(self, safety: Safety, *, replace: bool) -> list[Window]:
        """Store a campaign's blackouts and exempt posts, for claims to respect. `replace`:
        they are the campaign's blackouts now (its file is valid); else they are added to
        those in force, and the exemptions are kept (read from a file with errors: a
        blackout is never lost, nor a new exemption trusted). Returns the windows added."""
        ...

    def blackouts(self) -> dict[str, Safety]:
        """Every campaign's blackouts in force, with its exempt posts."""
        ...

    def settle_blackouts(self, now: datetime) -> list[tuple[str, State, str]]:
        """Cancel the due planned rows planned inside a `skip` blackout, and expire those whose
        deadline passed while a blackout held them; returns (key, new state, reason)."""
        ...

    def blackout_ends(self, now: datetime, horizon: timedelta) -> list[Alarm]:
        """An alarm for each end of a blackout within the horizon that holds planned rows:
        the channel is woken then to post what waited."""
        ...

    def beat(
        self, process: str, started: datetime, now: datetime, stale: datetime, dry_run: bool
    ) -> None:
        """Record that the daemon `process` is alive at `now`."""
        ...

    def stopped(self, process: str) -> None:
        """The daemon `process` stopped cleanly."""
        ...

    def daemons(self, now: datetime) -> list[Daemon]:
        """The daemons alive at `now` (their last beat is not stale)."""
        ...

    def now_anchors(self) -> dict[str, datetime]:
        """What `now` means in each campaign's file, fixed when it was first loaded."""
        ...

    def fix_now_anchors(self, anchors: Mapping[str, datetime]) -> None:
        """Fix the meaning of `now` for campaigns that have none yet (others keep theirs)."""
        ...

    def hold_channel(self, channel: str, reason: str, now: datetime) -> None: ...

    def release_channel(self, channel: str, now: datetime) -> None: ...

    def held_channels(self) -> dict[str, str]: ...

    def close(self) -> None: ...
