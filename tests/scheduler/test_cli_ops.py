"""`clarion status|pause|resume|retry|cancel|resolve|history`, through the CLI, on both
back-ends. The commands run on the real clock, so deliveries here are placed around it."""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scheduler.cli import cli
from scheduler.config import Policies
from scheduler.dispatch import Dispatcher
from scheduler.ledger.api import Claim, Failed, Outcome, Retry, Row, Sent, State, Unknown
from scheduler.ledger.sql import SqlLedger
from tests.scheduler.ledgerkit import LEASE, ScriptedConnector, delivery, ref

NOW = datetime.now(UTC).replace(microsecond=0)
HOUR = timedelta(hours=1)


@pytest.fixture
def config(tmp_path: Path, ledger_url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"ledger: '{ledger_url}'\n")
    return path


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


def clarion(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--config", str(config)])


def settle(ledger: SqlLedger, post: str, outcome: Outcome, at: datetime = NOW, **kw: Any) -> str:
    """Add a delivery due an hour ago, claim it `at`, and record `outcome`; returns its key."""
    item = delivery(post, due=NOW - HOUR, channel=f"ch-{post}", **kw)
    ledger.sync([*(r.delivery for r in ledger.rows()), item], at)
    claim = ledger.claim(item.channel, "host:9", LEASE, at)
    assert claim is not None and ledger.finish(claim, outcome, at)
    return item.key


def test_status_of_a_fresh_ledger(ledger: SqlLedger, config: Path) -> None:
    result = clarion(config, "status")
    assert result.exit_code == 0, result.output
    assert "Deliveries: none yet" in result.output


def test_status_shows_what_needs_attention(ledger: SqlLedger, config: Path) -> None:
    unknown = settle(ledger, "lost", Unknown("read timed out", "ambiguous"))
    failed = settle(ledger, "long", Failed("rejected by the platform: too long", "rejected"))
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
    assert claim is not None and ledger.finish(claim, Unknown("read timed out", "ambiguous"), NOW)
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


def test_retry_a_failed_delivery(ledger: SqlLedger, config: Path) -> None:
    key = settle(ledger, "long", Failed("too long", "rejected"))
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
    key = settle(ledger, "long", Failed("too long", "rejected"))
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
    key = settle(ledger, "lost", Unknown("read timed out", "ambiguous"), platform="telegram")
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
    key = settle(ledger, "lost", Unknown("read timed out", "ambiguous"), platform="mastodon")
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
    assert ledger.finish(claim, Unknown("read timed out", "ambiguous"), long_ago)
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
    key = settle(ledger, "lost", Unknown("read timed out", "ambiguous"), platform="telegram")
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
    assert ledger.finish(claim, Failed("too long", "rejected"), datetime.now(UTC))
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
    key = settle(ledger, "lost", Unknown("read timed out", "ambiguous"), platform=platform)
    refused = clarion(config, "retry", key)
    assert refused.exit_code == 1, refused.output
    assert words in refused.stderr
    assert ("The daemon looks it up on the platform by itself" in refused.stderr) == looked_up


def test_retry_of_an_unknown_delivery_on_a_channel_no_longer_configured_needs_force(
    ledger: SqlLedger, config: Path
) -> None:
    key = settle(ledger, "lost", Unknown("read timed out", "ambiguous"), platform="bluesky")
    refused = clarion(config, "retry", key)
    assert refused.exit_code == 1 and "its channel is not in config.yaml" in refused.stderr


def test_retry_mentions_what_still_holds_it_back(ledger: SqlLedger, config: Path) -> None:
    key = settle(ledger, "long", Failed("too long", "rejected"))
    ledger.pause(None, None, "bob", NOW)
    ledger.hold_channel("ch-long", "token revoked", NOW)
    result = clarion(config, "retry", key)
    assert "But its campaign is paused: `clarion resume --all`" in result.output
    assert "But channel ch-long is held" in result.output


def test_cancel(ledger: SqlLedger, config: Path) -> None:
    key = settle(ledger, "lost", Unknown("read timed out", "ambiguous"))
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
    key = settle(ledger, "lost", Unknown("read timed out", "ambiguous"))
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
    lost = Unknown("read timed out", "ambiguous")
    key = settle(ledger, "lost", lost, at=NOW - HOUR, deadline=NOW - HOUR / 2)
    result = clarion(config, "resolve", key, "--not-sent")
    assert result.exit_code == 0, result.output
    assert ledger.find(key).state == State.PLANNED
    assert "has passed, so it will expire instead" in result.output
    assert f"run `clarion retry {key}` once it has" in result.output


def test_resolve_checks_its_arguments(ledger: SqlLedger, config: Path) -> None:
    key = settle(ledger, "lost", Unknown("read timed out", "ambiguous"))
    assert clarion(config, "resolve", key).exit_code == 2
    assert clarion(config, "resolve", key, "--sent", "https://x/1", "--not-sent").exit_code == 2
    bad = clarion(config, "resolve", key, "--sent", "not a link")
    assert bad.exit_code == 2 and "full address" in bad.stderr
    stray = clarion(config, "resolve", key, "--not-sent", "--id", "42")
    assert stray.exit_code == 2 and "--id goes with --sent URL" in stray.stderr
    assert ledger.find(key).state == State.UNKNOWN


def test_history(ledger: SqlLedger, config: Path) -> None:
    key = settle(ledger, "lost", Unknown("read timed out", "ambiguous"))
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
    back_off = Retry(now + HOUR, "rate limited by the platform", "retry-later")
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
