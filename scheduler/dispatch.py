"""Claim → publish → fenced finish, one channel at a time (DESIGN rules 4 and 5).

The dispatcher turns what a connector says into a ledger outcome:

    Published                      → sent
    RetryLater                     → planned again after a back-off, never before the
                                     platform's reset time; failed once the attempts are used
    AuthFailed                     → planned untouched, and the channel is held
    Rejected                       → failed, with the platform's reason
    Duplicate naming the post      → sent (that post)
    Duplicate without it           → unknown: a weak signal is no proof
    Ambiguous, or any other error  → unknown: it may have gone out; `reconcile` settles it

`reconcile` plans an unknown delivery again directly where the platform recognises a repeat:
always with a record key derived from the delivery (Bluesky), and with a request key
(Mastodon) while the platform still remembers it: within its window, counted from the start of
the earliest attempt that may have gone out since the delivery was last shown not to be out.
Otherwise it looks the delivery up, where the platform allows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from campaigns.delivery import Delivery
from connectors.base import (
    Ambiguous,
    AuthFailed,
    Connector,
    Duplicate,
    LookupUnavailable,
    MediaFile,
    PlatformRef,
    Post,
    PublishError,
    Rejected,
    RetryLater,
)
from scheduler.config import Policies, RateBudget
from scheduler.ledger.api import (
    Claim,
    Failed,
    Held,
    Ledger,
    NotAllowed,
    Outcome,
    Retry,
    Row,
    Sent,
    State,
    Transition,
    Unknown,
)
from scheduler.ratebudget import ChannelBudget
from scheduler.retrying import Backoff

log = logging.getLogger("clarion.dispatch")

MAX_RATE_WAIT = timedelta(seconds=60)
"""Longest the dispatcher waits for a channel's rate budget within one round; a longer wait
ends the round, and the sweeper's next round picks the delivery up."""

_FINISH_TRIES = (0.0, 0.5, 2.0)

REPEAT_MARGIN = timedelta(minutes=5)
"""A repeat relying on the platform's idempotency window must reach it this long before the
window closes (the request itself takes time)."""

WINDOW_CLOSED = "window"
"""The error class of a delivery made unknown without sending anything, because the platform
would no longer recognise a repeat of an earlier attempt."""

REPEATED = "planned again: the platform recognises a repeat"
"""How the history of a delivery planned again for a repeat begins; such a step does not show
that the earlier attempt did not go out, so the window still counts from it."""


class DispatchListener(Protocol):
    """What the daemon hears from the dispatcher, for its logs and metrics."""

    def claimed(self, row: Row) -> None: ...

    def finished(
        self, row: Row, outcome: Outcome, publish_seconds: float, lateness_seconds: float
    ) -> None:
        """`lateness_seconds`: from the planned instant to the start of publishing."""

    def lost_claim(self, row: Row, outcome: Outcome) -> None:
        """The outcome could not be recorded: the lease ran out, or an operator acted."""

    def settled(self, key: str, state: State, reason: str) -> None:
        """A delivery changed state without being published: expired, failed because its
        thread broke, or reconciled (sent or planned again)."""


class _Silent:
    def claimed(self, row: Row) -> None:
        pass

    def finished(
        self, row: Row, outcome: Outcome, publish_seconds: float, lateness_seconds: float
    ) -> None:
        pass

    def lost_claim(self, row: Row, outcome: Outcome) -> None:
        pass

    def settled(self, key: str, state: State, reason: str) -> None:
        pass


def utcnow() -> datetime:
    return datetime.now(UTC)


def _wait(stop: threading.Event, seconds: float) -> bool:
    return stop.wait(seconds)


def build_post(
    delivery: Delivery, parent: PlatformRef | None = None, root: PlatformRef | None = None
) -> Post:
    return Post(
        key=delivery.key,
        text=delivery.text,
        due=delivery.due_utc,
        language=delivery.language,
        media=tuple(MediaFile(Path(m.path), m.alt, m.mime) for m in delivery.media),
        link=delivery.link,
        reply_to=parent,
        thread_root=root,
    )


