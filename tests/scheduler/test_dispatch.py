"""The dispatcher turns what a connector says into ledger outcomes (docs/design.md rules 4
and 5)."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from campaigns.delivery import Media
from connectors.base import (
    Ambiguous,
    AuthFailed,
    Connector,
    Duplicate,
    Post,
    Published,
    Rejected,
    RetryLater,
    before_sending,
)
from scheduler.config import Policies, RateSettings, RetryPolicy
from scheduler.dispatch import MAX_RATE_WAIT, Dispatcher
from scheduler.leases import LeaseKeeper, LeaseLost, LeaseRenewer
from scheduler.ledger.api import Claim, LedgerUnavailable, Outcome, Retry, Row, Sent, State
from scheduler.ledger.sql import SqlLedger
from tests.scheduler.ledgerkit import NOW, Clock, ScriptedConnector, delivery, ref, thread

MINUTE = timedelta(minutes=1)
POLICIES = Policies(
    retry=RetryPolicy(attempts=3, first_delay=timedelta(seconds=30), max_delay=MINUTE * 30),
    reconcile_after=timedelta(0),  # how long reconciling waits: test_reconcile.py
)


@dataclass
class Heard:
    claimed: list[str] = field(default_factory=list)
    finished: list[tuple[str, Outcome, float]] = field(default_factory=list)
    lost: list[tuple[str, Outcome]] = field(default_factory=list)
    settled: list[tuple[str, State, str]] = field(default_factory=list)


class Listener:
    def __init__(self, stop_after_first: threading.Event | None = None) -> None:
        self.heard = Heard()
        self._stop = stop_after_first

    def claimed(self, row: Row) -> None:
        self.heard.claimed.append(row.key)
        if self._stop is not None:
            self._stop.set()

    def finished(
        self, row: Row, outcome: Outcome, publish_seconds: float, lateness_seconds: float
    ) -> None:
        assert publish_seconds >= 0
        self.heard.finished.append((row.key, outcome, lateness_seconds))

    def lost_claim(self, row: Row, outcome: Outcome) -> None:
        self.heard.lost.append((row.key, outcome))

    def settled(self, key: str, state: State, reason: str) -> None:
        self.heard.settled.append((key, state, reason))


def dispatcher(
    ledger: SqlLedger,
    *connectors: Connector,
    clock: Clock | None = None,
    listener: Listener | None = None,
    rates: dict[str, RateSettings] | None = None,
) -> Dispatcher:
    clock = clock or Clock(NOW + MINUTE)
    return Dispatcher(
        ledger,
        {c.config.name: c for c in connectors},
        POLICIES,
        "host:1",
        clock=clock,
        listener=listener,
        rates=rates,
        wait=clock.wait,
    )


def run(dispatch: Dispatcher, channel: str = "x-main") -> int:
    return dispatch.run_channel(channel, threading.Event())


class CountingLedger(SqlLedger):
    """Counts the calls that write, and fails them while told to."""

    def __init__(self, ledger: SqlLedger) -> None:
        super().__init__(ledger.engine, "test", ledger.url)
        self.calls: Counter[str] = Counter()
        self.failing: set[str] = set()

    def _call(self, name: str) -> None:
        self.calls[name] += 1
        if name in self.failing:
            raise LedgerUnavailable(f"the ledger at {self.url}?x=%3D is unavailable: locked")

    def claim(self, *args: Any, **kw: Any) -> Claim | None:
        self._call("claim")
        return super().claim(*args, **kw)

    def finish(self, *args: Any, **kw: Any) -> bool:
        self._call("finish")
        return super().finish(*args, **kw)

    def finish_and_claim(self, *args: Any, **kw: Any) -> tuple[bool, Claim | None]:
        self._call("finish_and_claim")
        return super().finish_and_claim(*args, **kw)


def test_a_due_delivery_goes_out_as_a_post(ledger: SqlLedger, tmp_path: Path) -> None:
    image = tmp_path / "card.png"
    image.write_bytes(b"png")
    item = delivery("a", media=(Media("card.png", str(image), "a card", "image/png"),))
    ledger.sync([item, delivery("later", due=NOW + 2 * MINUTE)], NOW)
    connector, listener = ScriptedConnector(), Listener()
    assert run(dispatcher(ledger, connector, listener=listener)) == 1
    [post] = connector.posts
    assert (post.key, post.text, post.due, post.language, post.link) == (
        item.key,
        "a in en",
        NOW,
        "en",
        None,
    )
    assert [(m.path, m.alt, m.mime) for m in post.media] == [(image, "a card", "image/png")]
    assert (post.reply_to, post.thread_root) == (None, None)
    row = ledger.find(item.key)
    assert (row.state, row.ref) == (State.SENT, ref(1))
    assert listener.heard.claimed == [item.key]
    assert [(k, o, late) for k, o, late in listener.heard.finished] == [
        (item.key, listener.heard.finished[0][1], 60.0)
    ]


def test_a_thread_goes_out_in_one_round_each_part_replying(ledger: SqlLedger) -> None:
    ledger.sync(thread("t", 3), NOW)
    connector = ScriptedConnector()
    assert run(dispatcher(ledger, connector)) == 3
    replies = [(p.reply_to, p.thread_root) for p in connector.posts]
    assert replies == [(None, None), (ref(1), ref(1)), (ref(2), ref(1))]


def test_retry_later_waits_at_least_the_platform_reset(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a")], NOW)
    reset = NOW + 10 * MINUTE
    connector = ScriptedConnector("x-main", RetryLater("429", retry_at=reset))
    dispatch = dispatcher(ledger, connector)
    assert run(dispatch) == 1
    row = ledger.find(delivery("a").key)
    assert (row.state, row.next_attempt_utc, row.error_class) == (
        State.PLANNED,
        reset,
        "retry-later",
    )
    assert run(dispatch) == 0  # not before the reset


def test_a_rate_limit_holds_back_the_whole_channel_until_its_reset(ledger: SqlLedger) -> None:
    """A 429 with its reset time is the platform's answer for the account: the channel's
    other due deliveries must not meet it one after another (found with a fake platform)."""
    ledger.sync([delivery(name) for name in "abc"] + [delivery("m", channel="m-main")], NOW)
    clock = Clock(NOW + MINUTE)
    reset = clock.now + 10 * MINUTE
    limited = ScriptedConnector("x-main", RetryLater("429", retry_at=reset, status=429))
    other = ScriptedConnector("m-main")
    dispatch = dispatcher(ledger, limited, other, clock=clock)
    assert run(dispatch) == 1
    assert [p.key for p in limited.posts] == [delivery("a").key]
    assert run(dispatch, "m-main") == 1  # other channels are not held back
    clock.now = reset - timedelta(seconds=1)
    assert run(dispatch) == 0
    clock.now = reset
    assert run(dispatch) == 3
    assert {ledger.find(delivery(name).key).state for name in "abc"} == {State.SENT}


def test_a_time_to_wait_for_one_post_does_not_hold_back_the_channel(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a"), delivery("b")], NOW)
    later = NOW + 10 * MINUTE
    processing = ScriptedConnector("x-main", RetryLater("still processing", retry_at=later))
    assert run(dispatcher(ledger, processing)) == 2
    assert ledger.find(delivery("b").key).state == State.SENT


def test_retry_later_backs_off_then_gives_up(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a")], NOW)
    busy = [RetryLater("503") for _ in range(3)]
    clock = Clock(NOW)
    dispatch = dispatcher(ledger, ScriptedConnector("x-main", *busy), clock=clock)
    assert run(dispatch) == 1
    first = ledger.find(delivery("a").key).next_attempt_utc
    assert first == NOW + timedelta(seconds=30)  # the first delay, exactly
    clock.now = first
    assert run(dispatch) == 1
    second = ledger.find(delivery("a").key).next_attempt_utc
    assert second is not None
    assert first + timedelta(seconds=30) <= second <= first + timedelta(seconds=60)
    clock.now = second
    assert run(dispatch) == 1
    row = ledger.find(delivery("a").key)
    assert (row.state, row.attempts) == (State.FAILED, 3)
    assert row.last_error == "gave up after 3 attempts: 503"


def test_broken_credentials_hold_the_channel_until_check_passes(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a"), delivery("b")], NOW)
    connector = ScriptedConnector("x-main", AuthFailed("token revoked"))
    dispatch = dispatcher(ledger, connector)
    assert run(dispatch) == 1  # the second is not claimed: the channel is held
    row = ledger.find(delivery("a").key)
    assert (row.state, row.attempts) == (State.PLANNED, 0)
    assert ledger.held_channels() == {"x-main": "token revoked"}
    assert run(dispatch) == 0
    connector.healthy = False
    assert dispatch.try_release("x-main") is False
    connector.healthy = True
    assert dispatch.try_release("x-main") is True
    assert dispatch.try_release("x-main") is False  # nothing held any more
    assert run(dispatch) == 2
    assert ledger.counts()[State.SENT] == 2


@pytest.mark.parametrize(
    ("error", "state", "reason"),
    [
        (Rejected("text too long"), State.FAILED, "rejected by the platform: text too long"),
        (
            Duplicate("status is a duplicate"),
            State.UNKNOWN,
            "the platform reports a duplicate without naming it: status is a duplicate",
        ),
        (Ambiguous("read timed out"), State.UNKNOWN, "it may have gone out: read timed out"),
        (
            KeyError("https://api.telegram.org/bot123:SECRET/sendMessage"),
            State.UNKNOWN,
            "the connector failed unexpectedly (KeyError): it may have gone out",
        ),
    ],
    ids=["rejected", "weak-duplicate", "ambiguous", "crash"],
)
def test_errors_map_to_outcomes(
    ledger: SqlLedger,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
    state: State,
    reason: str,
) -> None:
    ledger.sync([delivery("a")], NOW)
    with caplog.at_level(logging.INFO, logger="clarion.dispatch"):
        assert run(dispatcher(ledger, ScriptedConnector("x-main", error))) == 1
    row = ledger.find(delivery("a").key)
    assert (row.state, row.last_error) == (state, reason)
    assert "SECRET" not in caplog.text


def test_a_duplicate_naming_the_post_counts_as_sent(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a")], NOW)
    already = Duplicate("already posted", existing=ref(77))
    assert run(dispatcher(ledger, ScriptedConnector("x-main", already))) == 1
    row = ledger.find(delivery("a").key)
    assert (row.state, row.ref) == (State.SENT, ref(77))
    assert "the platform already had it" in (ledger.history(row.key)[-1].reason or "")


def test_missing_media_fails_without_publishing(ledger: SqlLedger, tmp_path: Path) -> None:
    gone = str(tmp_path / "gone.png")
    ledger.sync([delivery("a", media=(Media("gone.png", gone, "alt", "image/png"),))], NOW)
    connector = ScriptedConnector()
    assert run(dispatcher(ledger, connector)) == 1
    assert connector.posts == []
    row = ledger.find(delivery("a").key)
    assert (row.state, row.last_error) == (State.FAILED, f"media file not found: {gone}")


def test_a_channel_without_connector_is_held(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a", channel="nowhere")], NOW)
    assert run(dispatcher(ledger), "nowhere") == 1
    assert ledger.held_channels() == {"nowhere": "no connector is set up for channel nowhere"}


def test_past_deadline_expires_instead_of_posting(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a", deadline=NOW + MINUTE // 2)], NOW)
    connector, listener = ScriptedConnector(), Listener()
    assert run(dispatcher(ledger, connector, listener=listener)) == 0
    assert connector.posts == []
    assert [(k, s) for k, s, _ in listener.heard.settled] == [(delivery("a").key, State.EXPIRED)]


def test_stop_is_checked_before_each_claim_never_mid_publish(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a"), delivery("b")], NOW)
    stop = threading.Event()
    connector, counting = ScriptedConnector(), CountingLedger(ledger)
    dispatch = dispatcher(counting, connector, listener=Listener(stop_after_first=stop))
    assert dispatch.run_channel("x-main", stop) == 1
    assert len(connector.posts) == 1
    assert ledger.find(delivery("a").key).state == State.SENT
    assert dispatch.run_channel("x-main", stop) == 0
    assert counting.calls == {"claim": 1, "finish": 1}  # recorded without claiming the next


class LeaseThief(ScriptedConnector):
    """Publishes so slowly that the lease runs out meanwhile, and `meanwhile` happens."""

    def __init__(
        self, ledger: SqlLedger, *steps: Any, meanwhile: Callable[[], None] | None = None
    ) -> None:
        super().__init__("x-main", *steps)
        self.ledger = ledger
        self.meanwhile = meanwhile

    def publish(self, post: Post) -> Published:
        self.ledger.expire_leases(LATE)
        if self.meanwhile is not None:
            self.meanwhile()
        return super().publish(post)


LATE = NOW + timedelta(hours=1)
"""When the lease of a publish by LeaseThief has run out."""


def test_a_sent_answer_after_the_lease_ran_out_is_recorded_as_sent(
    ledger: SqlLedger, caplog: pytest.LogCaptureFixture
) -> None:
    ledger.sync([delivery("a")], NOW)
    listener = Listener()
    with caplog.at_level(logging.WARNING, "clarion.dispatch"):
        assert run(dispatcher(ledger, LeaseThief(ledger), listener=listener)) == 1
    assert listener.heard.lost == [] and listener.heard.finished == []
    row = ledger.find(delivery("a").key)
    assert (row.state, row.ref) == (State.SENT, ref(1))
    assert "recorded as sent (it was unknown)" in caplog.text


def test_other_answers_after_the_lease_ran_out_are_not_recorded(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a")], NOW)
    listener = Listener()
    thief = LeaseThief(ledger, Rejected("too long"))
    assert run(dispatcher(ledger, thief, listener=listener)) == 1
    assert [k for k, _ in listener.heard.lost] == [delivery("a").key]
    assert ledger.find(delivery("a").key).state == State.UNKNOWN


def settled_not_sent_then_claimed_by_b(
    ledger: SqlLedger, sent: Published | None
) -> tuple[Callable[[], None], list[Claim]]:
    """What `meanwhile` does: an operator says not sent, daemon B claims it (and posts)."""
    claims: list[Claim] = []

    def meanwhile() -> None:
        ledger.resolve(delivery("a").key, None, "op@host:2", LATE)
        claim = ledger.claim("x-main", "daemon-b", timedelta(minutes=5), LATE)
        assert claim is not None
        claims.append(claim)
        if sent is not None:
            assert ledger.finish(claim, Sent(sent.ref), LATE)

    return meanwhile, claims


def test_a_late_answer_ends_another_daemons_claim_before_it_sends(
    ledger: SqlLedger, caplog: pytest.LogCaptureFixture
) -> None:
    ledger.sync([delivery("a")], NOW)
    meanwhile, b_claims = settled_not_sent_then_claimed_by_b(ledger, None)
    thief = LeaseThief(ledger, meanwhile=meanwhile)
    with caplog.at_level(logging.WARNING, "clarion.dispatch"):
        assert run(dispatcher(ledger, thief)) == 1
    row = ledger.find(delivery("a").key)
    assert (row.state, row.ref) == (State.SENT, ref(1))
    assert "the claim of daemon-b ends: it does not send it" in caplog.text
    renewer = LeaseRenewer()
    keeper = LeaseKeeper(ledger, b_claims[0], timedelta(minutes=5), lambda: LATE, renewer)
    with pytest.raises(LeaseLost):
        keeper.start()  # B's check before its request leaves


def test_a_late_answer_after_another_daemon_posted_says_posted_twice(
    ledger: SqlLedger, caplog: pytest.LogCaptureFixture
) -> None:
    ledger.sync([delivery("a")], NOW)
    meanwhile, _ = settled_not_sent_then_claimed_by_b(ledger, Published(ref(99)))
    thief = LeaseThief(ledger, meanwhile=meanwhile)
    with caplog.at_level(logging.ERROR, "clarion.dispatch"):
        assert run(dispatcher(ledger, thief)) == 1
    assert ledger.find(delivery("a").key).ref == ref(99)
    assert (
        "posted twice: https://x.example/status/99 and https://x.example/status/1; "
        "delete one of them"
    ) in caplog.text


def test_each_record_claims_the_next_delivery_in_the_same_transaction(
    ledger: SqlLedger,
) -> None:
    ledger.sync([delivery(f"p{i}") for i in range(3)], NOW)
    counting = CountingLedger(ledger)
    assert run(dispatcher(counting, ScriptedConnector())) == 3
    assert counting.calls == {"claim": 2, "finish_and_claim": 3}
    assert ledger.counts()[State.SENT] == 3


def test_when_recording_with_the_next_claim_fails_the_record_is_retried_alone(
    ledger: SqlLedger,
) -> None:
    ledger.sync([delivery(f"p{i}") for i in range(3)], NOW)
    counting = CountingLedger(ledger)
    counting.failing.add("finish_and_claim")
    listener = Listener()
    assert run(dispatcher(counting, ScriptedConnector(), listener=listener)) == 3
    assert counting.calls == {"claim": 4, "finish_and_claim": 3, "finish": 3}
    assert ledger.counts()[State.SENT] == 3 and len(listener.heard.finished) == 3


def test_a_streak_of_ledger_failures_is_logged_once_and_so_is_its_end(
    ledger: SqlLedger, caplog: pytest.LogCaptureFixture
) -> None:
    ledger.sync([delivery("a"), delivery("b", channel="m")], NOW)
    counting = CountingLedger(ledger)
    counting.failing.add("claim")
    dispatch = dispatcher(counting, ScriptedConnector(), ScriptedConnector("m"))
    with caplog.at_level(logging.DEBUG, logger="clarion.dispatch"):
        assert run(dispatch) == 0 and run(dispatch, "m") == 0 and run(dispatch) == 0
        counting.failing.clear()
        assert run(dispatch) == 1 and run(dispatch, "m") == 1
    shown = [(r.levelno, r.getMessage()) for r in caplog.records if r.levelno > logging.DEBUG]
    assert shown == [
        (
            logging.ERROR,
            "channel x-main: the ledger failed; the next round retries (the ledger at "
            f"{ledger.url}?x=%3D is unavailable: locked)",
        ),
        (logging.WARNING, "the ledger works again, after 3 failed operation(s)"),
    ]
    assert not any(r.exc_info for r in caplog.records if r.levelno > logging.DEBUG)
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 3 and all(r.levelno == logging.DEBUG for r in tracebacks)


def test_the_rate_budget_spaces_posts_without_dropping_any(ledger: SqlLedger) -> None:
    ledger.sync([delivery(f"p{i}") for i in range(5)], NOW)
    clock = Clock(NOW)
    budget = RateSettings(posts=2, per=MINUTE, min_interval=timedelta(seconds=10))
    starts: list[float] = []

    class Timed(ScriptedConnector):
        def publish(self, post: Post) -> Published:
            starts.append((clock.now - NOW).total_seconds())
            return super().publish(post)

    dispatch = dispatcher(ledger, Timed(), clock=clock, rates={"x-main": budget})
    assert run(dispatch) == 5
    assert starts == [0, 10, 60, 70, 120]
    assert ledger.counts()[State.SENT] == 5


def test_a_long_budget_wait_ends_the_round_and_survives_restarts(ledger: SqlLedger) -> None:
    ledger.sync([delivery(f"p{i}") for i in range(3)], NOW)
    clock = Clock(NOW)
    budget = {"x-main": RateSettings(posts=1, per=MAX_RATE_WAIT * 10)}
    assert run(dispatcher(ledger, ScriptedConnector(), clock=clock, rates=budget)) == 1
    assert clock.waits == []
    restarted = dispatcher(ledger, ScriptedConnector(), clock=clock, rates=budget)
    assert run(restarted) == 0  # seeded from the ledger: the budget is spent
    clock.advance(MAX_RATE_WAIT * 10)
    assert run(restarted) == 1


def test_a_round_ends_when_the_channel_has_other_work(ledger: SqlLedger) -> None:
    ledger.sync([delivery(name) for name in "abc"], NOW)
    connector = ScriptedConnector()
    dispatch = dispatcher(ledger, connector)

    def after_one() -> bool:
        return len(connector.posts) >= 1

    assert dispatch.run_channel("x-main", threading.Event(), pause=after_one) == 1
    assert run(dispatch) == 2
    assert [p.key for p in connector.posts] == [delivery(name).key for name in "abc"]


class _Freezes(Listener):
    """Plays a daemon frozen between its claim and its publish, past its lease, while another
    daemon's sweeper makes the delivery unknown."""

    def __init__(self, ledger: SqlLedger, clock: Clock) -> None:
        super().__init__()
        self.ledger = ledger
        self.clock = clock

    def claimed(self, row: Row) -> None:
        super().claimed(row)
        self.clock.advance(POLICIES.lease + MINUTE)
        assert self.ledger.expire_leases(self.clock()) == [row.key]


