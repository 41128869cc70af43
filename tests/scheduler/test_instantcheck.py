"""The pauses and blackouts read at a post's instant: one read, begun at or after the instant,
answers for every post due then."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta

from campaigns.blackouts import Safety, Window
from campaigns.problems import Location
from scheduler.instantcheck import InstantCheck
from scheduler.ledger.api import Control, LedgerUnavailable, Row, State
from tests.scheduler.ledgerkit import NOW, Clock, delivery

SECOND = timedelta(seconds=1)
PAUSED = "its campaign was paused before its due time"


class Ledger:
    """Plays `Ledger.controls` and `Ledger.blackouts`, slowly, counting the reads."""

    def __init__(self, *controls: Control) -> None:
        self.found = list(controls)
        self.safety: dict[str, Safety] = {}
        self.reads: list[datetime] = []
        self.failing = False

    def controls(self, now: datetime | None = None) -> list[Control]:
        assert now is not None
        self.reads.append(now)
        time.sleep(0.05)
        if self.failing:
            raise LedgerUnavailable("the ledger is unavailable")
        return list(self.found)

    def blackouts(self) -> Mapping[str, Safety]:
        return dict(self.safety)


def paused(campaign: str | None) -> Control:
    return Control(campaign, "incident", NOW, "alice", None)


def due(post: str = "p1", campaign: str = "sayno", channel: str = "x-main") -> Row:
    """A row claimed ahead of its instant, NOW."""
    planned = delivery(post, campaign=campaign, channel=channel)
    return Row(
        planned.key, campaign, post, channel, "x", State.CLAIMED, NOW, None, planned,
        "sayno.yaml", "", 0, None, None, None, None, NOW,
    )  # fmt: skip


def check(ledger: Ledger, clock: Clock | None = None) -> InstantCheck:
    return InstantCheck(ledger, clock or Clock(NOW))  # type: ignore[arg-type]


def test_posts_due_at_one_instant_share_one_read() -> None:
    ledger = Ledger(paused("sayno"))
    instant = check(ledger)
    answers: list[str | None] = []
    threads = [
        threading.Thread(target=lambda c=c: answers.append(instant.stops(due(campaign=c), NOW)))
        for c in ["sayno", "other"] * 25
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert answers.count(PAUSED) == answers.count(None) == 25
    assert ledger.reads == [NOW]


def test_a_read_begun_before_the_instant_does_not_answer_for_it() -> None:
    ledger = Ledger()
    clock = Clock(NOW)
    instant = check(ledger, clock)
    assert instant.stops(due(), NOW) is None
    ledger.found = [paused(None)]  # every campaign, paused after that read
    assert instant.stops(due(), NOW) is None  # the same instant: the read stands
    clock.advance(SECOND)
    assert instant.stops(due(), NOW + SECOND) == PAUSED
    assert ledger.reads == [NOW, NOW + SECOND]


def test_a_ledger_that_cannot_be_read_leaves_the_claims_answer() -> None:
    ledger = Ledger(paused("sayno"))
    ledger.failing = True
    assert check(ledger).stops(due(), NOW) is None


def test_a_blackout_in_force_at_the_instant_stops_the_posts_it_covers() -> None:
    ledger = Ledger()
    window = Window(
        NOW - SECOND, NOW + SECOND, "Mourning", frozenset({"x-main"}), Location("s.yaml", 4, 3)
    )
    ledger.safety["sayno"] = Safety("sayno", (window,), frozenset({"urgent"}))
    instant = check(ledger)
    assert instant.stops(due(), NOW) == "the blackout 'Mourning' began before its due time"
    assert instant.stops(due(channel="m-main"), NOW) is None  # another channel
    assert instant.stops(due("urgent"), NOW) is None  # a post that ignores blackouts
    assert instant.stops(due(campaign="other"), NOW) is None
