"""Claim → publish → fenced finish, one channel at a time (docs/design.md rules 4 and 5).

The dispatcher turns what a connector says into a ledger outcome:

    Published                      → sent
    RetryLater                     → planned again after a back-off, never before the
                                     platform's reset time; failed once the attempts are used
    AuthFailed                     → planned untouched, and the channel is held
    Rejected                       → failed, with the platform's reason
    Duplicate naming the post      → sent (that post)
    Duplicate without it           → unknown: a weak signal is no proof
    Ambiguous, or any other error  → unknown: it may have gone out; `scheduler.reconcile`
                                     settles it where the platform allows

A claim is held while it is published (`scheduler.leases`): renewed right before the publish
and while it lasts, and no request leaves once it may have run out.

On time: with `early` (`policies.prepare_ahead`), a delivery due within that time is claimed
ahead, its claim checked and its connection opened (`Connector.warm`), then the channel's
thread waits for the due instant, reads the pauses and blackouts once more
(`scheduler.instantcheck`: a pause or a blackout that landed meanwhile stops it, and the claim
is released) and publishes. Nothing leaves before its instant. Channels with a rate budget
are not claimed ahead: the budget counts a post when it is claimed.
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
    MediaFile,
    PlatformRef,
    Post,
    PublishError,
    Rejected,
    RetryLater,
    SendRefused,
    send_guard,
)
from scheduler.config import Policies, RateSettings
from scheduler.instantcheck import InstantCheck
from scheduler.leases import LeaseKeeper, LeaseLost, LeaseRenewer
from scheduler.ledger.api import (
    Claim,
    ErrorClass,
    Failed,
    Held,
    Ledger,
    Outcome,
    Released,
    Retry,
    Row,
    Sent,
    State,
    Unknown,
)
from scheduler.logs import delivery_fields
from scheduler.ratebudget import Rate
from scheduler.repeats import repeat_verdict
from scheduler.retrying import Backoff

log = logging.getLogger("clarion.dispatch")

MAX_RATE_WAIT = timedelta(seconds=60)
"""Longest the dispatcher waits for a channel's rate budget within one round; a longer wait
ends the round, and the sweeper's next round picks the delivery up."""

_FINISH_TRIES = (0.0, 0.5, 2.0)

NOT_SENT = "not sent: its claim ran out before the request left"


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


def _now(clock: Callable[[], datetime]) -> tuple[datetime, float]:
    return clock(), time.monotonic()


def build_post(
    delivery: Delivery, parent: PlatformRef | None = None, root: PlatformRef | None = None
) -> Post:
    return Post(
        key=delivery.key,
        text=delivery.text,
        due=delivery.due_utc,
        language=delivery.language,
        media=tuple(
            MediaFile(
                Path(m.path),
                m.alt,
                m.mime,
                Path(m.captions) if m.captions else None,
                Path(m.thumbnail) if m.thumbnail else None,
            )
            for m in delivery.media
        ),
        link=delivery.link,
        reply_to=parent,
        thread_root=root,
    )