def test_a_claim_lost_before_the_publish_starts_is_not_published(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a")], NOW)
    clock = Clock()
    listener = _Freezes(ledger, clock)
    connector = ScriptedConnector()
    dispatch = dispatcher(ledger, connector, clock=clock, listener=listener)
    dispatch.run_channel("x-main", threading.Event())
    assert connector.posts == []
    assert ledger.find("sayno/a/en/x-main").state == State.UNKNOWN
    ((_, outcome),) = listener.heard.lost
    assert isinstance(outcome, Retry) and "not sent" in outcome.reason


class _TwoRequests(ScriptedConnector):
    """An upload, then the post: the lease runs out in between (the process was frozen)."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def publish(self, post: Post) -> Published:
        before_sending()  # the upload
        self.clock.advance(POLICIES.lease)
        time.sleep(0.05)
        before_sending()  # the post: refused
        return super().publish(post)


def test_no_request_leaves_once_the_lease_may_have_run_out(
    ledger: SqlLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scheduler import leases

    # The process's own clock says the lease ran out (by the margin, a 50 ms lease left).
    monkeypatch.setattr(leases, "margin", lambda lease: lease - timedelta(milliseconds=50))
    ledger.sync([delivery("a")], NOW)
    clock = Clock()
    connector = _TwoRequests(clock)
    listener = Listener()
    dispatcher(ledger, connector, clock=clock, listener=listener).run_channel(
        "x-main", threading.Event()
    )
    assert connector.posts == []
    row = ledger.find("sayno/a/en/x-main")
    assert row.state == State.PLANNED and row.last_error and "not sent" in row.last_error
