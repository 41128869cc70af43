"""Reconciling unknown deliveries on platforms that recognise a repeat (docs/design.md rule 5).

With a request key (Mastodon) a delivery is sent again directly while the platform still
remembers the key: within its window, counted from the earliest attempt that may have gone
out. With a record key (Bluesky) always. Otherwise it is looked up.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import ClassVar

import pytest

from campaigns.platforms import PLATFORMS
from connectors.base import Ambiguous, Capabilities, LookupUnavailable, PlatformRef, Post
from connectors.mastodon import MastodonConnector
from scheduler.config import Policies
from scheduler.dispatch import Dispatcher
from scheduler.ledger.api import Cause, ErrorClass, State
from scheduler.ledger.sql import SqlLedger
from scheduler.repeats import REPEAT_MARGIN, REPEATED
from tests.scheduler.ledgerkit import NOW, Clock, ScriptedConnector, delivery, ref

MINUTE = timedelta(minutes=1)
WINDOW = timedelta(hours=1)
SETTLE = Policies().reconcile_after
KEY = delivery("a").key


class WithKey(ScriptedConnector):
    """Mastodon-like: a repeated request key is recognised for WINDOW; `lookup` answers from
    `found`, or raises `unavailable` when set."""

    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORMS["mastodon"], idempotency="key", lookup=True, idempotency_window=WINDOW
    )

    def __init__(self, *steps: Ambiguous) -> None:
        super().__init__("x-main", *steps)
        self.lookups: list[str] = []
        self.unavailable = False

    def lookup(self, post: Post) -> PlatformRef | None:
        self.lookups.append(post.key)
        if self.unavailable:
            raise LookupUnavailable("only the 200 most recent posts can be read")
        return super().lookup(post)


class WithRecordKey(WithKey):
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORMS["bluesky"], idempotency="record-key", lookup=True
    )


def dispatcher(ledger: SqlLedger, connector: ScriptedConnector, clock: Clock) -> Dispatcher:
    return Dispatcher(
        ledger, {"x-main": connector}, Policies(), "host:1", clock=clock, wait=clock.wait
    )


def publish(dispatch: Dispatcher) -> int:
    return dispatch.run_channel("x-main", threading.Event())


def lost_at(ledger: SqlLedger, connector: WithKey, clock: Clock) -> Dispatcher:
    """Delivery `a`, due at NOW, whose first attempt at `clock.now` times out."""
    ledger.sync([delivery("a", due=NOW, deadline=NOW + timedelta(days=1))], NOW)
    dispatch = dispatcher(ledger, connector, clock)
    assert publish(dispatch) == 1
    assert ledger.find(KEY).state == State.UNKNOWN
    return dispatch


def test_mastodon_recognises_a_repeated_key_for_an_hour() -> None:
    assert MastodonConnector.capabilities.idempotency_window == timedelta(hours=1)


def test_within_the_window_an_unknown_delivery_is_sent_again_without_a_look_up(
    ledger: SqlLedger,
) -> None:
    clock, connector = Clock(NOW), WithKey(Ambiguous("read timed out"))
    dispatch = lost_at(ledger, connector, clock)
    clock.advance(WINDOW - REPEAT_MARGIN - MINUTE)
    assert dispatch.reconcile("x-main") == 1
    assert connector.lookups == []
    row = ledger.find(KEY)
    assert row.state == State.PLANNED
    reason = ledger.history(KEY)[-1].reason or ""
    assert reason.startswith(REPEATED) and "idempotency key, within 1 hour" in reason
    assert ledger.history(KEY)[-1].cause == Cause.REPEAT
    assert publish(dispatch) == 1
    assert [p.key for p in connector.posts] == [KEY, KEY]  # the same key: recognised
    assert ledger.find(KEY).state == State.SENT


def test_an_unknown_delivery_is_left_alone_while_the_platform_may_still_post_it(
    ledger: SqlLedger,
) -> None:
    """A slow Mastodon created the post after the client gave up; a repeat sent meanwhile
    was not recognised (the key is stored once the post exists) and posted it twice (found
    with a fake platform that takes longer than the channel's timeout)."""
    clock, connector = Clock(NOW), WithKey(Ambiguous("read timed out"))
    dispatch = lost_at(ledger, connector, clock)
    clock.advance(SETTLE - timedelta(seconds=1))
    assert dispatch.reconcile("x-main") == 0
    assert (connector.lookups, ledger.find(KEY).state) == ([], State.UNKNOWN)
    clock.advance(timedelta(seconds=1))
    assert dispatch.reconcile("x-main") == 1
    assert ledger.find(KEY).state == State.PLANNED


def test_past_the_window_it_is_looked_up(ledger: SqlLedger) -> None:
    clock, connector = Clock(NOW), WithKey(Ambiguous("read timed out"))
    dispatch = lost_at(ledger, connector, clock)
    clock.advance(WINDOW - REPEAT_MARGIN)
    connector.found[KEY] = ref(9)
    assert dispatch.reconcile("x-main") == 1
    assert connector.lookups == [KEY]
    assert (ledger.find(KEY).state, ledger.find(KEY).ref) == (State.SENT, ref(9))


def test_the_window_counts_from_the_first_attempt_that_may_have_gone_out(
    ledger: SqlLedger,
) -> None:
    clock = Clock(NOW)
    connector = WithKey(Ambiguous("read timed out"), Ambiguous("read timed out"))
    dispatch = lost_at(ledger, connector, clock)
    clock.advance(20 * MINUTE)
    assert dispatch.reconcile("x-main") == 1  # repeated: within the first attempt's window
    assert publish(dispatch) == 1  # ... and lost again
    clock.advance(WINDOW - REPEAT_MARGIN - 20 * MINUTE)  # 35 minutes after the last attempt
    assert dispatch.reconcile("x-main") == 1
    assert connector.lookups == [KEY]
    assert ledger.find(KEY).state == State.PLANNED  # not found: planned again
    assert ledger.history(KEY)[-1].reason == "not found on the platform: planned again"


def test_a_look_up_that_finds_nothing_opens_a_new_window(ledger: SqlLedger) -> None:
    clock = Clock(NOW)
    connector = WithKey(Ambiguous("read timed out"), Ambiguous("read timed out"))
    dispatch = lost_at(ledger, connector, clock)
    clock.advance(2 * WINDOW)
    assert dispatch.reconcile("x-main") == 1 and connector.lookups == [KEY]
    assert publish(dispatch) == 1  # lost again, two hours after the first
    clock.advance(10 * MINUTE)
    assert dispatch.reconcile("x-main") == 1
    assert connector.lookups == [KEY]  # repeated, not looked up
    assert (ledger.history(KEY)[-1].reason or "").startswith(REPEATED)
    causes = [step.cause for step in ledger.history(KEY)]  # the look-up's step has none
    assert causes.count(Cause.REPEAT) == 1 and causes[-1] == Cause.REPEAT


def test_a_repeat_that_waited_past_the_window_is_not_sent(ledger: SqlLedger) -> None:
    clock, connector = Clock(NOW), WithKey(Ambiguous("read timed out"))
    dispatch = lost_at(ledger, connector, clock)
    clock.advance(30 * MINUTE)
    assert dispatch.reconcile("x-main") == 1
    clock.advance(WINDOW)  # the channel was held or paused meanwhile
    assert publish(dispatch) == 1
    assert len(connector.posts) == 1  # not sent again
    row = ledger.find(KEY)
    assert (row.state, row.error_class) == (State.UNKNOWN, ErrorClass.WINDOW)
    assert row.last_error == (
        "an earlier attempt may have gone out, and the platform recognises a repeat only until "
        "2027-02-09 09:00:00 UTC: it is looked up instead"
    )
    assert dispatch.reconcile("x-main") == 1 and connector.lookups == [KEY]


def test_a_key_without_a_known_window_is_looked_up(ledger: SqlLedger) -> None:
    class Unbounded(WithKey):
        capabilities: ClassVar[Capabilities] = Capabilities(
            rules=PLATFORMS["webhook"], idempotency="key", lookup=True
        )

    clock, connector = Clock(NOW), Unbounded(Ambiguous("read timed out"))
    dispatch = lost_at(ledger, connector, clock)
    clock.advance(SETTLE)
    assert dispatch.reconcile("x-main") == 1
    assert connector.lookups == [KEY]


@pytest.mark.parametrize("age", [timedelta(0), timedelta(days=30)])
def test_a_record_key_is_sent_again_at_any_age(ledger: SqlLedger, age: timedelta) -> None:
    clock, connector = Clock(NOW), WithRecordKey(Ambiguous("read timed out"))
    dispatch = lost_at(ledger, connector, clock)
    connector.unavailable = True
    clock.advance(age)
    assert dispatch.reconcile("x-main") == 1
    assert connector.lookups == []
    assert ledger.history(KEY)[-1].reason == f"{REPEATED} (the same record key)"
    assert ledger.history(KEY)[-1].cause == Cause.REPEAT


def test_a_look_up_out_of_reach_does_not_stop_the_repeats(ledger: SqlLedger) -> None:
    clock = Clock(NOW)
    connector = WithKey(Ambiguous("read timed out"), Ambiguous("read timed out"))
    old, recent = delivery("old", due=NOW), delivery("recent", due=NOW + 2 * WINDOW)
    ledger.sync([old, recent], NOW)
    dispatch = dispatcher(ledger, connector, clock)
    assert publish(dispatch) == 1
    clock.advance(2 * WINDOW)
    assert publish(dispatch) == 1
    clock.advance(SETTLE)
    connector.unavailable = True
    assert dispatch.reconcile("x-main") == 1
    assert connector.lookups == [old.key]
    assert ledger.find(old.key).state == State.UNKNOWN  # waits for the platform or you
    assert ledger.find(recent.key).state == State.PLANNED
