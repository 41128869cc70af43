"""Reconciling unknown deliveries (docs/design.md rule 5): looked up where the platform
allows, and sent again directly on platforms that recognise a repeat.

With a request key (Mastodon) a delivery is sent again directly while the platform still
remembers the key: within its window, counted from the earliest attempt that may have gone
out. With a record key (Bluesky) always. Otherwise it is looked up.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

import pytest

from campaigns.platforms import PLATFORMS
from connectors.base import (
    Ambiguous,
    Capabilities,
    ChannelAccess,
    Connector,
    LookupUnavailable,
    PlatformRef,
    Post,
    Published,
)
from connectors.outbox import OutboxConnector
from connectors.platforms.mastodon.connector import MastodonConnector
from scheduler.config import Policies
from scheduler.dispatch import Dispatcher, FailureStreak
from scheduler.ledger.api import Cause, ErrorClass, State
from scheduler.ledger.sql import SqlLedger
from scheduler.reconcile import Reconciler
from scheduler.repeats import REPEAT_MARGIN, REPEATED
from tests.scheduler.ledgerkit import NOW, Clock, ScriptedConnector, delivery, ref
from tests.scheduler.test_dispatch import POLICIES, Listener

MINUTE = timedelta(minutes=1)
WINDOW = timedelta(hours=1)
DEFAULTS = Policies()
SETTLE = DEFAULTS.reconcile_after
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


class Pipeline:
    """Channels' publishing and reconciling, paired as the daemon pairs them: one clock, one
    streak of ledger failures."""

    def __init__(
        self,
        ledger: SqlLedger,
        *connectors: Connector,
        clock: Clock,
        policies: Policies = DEFAULTS,
        listener: Listener | None = None,
    ) -> None:
        by_name = {c.config.name: c for c in connectors}
        streak = FailureStreak()
        self.dispatcher = Dispatcher(
            ledger,
            by_name,
            policies,
            "host:1",
            clock=clock,
            listener=listener,
            wait=clock.wait,
            streak=streak,
        )
        self.reconciler = Reconciler(
            ledger,
            by_name,
            policies,
            "host:1",
            clock=clock,
            on_settled=None if listener is None else listener.settled,
            streak=streak,
        )

    def reconcile(self, channel: str = "x-main") -> int:
        return self.reconciler.reconcile(channel)


def paired(ledger: SqlLedger, connector: ScriptedConnector, clock: Clock) -> Pipeline:
    return Pipeline(ledger, connector, clock=clock)


def publish(pipeline: Pipeline, channel: str = "x-main") -> int:
    return pipeline.dispatcher.run_channel(channel, threading.Event())


def lost_at(ledger: SqlLedger, connector: WithKey, clock: Clock) -> Pipeline:
    """Delivery `a`, due at NOW, whose first attempt at `clock.now` times out."""
    ledger.sync([delivery("a", due=NOW, deadline=NOW + timedelta(days=1))], NOW)
    pipeline = paired(ledger, connector, clock)
    assert publish(pipeline) == 1
    assert ledger.find(KEY).state == State.UNKNOWN
    return pipeline


def test_mastodon_recognises_a_repeated_key_for_an_hour() -> None:
    assert MastodonConnector.capabilities.idempotency_window == timedelta(hours=1)


def test_within_the_window_an_unknown_delivery_is_sent_again_without_a_look_up(
    ledger: SqlLedger,
) -> None:
    clock, connector = Clock(NOW), WithKey(Ambiguous("read timed out"))
    pipeline = lost_at(ledger, connector, clock)
    clock.advance(WINDOW - REPEAT_MARGIN - MINUTE)
    assert pipeline.reconcile("x-main") == 1
    assert connector.lookups == []
    row = ledger.find(KEY)
    assert row.state == State.PLANNED
    reason = ledger.history(KEY)[-1].reason or ""
    assert reason.startswith(REPEATED) and "idempotency key, within 1 hour" in reason
    assert ledger.history(KEY)[-1].cause == Cause.REPEAT
    assert publish(pipeline) == 1
    assert [p.key for p in connector.posts] == [KEY, KEY]  # the same key: recognised
    assert ledger.find(KEY).state == State.SENT


def test_an_unknown_delivery_is_left_alone_while_the_platform_may_still_post_it(
    ledger: SqlLedger,
) -> None:
    """A slow Mastodon created the post after the client gave up; a repeat sent meanwhile
    was not recognised (the key is stored once the post exists) and posted it twice (found
    with a fake platform that takes longer than the channel's timeout)."""
    clock, connector = Clock(NOW), WithKey(Ambiguous("read timed out"))
    pipeline = lost_at(ledger, connector, clock)
    clock.advance(SETTLE - timedelta(seconds=1))
    assert pipeline.reconcile("x-main") == 0
    assert (connector.lookups, ledger.find(KEY).state) == ([], State.UNKNOWN)
    clock.advance(timedelta(seconds=1))
    assert pipeline.reconcile("x-main") == 1
    assert ledger.find(KEY).state == State.PLANNED


def test_past_the_window_it_is_looked_up(ledger: SqlLedger) -> None:
    clock, connector = Clock(NOW), WithKey(Ambiguous("read timed out"))
    pipeline = lost_at(ledger, connector, clock)
    clock.advance(WINDOW - REPEAT_MARGIN)
    connector.found[KEY] = ref(9)
    assert pipeline.reconcile("x-main") == 1
    assert connector.lookups == [KEY]
    assert (ledger.find(KEY).state, ledger.find(KEY).ref) == (State.SENT, ref(9))


def test_the_window_counts_from_the_first_attempt_that_may_have_gone_out(
    ledger: SqlLedger,
) -> None:
    clock = Clock(NOW)
    connector = WithKey(Ambiguous("read timed out"), Ambiguous("read timed out"))
    pipeline = lost_at(ledger, connector, clock)
    clock.advance(20 * MINUTE)
    assert pipeline.reconcile("x-main") == 1  # repeated: within the first attempt's window
    assert publish(pipeline) == 1  # ... and lost again
    clock.advance(WINDOW - REPEAT_MARGIN - 20 * MINUTE)  # 35 minutes after the last attempt
    assert pipeline.reconcile("x-main") == 1
    assert connector.lookups == [KEY]
    assert ledger.find(KEY).state == State.PLANNED  # not found: planned again
    assert ledger.history(KEY)[-1].reason == "not found on the platform: planned again"


def test_a_look_up_that_finds_nothing_opens_a_new_window(ledger: SqlLedger) -> None:
    clock = Clock(NOW)
    connector = WithKey(Ambiguous("read timed out"), Ambiguous("read timed out"))
    pipeline = lost_at(ledger, connector, clock)
    clock.advance(2 * WINDOW)
    assert pipeline.reconcile("x-main") == 1 and connector.lookups == [KEY]
    assert publish(pipeline) == 1  # lost again, two hours after the first
    clock.advance(10 * MINUTE)
    assert pipeline.reconcile("x-main") == 1
    assert connector.lookups == [KEY]  # repeated, not looked up
    assert (ledger.history(KEY)[-1].reason or "").startswith(REPEATED)
    causes = [step.cause for step in ledger.history(KEY)]  # the look-up's step has none
    assert causes.count(Cause.REPEAT) == 1 and causes[-1] == Cause.REPEAT


def test_a_repeat_that_waited_past_the_window_is_not_sent(ledger: SqlLedger) -> None:
    clock, connector = Clock(NOW), WithKey(Ambiguous("read timed out"))
    pipeline = lost_at(ledger, connector, clock)
    clock.advance(30 * MINUTE)
    assert pipeline.reconcile("x-main") == 1
    clock.advance(WINDOW)  # the channel was held or paused meanwhile
    assert publish(pipeline) == 1
    assert len(connector.posts) == 1  # not sent again
    row = ledger.find(KEY)
    assert (row.state, row.error_class) == (State.UNKNOWN, ErrorClass.WINDOW)
    assert row.last_error == (
        "an earlier attempt may have gone out, and the platform recognises a repeat only until "
        "2027-02-09 09:00:00 UTC: it is looked up instead"
    )
    assert pipeline.reconcile("x-main") == 1 and connector.lookups == [KEY]


def test_a_key_without_a_known_window_is_looked_up(ledger: SqlLedger) -> None:
    class Unbounded(WithKey):
        capabilities: ClassVar[Capabilities] = Capabilities(
            rules=PLATFORMS["webhook"], idempotency="key", lookup=True
        )

    clock, connector = Clock(NOW), Unbounded(Ambiguous("read timed out"))
    pipeline = lost_at(ledger, connector, clock)
    clock.advance(SETTLE)
    assert pipeline.reconcile("x-main") == 1
    assert connector.lookups == [KEY]


@pytest.mark.parametrize("age", [timedelta(0), timedelta(days=30)])
def test_a_record_key_is_sent_again_at_any_age(ledger: SqlLedger, age: timedelta) -> None:
    clock, connector = Clock(NOW), WithRecordKey(Ambiguous("read timed out"))
    pipeline = lost_at(ledger, connector, clock)
    connector.unavailable = True
    clock.advance(age)
    assert pipeline.reconcile("x-main") == 1
    assert connector.lookups == []
    assert ledger.history(KEY)[-1].reason == f"{REPEATED} (the same record key)"
    assert ledger.history(KEY)[-1].cause == Cause.REPEAT


def test_a_look_up_out_of_reach_does_not_stop_the_repeats(ledger: SqlLedger) -> None:
    clock = Clock(NOW)
    connector = WithKey(Ambiguous("read timed out"), Ambiguous("read timed out"))
    old, recent = delivery("old", due=NOW), delivery("recent", due=NOW + 2 * WINDOW)
    ledger.sync([old, recent], NOW)
    pipeline = paired(ledger, connector, clock)
    assert publish(pipeline) == 1
    clock.advance(2 * WINDOW)
    assert publish(pipeline) == 1
    clock.advance(SETTLE)
    connector.unavailable = True
    assert pipeline.reconcile("x-main") == 1
    assert connector.lookups == [old.key]
    assert ledger.find(old.key).state == State.UNKNOWN  # waits for the platform or you
    assert ledger.find(recent.key).state == State.PLANNED


class Idempotent(ScriptedConnector):
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORMS["mastodon"], idempotency="key", lookup=True
    )


