"""The pauses read at a post's instant: one read, begun at or after the instant, answers for
every post due then."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from scheduler.ledger.api import Control, LedgerUnavailable
from scheduler.pausecheck import PauseCheck
from tests.scheduler.ledgerkit import NOW, Clock

SECOND = timedelta(seconds=1)


class Controls:
    """Plays `Ledger.controls`, slowly, counting the reads."""

    def __init__(self, *controls: Control) -> None:
        self.found = list(controls)
        self.reads: list[datetime] = []
        self.failing = False

    def controls(self, now: datetime | None = None) -> list[Control]:
        assert now is not None
        self.reads.append(now)
        time.sleep(0.05)
        if self.failing:
            raise LedgerUnavailable("the ledger is unavailable")
        return list(self.found)


def paused(campaign: str | None) -> Control:
    return Control(campaign, "incident", NOW, "alice", None)


def test_posts_due_at_one_instant_share_one_read() -> None:
    ledger = Controls(paused("sayno"))
    check = PauseCheck(ledger, Clock(NOW))  # type: ignore[arg-type]
    answers: list[bool] = []
    threads = [
        threading.Thread(target=lambda c=c: answers.append(check.paused(c, NOW)))
        for c in ["sayno", "other"] * 25
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert sorted(answers) == [False] * 25 + [True] * 25
    assert ledger.reads == [NOW]


def test_a_read_begun_before_the_instant_does_not_answer_for_it() -> None:
    ledger = Controls()
    clock = Clock(NOW)
    check = PauseCheck(ledger, clock)  # type: ignore[arg-type]
    assert not check.paused("sayno", NOW)
    ledger.found = [paused(None)]  # every campaign, paused after that read
    assert not check.paused("sayno", NOW)  # the same instant: the read stands
    clock.advance(SECOND)
    assert check.paused("sayno", NOW + SECOND)
    assert ledger.reads == [NOW, NOW + SECOND]


def test_a_ledger_that_cannot_be_read_leaves_the_claims_answer() -> None:
    ledger = Controls(paused("sayno"))
    ledger.failing = True
    assert not PauseCheck(ledger, Clock(NOW)).paused("sayno", NOW)  # type: ignore[arg-type]
