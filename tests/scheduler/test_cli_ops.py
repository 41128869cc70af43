"""`clarion retry|cancel|resolve|history`, and what every operator command shares (the ledger
and the configuration it names), through the CLI, on both back-ends."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scheduler.ledger.api import ErrorClass, Failed, Sent, State, Unknown
from scheduler.ledger.sql import SqlLedger
from tests.scheduler.ledgerkit import LEASE, delivery, ref
from tests.scheduler.operatorkit import HOUR, NOW, clarion, settle

CHANNELS: dict[str, dict[str, Any]] = {
    "telegram": {
        "platform": "telegram",
        "credentials": {"bot_token": "${TG_TOKEN}"},
        "options": {"chat_id": "@news"},
    },
    "mastodon": {
        "platform": "mastodon",
        "base_url": "https://social.example.org",
        "credentials": {"access_token": "${MASTODON_TOKEN}"},
    },
    "threads": {
        "platform": "threads",
        "credentials": {"access_token": "${THREADS_TOKEN}"},
        "options": {"user_id": "1234"},
    },
    "matrix": {
        "platform": "webhook",
        "credentials": {"url": "${MATRIX_URL}", "access_token": "${MATRIX_TOKEN}"},
        "options": {"format": "matrix", "room": "!room:example.org"},
    },
    "slack": {
        "platform": "webhook",
        "credentials": {"url": "${SLACK_URL}"},
        "options": {"format": "slack"},
    },
}
"""Channels as config.yaml declares them, by kind (their secrets are never read here)."""


def configure(config: Path, ledger_url: str, **channels: str) -> None:
    """config.yaml with these channels (name=kind from CHANNELS), written as JSON."""
    document = {"ledger": ledger_url, "channels": {n: CHANNELS[k] for n, k in channels.items()}}
    config.write_text(json.dumps(document))


def test_commands_need_an_existing_sqlite_ledger(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"ledger: 'sqlite:///{tmp_path}/nowhere/ledger.db'\n")
    result = clarion(config, "status")
    assert result.exit_code == 2
    assert "there is no ledger at" in result.stderr and "clarion run" in result.stderr


def test_a_broken_config_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("ledger: [not, a, url]\nstate_dri: x\n")
    result = clarion(config, "status")
    assert result.exit_code == 2
    assert "config.yaml:1:" in result.stderr


def test_retry_a_failed_delivery(ledger: SqlLedger, config: Path) -> None:
    key = settle(ledger, "long", Failed("too long", ErrorClass.REJECTED))
    now = datetime.now(UTC)
    ledger.beat("host:9", now, now, now + HOUR, False)
    result = clarion(config, "retry", key)
    assert result.exit_code == 0, result.output
    assert f"{key} is planned again and goes out within a minute" in result.output
    assert ledger.find(key).state == State.PLANNED
    again = clarion(config, "retry", key)
    assert again.exit_code == 1 and "is already planned" in again.stderr


def test_retry_does_not_promise_a_minute_when_no_daemon_runs(
    ledger: SqlLedger, config: Path
) -> None:
    key = settle(ledger, "long", Failed("too long", ErrorClass.REJECTED))
    now = datetime.now(UTC)
    ledger.beat("host:9", now - HOUR, now - HOUR, now - HOUR / 2, False)  # died an hour ago
    result = clarion(config, "retry", key)
    assert result.exit_code == 0, result.output
    assert "within a minute" not in result.output
    assert "no daemon is running on this ledger now: start `clarion run`" in result.output
    status = clarion(config, "status")
    assert "NO DAEMON is running on this ledger" in status.output
    assert "waiting for a daemon: none is running" in status.output
    ledger.beat("host:10", now, now, now + HOUR, True)
    report = json.loads(clarion(config, "status", "--format", "json").output)
    assert [d["process"] for d in report["daemons"]] == ["host:10"]
    assert report["daemons"][0]["dry_run"] is True
    assert "waiting_for" not in report["late"][0]
    ledger.stopped("host:10")
    assert "NO DAEMON" in clarion(config, "status").output


def test_retry_of_an_unknown_delivery_needs_force_where_a_repeat_would_double(
    ledger: SqlLedger, config: Path, ledger_url: str
) -> None:
    configure(config, ledger_url, **{"ch-lost": "telegram"})
    key = settle(
        ledger, "lost", Unknown("read timed out", ErrorClass.AMBIGUOUS), platform="telegram"
    )
    refused = clarion(config, "retry", key)
    assert refused.exit_code == 1
    assert "(read timed out), and the platform cannot recognise a repeat" in refused.stderr
    assert "retrying may post it twice" in refused.stderr
    assert f"clarion resolve {key} --sent URL" in refused.stderr
    assert ledger.find(key).state == State.UNKNOWN
    forced = clarion(config, "retry", key, "--force")
    assert forced.exit_code == 0 and ledger.find(key).state == State.PLANNED
    assert "ch-lost cannot recognise a repeat: if it did, it will appear twice" in forced.output
    assert "should not appear twice" not in forced.output


def test_retry_of_an_unknown_delivery_where_the_platform_recognises_repeats(
    ledger: SqlLedger, config: Path, ledger_url: str
) -> None:
    configure(config, ledger_url, **{"ch-lost": "mastodon"})
    key = settle(
        ledger, "lost", Unknown("read timed out", ErrorClass.AMBIGUOUS), platform="mastodon"
    )
    result = clarion(config, "retry", key)
    assert result.exit_code == 0, result.output
    assert "channel ch-lost should recognise the repeat" in result.output


def test_retry_of_an_unknown_delivery_after_the_idempotency_window_needs_force(
    ledger: SqlLedger, config: Path, ledger_url: str
) -> None:
    configure(config, ledger_url, **{"ch-old": "mastodon"})
    long_ago = NOW - 3 * HOUR
    item = delivery("old", due=long_ago, channel="ch-old", platform="mastodon")
    ledger.sync([item], long_ago)
    claim = ledger.claim("ch-old", "host:9", LEASE, long_ago)
    assert claim is not None
    assert ledger.finish(claim, Unknown("read timed out", ErrorClass.AMBIGUOUS), long_ago)
    refused = clarion(config, "retry", item.key)
    assert refused.exit_code == 1
    assert "the platform recognises a repeat only until" in refused.stderr
    forced = clarion(config, "retry", item.key, "--force")
    assert forced.exit_code == 0 and ledger.find(item.key).state == State.PLANNED


def test_an_unknown_delivery_cancelled_stays_guarded_when_retried(
    ledger: SqlLedger, config: Path, ledger_url: str
) -> None:
    """Issue 7: `cancel` then `retry` planned an unknown delivery again without --force."""
    configure(config, ledger_url, **{"ch-lost": "telegram"})
    key = settle(
        ledger, "lost", Unknown("read timed out", ErrorClass.AMBIGUOUS), platform="telegram"
    )
    assert clarion(config, "retry", key).exit_code == 1
    assert clarion(config, "cancel", key).exit_code == 0
    refused = clarion(config, "retry", key)
    assert refused.exit_code == 1, refused.output
    assert "may already have gone out (never settled)" in refused.stderr
    assert "It is cancelled now" in refused.stderr
    assert ledger.find(key).state == State.CANCELLED
    forced = clarion(config, "retry", key, "--force")
    assert forced.exit_code == 0 and ledger.find(key).state == State.PLANNED
    # Once an operator sent it again, the earlier attempt no longer guards it.
    claim = ledger.claim("ch-lost", "host:9", LEASE, datetime.now(UTC))
    assert claim is not None
    assert ledger.finish(claim, Failed("too long", ErrorClass.REJECTED), datetime.now(UTC))
    assert clarion(config, "retry", key).exit_code == 0


@pytest.mark.parametrize(
    ("kind", "words", "looked_up"),
    [
        ("threads", "its container is known on one machine only", True),
        ("matrix", "keeps its request key for a time nobody documents", True),
        ("slack", "the platform cannot recognise a repeat", False),
    ],
)
def test_retry_judges_an_unknown_delivery_as_the_daemon_does_by_its_configured_channel(
    ledger: SqlLedger, config: Path, ledger_url: str, kind: str, words: str, looked_up: bool
) -> None:
    """Issue 8: `retry` took a Threads container as safe to repeat while the daemon looks it
    up, and judged a Matrix room by the generic webhook class, not by its own connector."""
    configure(config, ledger_url, **{"ch-lost": kind})
    platform = "threads" if kind == "threads" else "webhook"
    key = settle(ledger, "lost", Unknown("read timed out", ErrorClass.AMBIGUOUS), platform=platform)
    refused = clarion(config, "retry", key)
    assert refused.exit_code == 1, refused.output
    assert words in refused.stderr
    assert ("The daemon looks it up on the platform by itself" in refused.stderr) == looked_up


def test_retry_of_an_unknown_delivery_on_a_channel_no_longer_configured_needs_force(
    ledger: SqlLedger, config: Path
) -> None:
    key = settle(
        ledger, "lost", Unknown("read timed out", ErrorClass.AMBIGUOUS), platform="bluesky"
    )
    refused = clarion(config, "retry", key)
    assert refused.exit_code == 1 and "its channel is not in config.yaml" in refused.stderr


def test_retry_mentions_what_still_holds_it_back(ledger: SqlLedger, config: Path) -> None:
    key = settle(ledger, "long", Failed("too long", ErrorClass.REJECTED))
    ledger.pause(None, None, "bob", NOW)
    ledger.hold_channel("ch-long", "token revoked", NOW)
    result = clarion(config, "retry", key)
    assert "But its campaign is paused: `clarion resume --all`" in result.output
    assert "But channel ch-long is held" in result.output


def test_cancel(ledger: SqlLedger, config: Path) -> None:
    key = settle(ledger, "lost", Unknown("read timed out", ErrorClass.AMBIGUOUS))
    result = clarion(config, "cancel", key, "--reason", "posted by hand")
    assert result.exit_code == 0
    assert "is cancelled: it will not go out. (It was unknown" in result.output
    assert ledger.find(key).last_error == "cancelled by an operator: posted by hand"
    sent = settle(ledger, "ok", Sent(ref(1)))
    refused = clarion(config, "cancel", sent)
    assert refused.exit_code == 1 and "was already sent" in refused.stderr


def test_unknown_keys_get_close_matches(ledger: SqlLedger, config: Path) -> None:
    ledger.sync([delivery("countdown"), delivery("countdown", channel="mastodon-main")], NOW)
    for command in ("retry", "cancel", "history"):
        result = clarion(config, command, "sayno/countdown/en/x-mian")
        assert result.exit_code == 1
        assert "no delivery with key 'sayno/countdown/en/x-mian'" in result.stderr
        assert "Did you mean:\n  sayno/countdown/en/x-main" in result.stderr
    nothing = clarion(config, "resolve", "zzz", "--not-sent")
    assert nothing.exit_code == 1 and "`clarion status` lists" in nothing.stderr


def test_resolve_sent_records_the_address(ledger: SqlLedger, config: Path) -> None:
    key = settle(ledger, "lost", Unknown("read timed out", ErrorClass.AMBIGUOUS))
    url = "https://mastodon.example/@sayno/112233"
    result = clarion(config, "resolve", key, "--sent", url)
    assert result.exit_code == 0, result.output
    row = ledger.find(key)
    assert (row.state, row.ref and row.ref.id, row.ref and row.ref.url) == (
        State.SENT,
        "112233",
        url,
    )
    refused = clarion(config, "resolve", key, "--not-sent")
    assert refused.exit_code == 1 and "not unknown" in refused.stderr


def test_resolve_not_sent_plans_it_again(ledger: SqlLedger, config: Path) -> None:
    lost = Unknown("read timed out", ErrorClass.AMBIGUOUS)
    key = settle(ledger, "lost", lost, at=NOW - HOUR, deadline=NOW - HOUR / 2)
    result = clarion(config, "resolve", key, "--not-sent")
    assert result.exit_code == 0, result.output
    assert ledger.find(key).state == State.PLANNED
    assert "has passed, so it will expire instead" in result.output
    assert f"run `clarion retry {key}` once it has" in result.output


def test_resolve_checks_its_arguments(ledger: SqlLedger, config: Path) -> None:
    key = settle(ledger, "lost", Unknown("read timed out", ErrorClass.AMBIGUOUS))
    assert clarion(config, "resolve", key).exit_code == 2
    assert clarion(config, "resolve", key, "--sent", "https://x/1", "--not-sent").exit_code == 2
    bad = clarion(config, "resolve", key, "--sent", "not a link")
    assert bad.exit_code == 2 and "full address" in bad.stderr
    stray = clarion(config, "resolve", key, "--not-sent", "--id", "42")
    assert stray.exit_code == 2 and "--id goes with --sent URL" in stray.stderr
    assert ledger.find(key).state == State.UNKNOWN


def test_history(ledger: SqlLedger, config: Path) -> None:
    key = settle(ledger, "lost", Unknown("read timed out", ErrorClass.AMBIGUOUS))
    clarion(config, "resolve", key, "--sent", "https://x.example/status/5")
    result = clarion(config, "history", key)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{key}: sent, due ") and "at https://x.example/status/5" in lines[0]
    assert "new -> planned" in lines[1]
    assert "planned -> claimed" in result.output and "host:9" in result.output
    assert "claimed -> unknown" in result.output and "read timed out" in result.output
    assert "unknown -> sent" in result.output
    document = json.loads(clarion(config, "history", key, "--format", "json").output)
    assert [(h["from"], h["to"]) for h in document["history"]] == [
        (None, "planned"),
        ("planned", "claimed"),
        ("claimed", "unknown"),
        ("unknown", "sent"),
    ]