def first_open_attempt(history: Sequence[Transition]) -> datetime | None:
    """When the earliest attempt that may have gone out started, among the attempts since the
    delivery was last shown not to be out (planned again from unknown, other than for a
    repeat: a look-up found nothing, or an operator resolved or retried it); None if none."""
    opened: datetime | None = None
    claimed: datetime | None = None
    for step in history:
        if step.to_state == State.CLAIMED:
            claimed = step.at
        elif step.from_state == State.CLAIMED and step.to_state == State.UNKNOWN:
            opened = opened or claimed
        elif (
            step.from_state == State.UNKNOWN
            and step.to_state == State.PLANNED
            and not (step.reason or "").startswith(REPEATED)
        ):
            opened = None
    return opened


def _describe(exc: Exception) -> str:
    """An exception's first line: a ledger error's message is written for an operator."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class _FailureStreak:
    """Ledger failures in a row, on any channel: the first is logged as an error with its
    message, the rest (and every traceback) at debug level, and the recovery as a warning,
    so that a ledger locked for a few seconds does not flood the log."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures = 0

    def failed(self, exc: Exception, message: str, *args: object) -> None:
        with self._lock:
            self._failures += 1
            first = self._failures == 1
        level = logging.ERROR if first else logging.DEBUG
        log.log(level, f"{message} (%s)", *args, _describe(exc))
        log.debug("the ledger failure", exc_info=exc)

    def ended(self) -> None:
        if not self._failures:
            return
        with self._lock:
            failures, self._failures = self._failures, 0
        if failures:
            log.warning("the ledger works again, after %d failed operation(s)", failures)


def _window(connector: Connector) -> timedelta | None:
    """The platform's idempotency window for request keys, if it has one."""
    capabilities = connector.capabilities
    return capabilities.idempotency_window if capabilities.idempotency == "key" else None


def _record_key(connector: Connector) -> bool:
    return connector.capabilities.idempotency == "record-key"


def _hours(window: timedelta) -> str:
    hours = window / timedelta(hours=1)
    return f"{hours:g} hour" + ("" if hours == 1 else "s")


