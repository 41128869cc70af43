"""`clarion status`, through the CLI, on both back-ends: what needs attention, what holds late
deliveries back, one campaign's scope (its exact output: test_cli_status_pinned.py)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scheduler.ledger.api import ErrorClass, Failed, Retry, Sent, Unknown
from scheduler.ledger.sql import SqlLedger
from tests.scheduler.ledgerkit import LEASE, delivery, ref
from tests.scheduler.operatorkit import HOUR, NOW, clarion, settle


def test_status_of_a_fresh_ledger(ledger: SqlLedger, config: Path) -> None:
    result = clarion(config, "status")
    assert result.exit_code == 0, result.output
    assert "Deliveries: none yet" in result.output


def test_status_shows_what_needs_attention(ledger: SqlLedger, config: Path) -> None:
    unknown = settle(ledger, "lost", Unknown("read timed out", ErrorClass.AMBIGUOUS))
    failed = settle(
        ledger, "long", Failed("rejected by the platform: too long", ErrorClass.REJECTED)
    )
    sent = settle(ledger, "ok", Sent(ref(3)))
    ledger.sync(
        [
            *(r.delivery for r in ledger.rows()),
            delivery("late", due=NOW - 2 * HOUR),
            delivery("next", due=NOW + 2 * HOUR),
        ],
        NOW,
    )
    ledger.pause("sayno", "legal review", "alice", NOW)
    ledger.hold_channel("ch-x", "token revoked", NOW)

    result = clarion(config, "status")
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Deliveries: 2 planned, 1 sent, 1 failed, 1 unknown" in text
    assert "PAUSED: campaign sayno" in text and "by alice: legal review" in text
    assert "HELD: channel ch-x" in text and "token revoked" in text
    assert f"Next due: {delivery('next').key}" in text
    assert "clarion resolve KEY --sent URL" in text
    assert f"  {unknown}\n      since" in text and "read timed out" in text
    assert failed in text and "too long" in text
    assert sent in text and "https://x.example/status/3" in text
    # NOW is when the module was imported: in a long run the lateness has grown since.
    assert delivery("late").key in text and re.search(r"\b2h \d+m late", text)

    report = json.loads(clarion(config, "status", "--format", "json").output)
    assert report["counts"]["unknown"] == 1
    assert [u["key"] for u in report["unknown"]] == [unknown]
    assert report["recent_sent"][0]["url"] == "https://x.example/status/3"
    assert report["failed"][0]["reason"] == "rejected by the platform: too long"
    assert report["next_due"]["key"] == delivery("next").key
    assert report["paused"] == [
        {
            "campaign": "sayno",
            "reason": "legal review",
            "since": report["paused"][0]["since"],
            "until": None,
            "by": "alice",
        }
    ]
    assert report["held_channels"] == {"ch-x": "token revoked"}


def test_status_says_what_holds_late_deliveries_back_and_shows_a_burst_briefly(
    ledger: SqlLedger, config: Path
) -> None:
    """A paused burst listed hundreds of late keys, with nothing to say why (found by
    running the daemon against a fake platform)."""
    now = datetime.now(UTC)
    burst = [delivery(f"p{i:03}", due=now - timedelta(seconds=20)) for i in range(40)]
    parts = [
        delivery("tips", part=n, size=2, channel="ch-t", campaign="other", due=now - HOUR)
        for n in (1, 2)
    ]
    ledger.sync([*burst, *parts], now)
    claim = ledger.claim("ch-t", "host:9", LEASE, now)
    assert claim is not None and ledger.finish(
        claim, Unknown("read timed out", ErrorClass.AMBIGUOUS), NOW
    )
    ledger.pause("sayno", None, "alice", now)

    text = clarion(config, "status").output
    first = "p000/en/x-main\n      under a minute late, waiting for its campaign to be resumed"
    assert first in text
    assert "p010" not in text and "… and 31 more (`clarion status --format json`" in text
    assert "waiting for the previous part of its thread (unknown)" in text
    report = json.loads(clarion(config, "status", "--format", "json").output)
    assert len(report["late"]) == 41
    assert report["late"][-1]["waiting_for"] == "its campaign to be resumed (paused by alice)"
    assert report["late"][-1]["waiting_kind"] == "pause"


def test_status_names_the_deliveries_that_expired(ledger: SqlLedger, config: Path) -> None:
    """A burst longer than its deadline showed only "81 expired", not which ones."""
    now = datetime.now(UTC)
    old = [delivery(f"e{i:02}", due=now - HOUR, deadline=now - HOUR / 2) for i in range(12)]
    ledger.sync(old, now)
    text = clarion(config, "status").output
    assert "Deliveries: 12 expired" in text
    assert "Expired: not posted, their deadline passed" in text and "clarion retry KEY" in text
    assert "past its deadline" in text and "… and 2 more\n" in text
    report = json.loads(clarion(config, "status", "--format", "json").output)
    assert len(report["expired"]) == 10 and "past its deadline" in report["expired"][0]["reason"]


def test_status_of_one_campaign(ledger: SqlLedger, config: Path) -> None:
    ledger.sync([delivery("a"), delivery("b", campaign="other")], NOW)
    report = json.loads(clarion(config, "status", "other", "--format", "json").output)
    assert report["counts"]["planned"] == 1
    wrong = clarion(config, "status", "sayn0")
    assert wrong.exit_code == 1
    assert "no campaign 'sayn0'. Did you mean: sayno?" in wrong.stderr


def test_status_names_a_retry_back_off_and_a_rate_budget(
    ledger: SqlLedger, config: Path, ledger_url: str
) -> None:
    now = datetime.now(UTC)
    config.write_text(
        f"ledger: '{ledger_url}'\n"
        "channels:\n"
        "  ch-ok: {platform: mastodon, base_url: 'https://m.example', "
        "credentials: {access_token: '${NOT_SET}'}, rate: {posts: 1, per: 1h}}\n"
    )
    settle(ledger, "ok", Sent(ref(3)), at=now)
    back_off = Retry(now + HOUR, "rate limited by the platform", ErrorClass.RETRY_LATER)
    settle(ledger, "again", back_off, at=now)
    ledger.sync(
        [*(r.delivery for r in ledger.rows()), delivery("queued", due=now - HOUR, channel="ch-ok")],
        now,
    )
    ledger.beat("host:9", now, now, now + HOUR, False)
    report = json.loads(clarion(config, "status", "--format", "json").output)
    late = {item["key"].split("/")[1]: item for item in report["late"]}
    assert late["again"]["waiting_kind"] == "retry"
    assert late["again"]["waiting_for"].startswith("its next try at ")
    assert late["queued"]["waiting_kind"] == "rate"
    assert "channel ch-ok's rate budget: its next post at" in late["queued"]["waiting_for"]
    text = clarion(config, "status").output
    assert "waiting for its next try at" in text and "rate limited by the platform" in text


def test_a_held_channel_s_reason_is_said_once_per_late_delivery(
    ledger: SqlLedger, config: Path
) -> None:
    now = datetime.now(UTC)
    refused = "the platform refused the credentials: token revoked"
    settle(ledger, "held", Retry(now - HOUR, refused, ErrorClass.AUTH), at=now)
    ledger.hold_channel("ch-held", refused, now)
    text = clarion(config, "status").output
    line = next(line for line in text.splitlines() if "waiting for channel ch-held" in line)
    assert line.count("token revoked") == 1, line