@pytest.mark.parametrize("cls", [ScriptedConnector, Idempotent])
def test_reconcile_settles_unknown_deliveries_it_can_look_up(
    ledger: SqlLedger, cls: type[ScriptedConnector]
) -> None:
    ledger.sync([delivery("found"), delivery("absent")], NOW)
    connector = cls("x-main", Ambiguous("timeout"), Ambiguous("timeout"))
    listener = Listener()
    pipeline = Pipeline(
        ledger, connector, clock=Clock(NOW + MINUTE), policies=POLICIES, listener=listener
    )
    assert publish(pipeline) == 2
    connector.found[delivery("found").key] = ref(5)
    settled = pipeline.reconcile("x-main")
    found, absent = ledger.find(delivery("found").key), ledger.find(delivery("absent").key)
    assert (found.state, found.ref) == (State.SENT, ref(5))
    if cls is Idempotent:
        assert settled == 2 and absent.state == State.PLANNED
    else:  # not found, but a repeat would not be recognised: left to an operator
        assert settled == 1 and absent.state == State.UNKNOWN
    assert (found.key, State.SENT) in [(k, s) for k, s, _ in listener.heard.settled]


class DroppedAfterWriting(OutboxConnector):
    """The post reaches the outbox, then the connection drops: the outcome is unknown."""

    def publish(self, post: Post) -> Published:
        super().publish(post)
        raise Ambiguous("connection dropped after sending")


