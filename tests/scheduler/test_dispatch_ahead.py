"""Claimed ahead, sent on time (issue 13): a delivery due within `early` is claimed and its
connection opened before its instant, then sent at the instant and never before; a pause or a
stop in between releases the claim; the lease is kept and fenced while it waits."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from campaigns.blackouts import Safety, Window
from campaigns.problems import Location
from connectors.base import Post, Published, before_sending
from connectors.platforms.mastodon.connector import MastodonConnector
from connectors.platforms.mastodon.fake import MastodonFake
from scheduler.config import Policies, RateSettings
from scheduler.dispatch import Dispatcher
from scheduler.ledger.api import Released, State
from scheduler.ledger.sql import SqlLedger
from tests.scheduler.ledgerkit import NOW, Clock, ScriptedConnector, delivery
from tests.scheduler.test_dispatch import Listener

SECOND = timedelta(seconds=1)
EARLY = 2 * SECOND
DUE = NOW + SECOND


class Watching(ScriptedConnector):
    """Notes the clock when it opens its connection ahead and when it publishes."""

    def __init__(self, clock: Clock) -> None:
        super().__init__("x-main")
        self.clock = clock
        self.warmed: list[datetime] = []
        self.published_at: list[datetime] = []

    def warm(self) -> None:
        self.warmed.append(self.clock())

    def publish(self, post: Post) -> Published:
        self.published_at.append(self.clock())
        return super().publish(post)


class Meanwhile(Clock):
    """A clock whose first wait for the instant also runs `then` (a pause, a stop)."""

    def __init__(self, then: Any) -> None:
        super().__init__(NOW)
        self.then = then

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        if self.then is not None:
            self.then()
            self.then = None
        return super().wait(stop, seconds)


def ahead(
    ledger: SqlLedger,
    connector: ScriptedConnector,
    clock: Clock,
    listener: Listener | None = None,
    **kw: Any,
) -> Dispatcher:
    return Dispatcher(
        ledger,
        {connector.config.name: connector},
        Policies(),
        "host:1",
        clock=clock,
        listener=listener,
        wait=clock.wait,
        early=EARLY,
        **kw,
    )


def test_a_delivery_claimed_ahead_goes_out_at_its_instant_never_before(
    ledger: SqlLedger,
) -> None:
    ledger.sync([delivery("a", due=DUE)], NOW - SECOND)
    clock = Clock(NOW)
    connector = Watching(clock)
    listener = Listener()
    assert ahead(ledger, connector, clock, listener).run_channel("x-main", threading.Event()) == 1
    assert connector.warmed == [NOW]  # claimed and made ready a second ahead
    assert connector.published_at == [DUE]
    history = ledger.history(delivery("a").key)
    assert [(t.to_state, t.at) for t in history[-2:]] == [
        (State.CLAIMED, NOW),
        (State.SENT, DUE),
    ]
    assert listener.heard.finished[0][2] == 0.0  # late by nothing


def test_nothing_is_claimed_ahead_of_a_later_post_or_on_a_channel_with_a_rate_budget(
    ledger: SqlLedger,
) -> None:
    ledger.sync([delivery("a", due=NOW + 3 * SECOND)], NOW - SECOND)
    clock = Clock(NOW)
    connector = Watching(clock)
    assert ahead(ledger, connector, clock).run_channel("x-main", threading.Event()) == 0
    clock.advance(2 * SECOND)
    rates = {"x-main": RateSettings(posts=10, per=timedelta(hours=1))}
    rated = ahead(ledger, connector, clock, rates=rates)
    assert rated.run_channel("x-main", threading.Event()) == 0  # the budget counts claims
    assert connector.posts == []


def test_a_pause_between_the_early_claim_and_the_instant_stops_the_send(
    ledger: SqlLedger,
) -> None:
    ledger.sync([delivery("a", due=DUE)], NOW - SECOND)
    clock = Meanwhile(lambda: ledger.pause("sayno", "incident", "alice", NOW))
    connector = Watching(clock)
    listener = Listener()
    assert ahead(ledger, connector, clock, listener).run_channel("x-main", threading.Event()) == 1
    assert connector.posts == []
    assert listener.heard.finished[0][1] == Released("its campaign was paused before its due time")
    row = ledger.find(delivery("a").key)
    assert (row.state, row.attempts, row.lease_owner) == (State.PLANNED, 0, None)
    ledger.resume("sayno", "alice", DUE)
    clock.advance(SECOND)
    assert ahead(ledger, connector, clock).run_channel("x-main", threading.Event()) == 1
    assert [post.key for post in connector.posts] == [row.key]
    assert ledger.find(row.key).attempts == 1


def test_a_blackout_added_between_the_early_claim_and_the_instant_holds_the_post(
    ledger: SqlLedger,
) -> None:
    ledger.sync([delivery("a", due=DUE)], NOW - SECOND)
    mourning = Window(DUE, DUE + 5 * SECOND, "Mourning", None, Location("sayno.yaml", 9, 3))
    added = Safety("sayno", (mourning,), frozenset())
    clock = Meanwhile(lambda: ledger.set_blackouts(added, replace=True))  # a plan reloaded
    connector = Watching(clock)
    listener = Listener()
    assert ahead(ledger, connector, clock, listener).run_channel("x-main", threading.Event()) == 1
    assert connector.posts == []
    said = "the blackout 'Mourning' began before its due time"
    assert listener.heard.finished[0][1] == Released(said)
    row = ledger.find(delivery("a").key)
    assert (row.state, row.attempts, row.lease_owner) == (State.PLANNED, 0, None)
    clock.advance(SECOND)
    assert ahead(ledger, connector, clock).run_channel("x-main", threading.Event()) == 0
    clock.advance(5 * SECOND)  # the blackout is over
    assert ahead(ledger, connector, clock).run_channel("x-main", threading.Event()) == 1
    assert [post.key for post in connector.posts] == [row.key]


def test_a_stop_while_it_waits_for_the_instant_releases_the_claim(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a", due=DUE)], NOW - SECOND)
    stop = threading.Event()
    clock = Meanwhile(stop.set)
    connector = Watching(clock)
    assert ahead(ledger, connector, clock).run_channel("x-main", stop) == 1
    assert connector.posts == []
    row = ledger.find(delivery("a").key)
    assert (row.state, row.attempts) == (State.PLANNED, 0)


def test_a_post_reaches_the_platform_at_or_after_its_due_time(ledger: SqlLedger) -> None:
    """With the real clock and the Mastodon fake, which notes when each request arrived."""
    with MastodonFake() as fake:
        connector = MastodonConnector(replace(fake.channel(), name="mastodon-main"))
        due = datetime.now(UTC) + timedelta(milliseconds=300)
        ledger.sync(
            [delivery("a", channel="mastodon-main", platform="mastodon", due=due)],
            datetime.now(UTC),
        )
        dispatch = Dispatcher(
            ledger, {"mastodon-main": connector}, Policies(), "host:1", early=EARLY
        )
        try:
            assert dispatch.run_channel("mastodon-main", threading.Event()) == 1
        finally:
            connector.close()
        [made] = [r for r in fake.requests if r.path == "/api/v1/statuses"]
    assert made.received >= due.timestamp()


class Recording(ScriptedConnector):
    """Notes the lease of each delivery's claim as its request is about to leave (and asks
    the scheduler first, as the HTTP connectors do)."""

    def __init__(self, ledger: SqlLedger) -> None:
        super().__init__("x-main")
        self.ledger = ledger
        self.leases: dict[str, datetime | None] = {}

    def publish(self, post: Post) -> Published:
        before_sending()
        self.leases[post.key] = self.ledger.find(post.key).lease_until
        return super().publish(post)


def waiting(
    ledger: SqlLedger, listener: Listener | None = None
) -> tuple[Recording, threading.Thread, datetime]:
    """A channel's thread, in real time, waiting 1.5 s for its post's instant; its claim
    has a lease of 3 s, renewed every second."""
    now = datetime.now(UTC)
    ledger.sync([delivery("a", due=now + timedelta(milliseconds=1500))], now)
    connector = Recording(ledger)
    dispatch = Dispatcher(
        ledger,
        {"x-main": connector},
        Policies(lease=3 * SECOND),
        "host:1",
        listener=listener,
        early=EARLY,
    )
    thread = threading.Thread(target=dispatch.run_channel, args=("x-main", threading.Event()))
    thread.start()
    return connector, thread, now


@pytest.mark.slow
def test_the_lease_is_renewed_while_it_waits_for_the_instant(ledger: SqlLedger) -> None:
    connector, thread, now = waiting(ledger)
    thread.join(10)
    lease_at_publish = connector.leases[delivery("a").key]
    assert lease_at_publish is not None and lease_at_publish > now + 3 * SECOND
    assert ledger.find(delivery("a").key).state == State.SENT


@pytest.mark.slow
def test_a_claim_lost_while_it_waits_sends_nothing(ledger: SqlLedger) -> None:
    """Another daemon's sweeper found the lease run out (its clock ahead) and marked the
    delivery unknown: the next renewal fails, and nothing leaves at the instant."""
    listener = Listener()
    connector, thread, _ = waiting(ledger, listener)
    key = delivery("a").key
    for _ in range(100):
        claimed = ledger.find(key)
        if claimed.state == State.CLAIMED:
            break
        time.sleep(0.01)
    assert claimed.lease_until is not None
    assert ledger.expire_leases(claimed.lease_until + SECOND) == [key]
    thread.join(10)
    assert connector.posts == []
    assert ledger.find(key).state == State.UNKNOWN  # the fence kept it
    assert [found for found, _ in listener.heard.lost] == [key]
