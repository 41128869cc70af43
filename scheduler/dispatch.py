"""Claim → publish → fenced finish, one channel at a time (DESIGN rules 4 and 5).

The dispatcher turns what a connector says into a ledger outcome:

    Published                      → sent
    RetryLater                     → planned again after a back-off, never before the
                                     platform's reset time; failed once the attempts are used
    AuthFailed                     → planned untouched, and the channel is held
    Rejected                       → failed, with the platform's reason
    Duplicate naming the post      → sent (that post)
    Duplicate without it           → unknown: a weak signal is no proof
    Ambiguous, or any other error  → unknown: it may have gone out; `reconcile` looks it up
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
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
    Unknown,
)
from scheduler.ratebudget import ChannelBudget
from scheduler.retrying import Backoff

log = logging.getLogger("clarion.dispatch")

MAX_RATE_WAIT = timedelta(seconds=60)
"""Longest the dispatcher waits for a channel's rate budget within one round; a longer wait
ends the round, and the sweeper's next round picks the delivery up."""

_FINISH_TRIES = (0.0, 0.5, 2.0)


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

    # --- publishing

    def run_channel(self, channel: str, stop: threading.Event) -> int:
        """Claim → publish → finish, repeatedly, in due order, until nothing on this channel
        is claimable now or `stop` is set (checked before each claim, never mid-publish);
        returns how many were processed. Ledger errors are logged and end the round (the
        sweeper tries again); never raises."""
        processed = 0
        while not stop.is_set():
            try:
                if not self._budget_allows(channel, stop):
                    break
                claim = self.ledger.claim(
                    channel,
                    self.owner,
                    self.policies.lease,
                    self.clock(),
                    on_settled=self.listener.settled,
                )
            except Exception:
                log.exception("channel %s: the ledger failed; the next round retries", channel)
                break
            if claim is None:
                break
            self._dispatch(claim)
            processed += 1
        return processed

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

    def _dispatch(self, claim: Claim) -> None:
        row = claim.row
        self.listener.claimed(row)
        started = self.clock()
        budget = self._budget(row.channel)
        if budget is not None:
            budget.spend(started)
        clock_start = time.monotonic()
        outcome = self._publish(claim)
        publish_seconds = time.monotonic() - clock_start
        recorded = self._finish(claim, outcome)
        if recorded:
            lateness = (started - row.due_utc).total_seconds()
            self.listener.finished(row, outcome, publish_seconds, lateness)
        elif recorded is False:
            self.listener.lost_claim(row, outcome)

    def _publish(self, claim: Claim) -> Outcome:
        row = claim.row
        connector = self.connectors.get(row.channel)
        if connector is None:
            return Held(f"no connector is set up for channel {row.channel}")
        missing = [m.path for m in row.delivery.media if not Path(m.path).is_file()]
        if missing:
            return Failed(f"media file not found: {', '.join(missing)}", "media")
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

    def _retry(self, row: Row, exc: RetryLater) -> Outcome:
        at = self.backoff.next_attempt(row.attempts, self.clock(), exc.retry_at)
        if at is None:
            return Failed(f"gave up after {row.attempts} attempts: {exc.reason}", "retry-later")
        return Retry(at, exc.reason, "retry-later")

    def _finish(self, claim: Claim, outcome: Outcome) -> bool | None:
        """Record the outcome, trying again briefly if the ledger fails; None if it never
        could: the row stays claimed until its lease runs out and becomes unknown."""
        for pause in _FINISH_TRIES:
            time.sleep(pause)
            try:
                return self.ledger.finish(claim, outcome, self.clock())
            except Exception:
                log.exception("%s: could not record %s", claim.row.key, type(outcome).__name__)
        return None

    # --- after the fact

    def reconcile(self, channel: str) -> int:
        """For unknown rows of the channel whose connector can look them up: sent if found,
        planned again if surely not and a repeat is harmless (the platform recognises it),
        else left unknown for an operator. Returns how many were settled; never raises."""
        connector = self.connectors.get(channel)
        if connector is None or not connector.capabilities.lookup:
            return 0
        repeat_harmless = connector.capabilities.idempotency != "none"
        settled = 0
        try:
            unknown = self.ledger.rows(states=[State.UNKNOWN], channel=channel)
        except Exception:
            log.exception("channel %s: the ledger failed during reconciliation", channel)
            return 0
        for row in unknown:
            try:
                parent, root = self.ledger.thread_refs(row.key)
                ref = connector.lookup(build_post(row.delivery, parent, root))
            except LookupUnavailable:
                break
            except Exception as exc:
                log.warning("%s: lookup failed (%s); left unknown", row.key, type(exc).__name__)
                continue
            if ref is None and not repeat_harmless:
                continue
            if ref is not None:
                state, reason = State.SENT, "found on the platform by reconciliation"
            else:
                state, reason = State.PLANNED, "not found on the platform: planned again"
            try:
                self.ledger.resolve(row.key, ref, self.owner, self.clock(), reason)
            except NotAllowed:
                continue  # an operator settled it meanwhile
            except Exception:
                log.exception("%s: could not record the reconciliation", row.key)
                break
            self.listener.settled(row.key, state, reason)
            settled += 1
        return settled

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