class DroppedBeforeWriting(OutboxConnector):
    def publish(self, post: Post) -> Published:
        raise Ambiguous("connection dropped while sending")


def test_reconcile_with_the_outbox(ledger: SqlLedger, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    config = ChannelAccess("x-main", "x")
    ledger.sync([delivery("a"), delivery("b", channel="m")], NOW)
    after = DroppedAfterWriting(config, outbox)
    before = DroppedBeforeWriting(ChannelAccess("m", "x"), outbox)
    pipeline = Pipeline(ledger, after, before, clock=Clock(NOW + MINUTE), policies=POLICIES)
    assert publish(pipeline) == 1 and publish(pipeline, "m") == 1
    assert ledger.counts()[State.UNKNOWN] == 2
    assert pipeline.reconcile("x-main") == 1
    assert pipeline.reconcile("m") == 1
    sent, planned = ledger.find(delivery("a").key), ledger.find(delivery("b", channel="m").key)
    assert sent.state == State.SENT
    assert sent.ref is not None and sent.ref.url and sent.ref.url.startswith(outbox.as_uri())
    assert planned.state == State.PLANNED
    again = Pipeline(
        ledger, OutboxConnector(ChannelAccess("m", "x"), outbox), clock=Clock(NOW + MINUTE)
    )
    assert publish(again, "m") == 1
    assert len(outbox.read_text().splitlines()) == 2  # each went out once