def _describe(exc: Exception) -> str:
    """An exception's first line: a ledger error's message is written for an operator."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class FailureStreak:
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
        rates: Mapping[str, RateSettings] | None = None,
        backoff: Backoff | None = None,
        wait: Callable[[threading.Event, float], bool] = _wait,
        streak: FailureStreak | None = None,
        early: timedelta = timedelta(0),
    ) -> None:
        """`rates`: each channel's budget from config (ChannelSettings.rate). `wait(stop,
        seconds)` sleeps until the time passes or `stop` is set (True then): tests pass one
        that moves their clock. `streak`: shared with the daemon's `Reconciler`, so that a
        ledger outage is logged once. `early`: how long ahead of its due time a delivery may
        be claimed and made ready (`policies.prepare_ahead`)."""
        self.ledger = ledger
        self.connectors = connectors
        self.policies = policies
        self.owner = owner
        self.clock = clock
        self.listener: DispatchListener = listener or _Silent()
        self.backoff = backoff or Backoff(policies.retry)
        self._rates: dict[str, Rate] = dict(rates or {})
        self._wait = wait
        self._streak = streak or FailureStreak()
        self._early = early
        self._at_due = InstantCheck(ledger, clock)
        self._leases = LeaseRenewer()
        self._told_to_wait: dict[str, datetime] = {}
        """Channels whose platform said when to come back (a rate limit and its reset time):
        nothing is claimed on them before then, rather than every due delivery meeting the
        same refusal in turn. Each key is only touched by its channel's thread."""

    def close(self) -> None:
        """Stop renewing the leases of publishes still in flight (after the channels' threads
        were given their grace): those claims keep the lease they have."""
        self._leases.close()

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
            claim = self._dispatch(claim, stop, ending)
            processed += 1
            if claim is None:
                claim = self._claim(channel, stop, ending)
        return processed

    def _claim(
        self, channel: str, stop: threading.Event, ending: Callable[[], bool]
    ) -> Claim | None:
        if ending():
            return None
        rate = self._rates.get(channel)
        try:
            if not self._platform_allows(channel):
                return None
            while True:
                if not self._budget_allows(channel, rate, stop):
                    return None
                claim = self.ledger.claim(
                    channel,
                    self.owner,
                    self.policies.lease,
                    self.clock(),
                    on_settled=self.listener.settled,
                    rate=rate,
                    ahead=self._ahead(rate),
                )
                if claim is not None or rate is None:
                    break
                if self.ledger.rate_wait(channel, rate, self.clock()) <= timedelta(0):
                    break  # nothing to claim; else another daemon took the budget: wait again
        except Exception as exc:
            self._streak.failed(
                exc, "channel %s: the ledger failed; the next round retries", channel
            )
            return None
        self._streak.ended()
        return claim

    def _ahead(self, rate: Rate | None) -> timedelta:
        return self._early if rate is None else timedelta(0)

    def _platform_allows(self, channel: str) -> bool:
        until = self._told_to_wait.get(channel)
        if until is None:
            return True
        if until > self.clock():
            return False
        del self._told_to_wait[channel]
        return True

    def _budget_allows(self, channel: str, rate: Rate | None, stop: threading.Event) -> bool:
        """Wait, bounded and interruptible, until the channel's rate budget (shared in the
        ledger by every daemon) allows a post."""
        if rate is None:
            return True
        wait = self.ledger.rate_wait(channel, rate, self.clock())
        if wait > MAX_RATE_WAIT:
            log.info("channel %s: rate budget reached, next post in %s", channel, wait)
            return False
        if wait > timedelta(0) and self._wait(stop, wait.total_seconds()):
            return False
        return not stop.is_set()

    def _dispatch(
        self, claim: Claim, stop: threading.Event, ending: Callable[[], bool]
    ) -> Claim | None:
        """Publish and record; returns the channel's next claim when it could be made in the
        same transaction as the record (the round goes on, no wait for the rate budget)."""
        row = claim.row
        self.listener.claimed(row)
        outcome, started, clock_start = self._publish(claim, stop)
        publish_seconds = time.monotonic() - clock_start
        recorded, following = None, None
        if self._platform_allows(row.channel) and not ending():
            recorded, following = self._finish_and_claim(claim, outcome)
        if recorded is None:
            recorded = self._finish(claim, outcome)
        if recorded:
            lateness = (started - row.due_utc).total_seconds()
            self.listener.finished(row, outcome, publish_seconds, lateness)
        elif recorded is False and not (
            isinstance(outcome, Sent) and self._late_sent(claim, outcome)
        ):
            self.listener.lost_claim(row, outcome)
        return following

    def _late_sent(self, claim: Claim, sent: Sent) -> bool:
        """Record a post that went out on a lost claim (`Ledger.late_sent`) and say what
        became of it; False if the ledger failed (the caller then logs the lost result)."""
        row, url = claim.row, sent.ref.url or sent.ref.id
        try:
            late = self.ledger.late_sent(claim, sent, self.clock())
        except Exception as exc:
            self._streak.failed(exc, "%s: could not record that it went out late", row.key)
            return False
        fields = delivery_fields(row.key)
        said = f"%s: the answer came after the claim of {claim.owner} ran out: it went out at %s"
        if late.other_owner is not None:
            log.error(
                f"{said}; recorded as sent, and the claim of %s ends: it does not send it "
                "(if it sent it already, it logs 'posted twice')",
                row.key,
                url,
                late.other_owner,
                extra=fields,
            )
        elif late.recorded:
            log.warning(
                f"{said}; recorded as sent (it was %s)", row.key, url, late.found, extra=fields
            )
        elif late.other_ref is not None:
            other = late.other_ref.url or late.other_ref.id
            log.error(
                "%s: posted twice: %s and %s; delete one of them", row.key, other, url, extra=fields
            )
        elif late.found != State.SENT:
            log.error(
                f"{said}, though it is %s: delete that post if it must not be out",
                row.key,
                url,
                late.found,
                extra=fields,
            )
        return True

    def _publish(self, claim: Claim, stop: threading.Event) -> tuple[Outcome, datetime, float]:
        """The outcome, and when publishing began (by the clock, and the monotonic clock):
        for a claim made ahead, its due instant."""
        row = claim.row
        connector = self.connectors.get(row.channel)
        if connector is None:
            return Held(f"no connector is set up for channel {row.channel}"), *_now(self.clock)
        refused = self._refused(connector, row)
        if refused is not None:
            return refused, *_now(self.clock)
        keeper = LeaseKeeper(self.ledger, claim, self.policies.lease, self.clock, self._leases)
        try:
            keeper.start()
            withheld = self._at_instant(connector, claim, stop)
            started = _now(self.clock)
            outcome = withheld or self._send(connector, claim, keeper)
        except LeaseLost:
            return self._not_sent(row), *_now(self.clock)
        finally:
            keeper.stop()
        return outcome, *started

    def _refused(self, connector: Connector, row: Row) -> Outcome | None:
        """Why the delivery cannot be published at all, if it cannot."""
        files = (p for m in row.delivery.media for p in (m.path, m.captions, m.thumbnail) if p)
        missing = [p for p in files if not Path(p).is_file()]
        if missing:
            return Failed(f"media file not found: {', '.join(missing)}", ErrorClass.MEDIA)
        closed = self._window_closed(connector, row)
        if closed:
            return Unknown(closed, ErrorClass.WINDOW)
        return None

    def _at_instant(
        self, connector: Connector, claim: Claim, stop: threading.Event
    ) -> Released | None:
        """For a claim made ahead of its delivery's instant: open the connection, wait for the
        instant, then read the pauses and blackouts again. Released if it must not go out
        after all."""
        row = claim.row
        instant = max(row.due_utc, row.next_attempt_utc or row.due_utc)
        claimed_at = claim.lease_until - self.policies.lease  # the claim's own `now`
        if instant <= claimed_at:
            return None
        try:
            connector.warm()
        except Exception as exc:  # the publish connects itself, and meets any error
            log.debug("channel %s: could not open its connection ahead (%s)", row.channel, exc)
        while (left := (instant - self.clock()).total_seconds()) > 0:
            if self._wait(stop, left):
                return Released("the daemon stopped before its due time")
        stopped = self._at_due.stops(row, instant)
        return Released(stopped) if stopped else None

    def _send(self, connector: Connector, claim: Claim, keeper: LeaseKeeper) -> Outcome:
        row = claim.row
        try:
            with send_guard(keeper.check):
                published = connector.publish(build_post(row.delivery, claim.parent, claim.root))
        except SendRefused:
            return self._not_sent(row)
        except RetryLater as exc:
            return self._retry(row, exc)
        except AuthFailed as exc:
            return Held(exc.reason)
        except Rejected as exc:
            return Failed(f"rejected by the platform: {exc.reason}", ErrorClass.REJECTED)
        except Duplicate as exc:
            if exc.existing is not None:
                return Sent(exc.existing, f"the platform already had it: {exc.reason}")
            reason = f"the platform reports a duplicate without naming it: {exc.reason}"
            return Unknown(reason, ErrorClass.DUPLICATE)
        except Ambiguous as exc:
            return Unknown(f"it may have gone out: {exc.reason}", ErrorClass.AMBIGUOUS)
        except PublishError as exc:
            return Unknown(f"it may have gone out: {exc.reason}", ErrorClass.ERROR)
        except Exception as exc:
            # Not classified by the connector: a bug. Its message may quote a request (and a
            # token), so only the type is logged, with the traceback at debug level.
            log.error("channel %s: the connector raised %s", row.channel, type(exc).__name__)
            log.debug("connector failure", exc_info=True)
            reason = (
                f"the connector failed unexpectedly ({type(exc).__name__}): it may have gone out"
            )
            return Unknown(reason, ErrorClass.CRASH)
        return Sent(published.ref, published.note)

    def _not_sent(self, row: Row) -> Outcome:
        """Its claim may have run out before the request left: planned again if the claim is
        somehow still ours, else the fence refuses this and the ledger's state (unknown, or
        another's) stands."""
        log.warning("%s: %s", row.key, NOT_SENT, extra={"channel": row.channel})
        at = self.backoff.next_attempt(row.attempts, self.clock(), None)
        if at is None:
            return Failed(f"gave up after {row.attempts} attempts: {NOT_SENT}", ErrorClass.LEASE)
        return Retry(at, NOT_SENT, ErrorClass.LEASE)

    def _window_closed(self, connector: Connector, row: Row) -> str | None:
        """Why a delivery planned again for a repeat must not be sent now: the platform would
        no longer recognise it. None when it may go (only rows tried before are checked: their
        history is read)."""
        if row.attempts < 2:
            return None
        try:
            verdict = repeat_verdict(
                connector.capabilities, self.ledger.history(row.key), self.clock()
            )
        except Exception as exc:
            self._streak.failed(exc, "%s: could not read its history", row.key)
            return "an earlier attempt may have gone out, and its history could not be read"
        if verdict.safe:
            return None
        then = "it is looked up instead" if verdict.lookup else "an operator settles it"
        return f"an earlier attempt may have gone out, and {verdict.why}: {then}"

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
            return Failed(
                f"gave up after {row.attempts} attempts: {exc.reason}", ErrorClass.RETRY_LATER
            )
        return Retry(at, exc.reason, ErrorClass.RETRY_LATER)

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
                rate=self._rates.get(claim.row.channel),
                ahead=self._ahead(self._rates.get(claim.row.channel)),
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
        went_out = ""
        if isinstance(outcome, Sent):
            went_out = f" (it went out: {outcome.ref.url or outcome.ref.id})"
        log.error(
            "%s: could not record %s%s: it stays claimed until its lease runs out, then becomes "
            "unknown",
            claim.row.key,
            what,
            went_out,
        )
        return None

    # --- held channels

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
