"""`clarion pause` and `clarion resume`, through the CLI, on both back-ends: once pause
returns nothing more is claimed, even while a dispatcher runs; `--until` lifts it by itself."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scheduler.config import Policies
from scheduler.dispatch import Dispatcher
from scheduler.ledger.api import Claim, Outcome, Row, State
from scheduler.ledger.sql import SqlLedger
from tests.scheduler.ledgerkit import LEASE, ScriptedConnector, delivery
from tests.scheduler.operatorkit import HOUR, NOW, clarion


def test_pause_and_resume(ledger: SqlLedger, config: Path) -> None:
    ledger.sync([delivery("a", due=NOW - HOUR)], NOW)
    paused = clarion(config, "pause", "sayno", "--reason", "legal review")
    assert paused.exit_code == 0, paused.output
    assert "Paused campaign sayno: nothing more will be posted until `clarion resume sayno`" in (
        paused.output
    )
    [control] = ledger.controls()
    assert (control.campaign, control.reason) == ("sayno", "legal review")
    assert re.fullmatch(r".+@.+:\d+", control.by), "user@host:pid"
    assert ledger.claim("x-main", "d", LEASE, NOW) is None
    assert clarion(config, "pause", "--all").exit_code == 0
    resumed = clarion(config, "resume", "sayno")
    assert resumed.exit_code == 0
    assert "Every campaign is still paused (--all)" in resumed.output
    lifted = clarion(config, "resume", "--all")
    assert "1 delivery(ies) already due go out now" in lifted.output
    assert ledger.controls() == []
    assert "Nothing to do" in clarion(config, "resume", "sayno").output


def test_pause_checks_its_arguments(ledger: SqlLedger, config: Path) -> None:
    ledger.sync([delivery("a")], NOW)
    assert clarion(config, "pause").exit_code == 2
    both = clarion(config, "pause", "sayno", "--all")
    assert both.exit_code == 2 and "not both" in both.stderr
    typo = clarion(config, "pause", "sayn")
    assert typo.exit_code == 1 and "Did you mean: sayno?" in typo.stderr
    assert ledger.controls() == []
    assert clarion(config, "pause", "launch-2028", "--force").exit_code == 0
    assert [c.campaign for c in ledger.controls()] == ["launch-2028"]


class Watching(SqlLedger):
    """Notes every claim that started after `paused` was set and still succeeded."""

    def __init__(self, ledger: SqlLedger, paused: threading.Event) -> None:
        super().__init__(ledger.engine, "daemon", ledger.url)
        self.paused = paused
        self.late: list[str] = []

    def _watch(self, after: bool, found: Claim | None) -> None:
        if found is not None and after:
            self.late.append(found.row.key)

    def claim(self, *args: Any, **kw: Any) -> Claim | None:
        after = self.paused.is_set()
        found = super().claim(*args, **kw)
        self._watch(after, found)
        return found

    def finish_and_claim(self, *args: Any, **kw: Any) -> tuple[bool, Claim | None]:
        after = self.paused.is_set()
        recorded, found = super().finish_and_claim(*args, **kw)
        self._watch(after, found)
        return recorded, found


class Counting:
    def __init__(self) -> None:
        self.sent = 0
        self.warmed_up = threading.Event()

    def claimed(self, row: Row) -> None:
        pass

    def finished(self, row: Row, outcome: Outcome, seconds: float, lateness: float) -> None:
        self.sent += 1
        if self.sent >= 5:
            self.warmed_up.set()

    def lost_claim(self, row: Row, outcome: Outcome) -> None:
        pass

    def settled(self, key: str, state: State, reason: str) -> None:
        pass


def test_no_claim_succeeds_after_pause_returns_while_a_dispatcher_runs(
    ledger: SqlLedger, config: Path
) -> None:
    ledger.sync([delivery(f"p{i:03}", due=NOW - HOUR) for i in range(300)], NOW)
    paused = threading.Event()
    watching, listener = Watching(ledger, paused), Counting()
    dispatch = Dispatcher(
        watching, {"x-main": ScriptedConnector()}, Policies(), "d", listener=listener
    )
    worker = threading.Thread(target=dispatch.run_channel, args=("x-main", threading.Event()))
    worker.start()
    try:
        assert listener.warmed_up.wait(30)
        result = clarion(config, "pause", "sayno")
        paused.set()
        assert result.exit_code == 0, result.output
    finally:
        worker.join(30)
    assert not worker.is_alive()
    assert watching.late == []
    counts = ledger.counts()
    assert counts[State.PLANNED] > 0 and counts[State.SENT] >= 5 and counts[State.CLAIMED] == 0


def test_pause_until_stops_at_once_and_lifts_itself(ledger: SqlLedger, config: Path) -> None:
    now = datetime.now(UTC)
    ledger.sync([delivery("a", due=now - HOUR)], now)
    result = clarion(config, "pause", "sayno", "--until", "2h", "--reason", "incident")
    assert result.exit_code == 0, result.output
    assert "Paused campaign sayno until " in result.output and "(in 1h 59m)" in result.output
    assert ledger.claim("x-main", "host:9", LEASE, datetime.now(UTC)) is None
    [control] = ledger.controls()
    assert control.until is not None and timedelta(hours=1.9) < control.until - now < 3 * HOUR
    text = clarion(config, "status").output
    assert "PAUSED: campaign sayno, since" in text and ", until " in text
    assert "the pause lifts at" in text
    assert ledger.claim("x-main", "host:9", LEASE, control.until) is not None

    at = clarion(config, "pause", "--all", "--until", "2099-01-01 09:30 Europe/Brussels")
    assert at.exit_code == 0, at.output
    assert "until 2099-01-01 08:30 UTC" in at.output


@pytest.mark.parametrize(
    ("when", "words"),
    [
        ("yesterday", "'yesterday' is not a time"),
        ("2001-01-01 10:00", "'2001-01-01 10:00' is already past"),
        ("sid 10:00", "anchors such as 'sid' exist in campaign files only"),
        ("0s", "is already past"),
    ],
)
def test_pause_until_refuses_what_is_not_a_future_time(
    ledger: SqlLedger, config: Path, when: str, words: str
) -> None:
    result = clarion(config, "pause", "--all", "--until", when)
    assert result.exit_code == 2 and words in result.stderr, result.output
    assert "Traceback" not in result.output and ledger.controls() == []