class Dispatcher:
    """Publishes due deliveries through each channel's connector.

    Call `run_channel` for one channel from one thread at a time (a connector is not shared
    between threads); different channels may run concurrently.
    """

    def __init__(
        self,
        ledger: Ledger,
        connectors: Mapping[str, Connector],
        policies: Policies,
        owner: str,
        *,
        clock: Callable[[], datetime] = utcnow,
        listener: DispatchListener | None = None,
        rates: Mapping[str, RateBudget] | None = None,
        backoff: Backoff | None = None,
        wait: Callable[[threading.Event, float], bool] = _wait,
    ) -> None:
        """`rates`: each channel's budget from config (ChannelSettings.rate). `wait(stop,
        seconds)` sleeps until the time passes or `stop` is set (True then): tests pass one
        that moves their clock."""
        self.ledger = ledger
        self.connectors = connectors
        self.policies = policies
        self.owner = owner
        self.clock = clock
        self.listener: DispatchListener = listener or _Silent()
        self.backoff = backoff or Backoff(policies.retry)
        self._rates = dict(rates or {})
        self._budgets: dict[str, ChannelBudget] = {}
        self._budgets_lock = threading.Lock()
        self._wait = wait
        self._streak = _FailureStreak()
        self._told_to_wait: dict[str, datetime] = {}
        """Channels whose platform said when to come back (a rate limit and its reset time):
        nothing is claimed on them before then, rather than every due delivery meeting the
        same refusal in turn. Each key is only touched by its channel's thread."""

    # --- publishing

    def run_channel(
        self,
        channel: str,
        stop: threading.Event,
        *,
        pause: Callable[[], bool] | None = None,
    ) -> int:
        """Claim → publish → finish, repeatedly, in due order, until nothing on this channel
        is claimable now or `stop` is set (checked before each claim, never mid-publish);
        returns how many were processed. Ledger errors are logged and end the round (the
        sweeper tries again); never raises.

        `pause()` true ends the round as `stop` does, so that the channel's thread can do
        other work (reconciling) in the middle of a long backlog; the next round goes on.
        """

        def ending() -> bool:
            return stop.is_set() or (pause is not None and pause())

        processed = 0
        claim = self._claim(channel, stop, ending)
        while claim is not None:
            claim = self._dispatch(claim, ending)
            processed += 1
            if claim is None:
                claim = self._claim(channel, stop, ending)
        return processed

    def _claim(
        self, channel: str, stop: threading.Event, ending: Callable[[], bool]
    ) -> Claim | None:
        if ending():
            return None
        try:
            if not self._platform_allows(channel) or not self._budget_allows(channel, stop):
                return None
            claim = self.ledger.claim(
                channel,
                self.owner,
                self.policies.lease,
                self.clock(),
                on_settled=self.listener.settled,
            )
        except Exception as exc:
            self._streak.failed(
                exc, "channel %s: the ledger failed; the next round retries", channel
            )
            return None
        self._streak.ended()
        return claim

    def _budget(self, channel: str) -> ChannelBudget | None:
        rate = self._rates.get(channel)
        if rate is None:
            return None
        with self._budgets_lock:
            budget = self._budgets.get(channel)
        if budget is None:
            budget = ChannelBudget.from_settings(rate)
            budget.seed(self.ledger.sent_since(channel, self.clock() - rate.per))
            with self._budgets_lock:
                budget = self._budgets.setdefault(channel, budget)
        return budget

    def _platform_allows(self, channel: str) -> bool:
        until = self._told_to_wait.get(channel)
        if until is None:
            return True
        if until > self.clock():
            return False
        del self._told_to_wait[channel]
        return True

    def _budget_allows(self, channel: str, stop: threading.Event) -> bool:
        """Wait, bounded and interruptible, until the channel's rate budget allows a post."""
        budget = self._budget(channel)
        if budget is None:
            return True
        wait = budget.wait(self.clock())
        if wait > MAX_RATE_WAIT:
            log.info("channel %s: rate budget reached, next post in %s", channel, wait)
            return False
        if wait > timedelta(0) and self._wait(stop, wait.total_seconds()):
            return False
        return not stop.is_set()

    def _dispatch(self, claim: Claim, ending: Callable[[], bool]) -> Claim | None:
        """Publish and record; returns the channel's next claim when it could be made in the
        same transaction as the record (the round goes on, no wait for the rate budget)."""
        row = claim.row
        self.listener.claimed(row)
        started = self.clock()
        budget = self._budget(row.channel)
        if budget is not None:
            budget.spend(started)
        clock_start = time.monotonic()
        outcome = self._publish(claim)
        publish_seconds = time.monotonic() - clock_start
        recorded, following = None, None
        ready = budget is None or budget.wait(self.clock()) <= timedelta(0)
        if ready and self._platform_allows(row.channel) and not ending():
            recorded, following = self._finish_and_claim(claim, outcome)
        if recorded is None:
            recorded = self._finish(claim, outcome)
        if recorded:
            lateness = (started - row.due_utc).total_seconds()
            self.listener.finished(row, outcome, publish_seconds, lateness)
        elif recorded is False:
            self.listener.lost_claim(row, outcome)
        return following

    def _publish(self, claim: Claim) -> Outcome:
        row = claim.row
        connector = self.connectors.get(row.channel)
        if connector is None:
            return Held(f"no connector is set up for channel {row.channel}")
        missing = [m.path for m in row.delivery.media if not Path(m.path).is_file()]
        if missing:
            return Failed(f"media file not found: {', '.join(missing)}", "media")
        closed = self._window_closed(connector, row)
        if closed:
            return Unknown(closed, WINDOW_CLOSED)
        try:
            published = connector.publish(build_post(row.delivery, claim.parent, claim.root))
        except RetryLater as exc:
            return self._retry(row, exc)
        except AuthFailed as exc:
            return Held(exc.reason)
        except Rejected as exc:
            return Failed(f"rejected by the platform: {exc.reason}", "rejected")
        except Duplicate as exc:
            if exc.existing is not None:
                return Sent(exc.existing, f"the platform already had it: {exc.reason}")
            reason = f"the platform reports a duplicate without naming it: {exc.reason}"
            return Unknown(reason, "duplicate")
        except Ambiguous as exc:
            return Unknown(f"it may have gone out: {exc.reason}", "ambiguous")
        except PublishError as exc:
            return Unknown(f"it may have gone out: {exc.reason}", "error")
        except Exception as exc:
            # Not classified by the connector: a bug. Its message may quote a request (and a
            # token), so only the type is logged, with the traceback at debug level.
            log.error("channel %s: the connector raised %s", row.channel, type(exc).__name__)
            log.debug("connector failure", exc_info=True)
            reason = (
                f"the connector failed unexpectedly ({type(exc).__name__}): it may have gone out"
            )
            return Unknown(reason, "crash")
        return Sent(published.ref, published.note)

    def _window_closed(self, connector: Connector, row: Row) -> str | None:
        """Why a delivery planned again for a repeat must not be sent now: the platform is
        about to forget the key of an earlier attempt that may have gone out. None when it may
        go (only rows tried before are checked: their history is read)."""
        window = _window(connector)
        if window is None or row.attempts < 2:
            return None
        try:
            forgets = self._key_forgotten(row, window)
        except Exception as exc:
            self._streak.failed(exc, "%s: could not read its history", row.key)
            return "an earlier attempt may have gone out, and its history could not be read"
        if forgets is None or self.clock() + REPEAT_MARGIN < forgets:
            return None
        return (
            "an earlier attempt may have gone out, and the platform recognises a repeat only "
            f"until {forgets:%Y-%m-%d %H:%M:%S} UTC: it is looked up instead"
        )

    def _key_forgotten(self, row: Row, window: timedelta) -> datetime | None:
        """When the platform forgets the request key of the earliest attempt that may have
        gone out (see `first_open_attempt`); None if no attempt may have."""
        opened = first_open_attempt(self.ledger.history(row.key))
        return None if opened is None else opened + window

    def _retry(self, row: Row, exc: RetryLater) -> Outcome:
        now = self.clock()
        if exc.retry_at is not None and exc.status is not None and exc.retry_at > now:
            # The platform answered with a time to come back: it holds for the whole
            # channel, not only for this delivery.
            self._told_to_wait[row.channel] = exc.retry_at
            log.warning(
                "channel %s: the platform asks to wait until %s UTC; its posts wait until then",
                row.channel,
                f"{exc.retry_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
                extra={"channel": row.channel},
            )
        at = self.backoff.next_attempt(row.attempts, now, exc.retry_at)
        if at is None:
            return Failed(f"gave up after {row.attempts} attempts: {exc.reason}", "retry-later")
        return Retry(at, exc.reason, "retry-later")

    def _finish_and_claim(self, claim: Claim, outcome: Outcome) -> tuple[bool | None, Claim | None]:
        """Record the outcome and claim the channel's next delivery in one transaction;
        (None, None) if the ledger failed."""
        try:
            recorded, following = self.ledger.finish_and_claim(
                claim,
                outcome,
                self.clock(),
                self.policies.lease,
                on_settled=self.listener.settled,
            )
        except Exception as exc:
            self._streak.failed(
                exc, "%s: could not record %s", claim.row.key, type(outcome).__name__
            )
            return None, None
        self._streak.ended()
        return recorded, following

    def _finish(self, claim: Claim, outcome: Outcome) -> bool | None:
        """Record the outcome, trying again briefly if the ledger fails; None if it never
        could: the row stays claimed until its lease runs out and becomes unknown."""
        what = type(outcome).__name__
        for pause in _FINISH_TRIES:
            time.sleep(pause)
            try:
                recorded = self.ledger.finish(claim, outcome, self.clock())
            except Exception as exc:
                self._streak.failed(exc, "%s: could not record %s", claim.row.key, what)
                continue
            self._streak.ended()
            return recorded
        log.error(
            "%s: could not record %s: it stays claimed until its lease runs out, then becomes "
            "unknown",
            claim.row.key,
            what,
        )
        return None

    # --- after the fact

    def reconcile(self, channel: str) -> int:
        """Settle unknown rows of the channel: planned again at once where the platform
        recognises a repeat (see the module's docstring), else looked up where the connector
        can: sent if found, planned again if surely not and a repeat is harmless (the
        platform recognises it), else left unknown for an operator. Returns how many were
        settled; never raises."""
        connector = self.connectors.get(channel)
        if connector is None:
            return 0
        looking_up = connector.capabilities.lookup
        if not looking_up and _window(connector) is None and not _record_key(connector):
            return 0
        try:
            unknown = self.ledger.rows(states=[State.UNKNOWN], channel=channel)
        except Exception as exc:
            self._streak.failed(exc, "channel %s: the ledger failed during reconciliation", channel)
            return 0
        settled = 0
        for row in unknown:
            if not self._platform_done(connector, row):
                continue
            try:
                verdict = self._verdict(connector, row, looking_up)
            except LookupUnavailable:
                looking_up = False  # the platform cannot tell now; repeats still can
                continue
            except Exception as exc:
                log.warning("%s: lookup failed (%s); left unknown", row.key, type(exc).__name__)
                continue
            if verdict is None:
                continue
            ref, reason = verdict
            try:
                self.ledger.resolve(row.key, ref, self.owner, self.clock(), reason)
            except NotAllowed:
                continue  # an operator settled it meanwhile
            except Exception as exc:
                self._streak.failed(exc, "%s: could not record the reconciliation", row.key)
                break
            self.listener.settled(row.key, State.PLANNED if ref is None else State.SENT, reason)
            settled += 1
        return settled

    def _platform_done(self, connector: Connector, row: Row) -> bool:
        """Whether the platform has surely finished with the request whose answer was lost.

        A slow server may still create the post after the client gave up (or died), and a
        repeat or a look-up made meanwhile sees nothing: Mastodon stores a request key only
        once its post exists, so a repeat racing the original posts twice. Only a record key
        is safe at once: the server itself refuses a second record at that key.
        """
        if _record_key(connector) or row.error_class == WINDOW_CLOSED:
            return True
        return self.clock() >= row.updated_utc + self.policies.reconcile_after

    def _repeat(self, connector: Connector, row: Row) -> str | None:
        """Why the delivery may simply be sent again (the platform will recognise the
        repeat); None if it may not."""
        if _record_key(connector):
            return f"{REPEATED} (the same record key)"
        window = _window(connector)
        if window is None:
            return None
        forgets = self._key_forgotten(row, window)
        if forgets is None or self.clock() + REPEAT_MARGIN >= forgets:
            return None
        return f"{REPEATED} (the same idempotency key, within {_hours(window)})"

    def _verdict(
        self, connector: Connector, row: Row, looking_up: bool
    ) -> tuple[PlatformRef | None, str] | None:
        """(where, reason) if the delivery can be settled: planned again (where None) for a
        repeat the platform recognises, else found by a look-up, or surely not found where a
        repeat is harmless."""
        repeat = self._repeat(connector, row)
        if repeat is not None:
            return None, repeat
        if not looking_up:
            return None
        parent, root = self.ledger.thread_refs(row.key)
        ref = connector.lookup(build_post(row.delivery, parent, root))
        if ref is not None:
            return ref, "found on the platform by reconciliation"
        if connector.capabilities.idempotency == "none":
            return None
        return None, "not found on the platform: planned again"

    def try_release(self, channel: str) -> bool:
        """Release a held channel once its connector's check() succeeds; True if released.
        Never raises."""
        connector = self.connectors.get(channel)
        if connector is None:
            return False
        try:
            if channel not in self.ledger.held_channels():
                return False
            report = connector.check()
            if not report.ok:
                return False
            self.ledger.release_channel(channel, self.clock())
        except Exception as exc:
            log.warning("channel %s: still held (%s)", channel, type(exc).__name__)
            return False
        log.info("channel %s: credentials work again, released", channel)
        return True
