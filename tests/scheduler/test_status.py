"""The status report as records (scheduler.status), on both back-ends: what `clarion status`
prints is written from these, and `--format json` is `as_json()`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from scheduler.config import load_config
from scheduler.ledger.api import ErrorClass, Failed, State
from scheduler.ledger.sql import SqlLedger
from scheduler.status import RECENT, gather
from tests.scheduler.ledgerkit import LEASE, NOW, delivery

HOUR = timedelta(hours=1)


def test_gather_says_what_each_delivery_waits_for(ledger: SqlLedger, tmp_path: Path) -> None:
    config_file = tmp_path / "config.yaml"
    config_file.write_text(f"ledger: '{ledger.url}'\n")
    config = load_config(config_file)
    failing = [delivery(f"f{i:02}", channel="ch-f", due=NOW - 2 * HOUR) for i in range(12)]
    late = delivery("late", due=NOW - HOUR)
    ahead = delivery("ahead", campaign="other", due=NOW + HOUR)
    ledger.sync([*failing, late, ahead], NOW - 3 * HOUR)
    for minutes in range(len(failing), 0, -1):  # the last to fail is listed first
        at = NOW - timedelta(minutes=minutes)
        claim = ledger.claim("ch-f", "host:9", LEASE, at)
        assert claim is not None and ledger.finish(
            claim, Failed("too long", ErrorClass.REJECTED), at
        )
    ledger.pause("sayno", "legal review", "alice", NOW - HOUR)

    report = gather(ledger, config, NOW)
    assert report.counts[State.PLANNED] == 2 and report.counts[State.FAILED] == 12
    assert [item.row.key for item in report.late] == [late.key]
    waiting = report.late[0].waiting
    assert waiting is not None and waiting.kind == "pause" and "alice" in waiting.words
    assert report.next_due is not None and report.next_due.row.key == ahead.key
    assert report.next_due.waiting is not None and report.next_due.waiting.kind == "daemon"
    assert len(report.failed) == RECENT and report.failed[0].row.key == failing[-1].key
    assert [c.campaign for c in report.paused] == ["sayno"] and not report.daemons

    document = json.loads(json.dumps(report.as_json()))
    assert document["late"][0]["waiting_kind"] == "pause"
    assert document["counts"]["failed"] == 12 and document["campaign"] is None

    other = gather(ledger, config, NOW, "other")
    assert other.late == [] and other.paused == [] and other.failed == []
    assert other.next_due is not None and other.next_due.row.key == ahead.key
