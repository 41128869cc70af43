"""`clarion status`, byte for byte: what it prints, as text and as JSON, for ledgers in several
states, at a fixed instant (SQLite). The expected outputs are in `status_pinned/`: a change
to them is a change of what operators and their scripts read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import pytest
from click.testing import CliRunner

from campaigns.blackouts import Safety, Window
from campaigns.delivery import Delivery
from campaigns.problems import Location
from scheduler.cli import cli
from scheduler.ledger.api import ErrorClass, Failed, Outcome, Retry, Sent, Unknown
from scheduler.ledger.sql import SqlLedger, open_ledger
from tests.scheduler.ledgerkit import LEASE, NOW, delivery, ref

PINNED = Path(__file__).parent / "status_pinned"
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
HERE = Location("sayno.yaml", 40, 5)
CHANNELS = (
    "channels:\n"
    "  ch-ok: {platform: mastodon, base_url: 'https://m.example', "
    "credentials: {access_token: '${NOT_SET}'}, rate: {posts: 1, per: 1h}}\n"
)


class Frozen(datetime):
    """`datetime` whose `now()` is NOW: the instant `clarion status` reports at."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> Frozen:
        moment = NOW.astimezone(tz)
        return cls.fromtimestamp(moment.timestamp(), moment.tzinfo)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scheduler.commands.status.datetime", Frozen)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[SqlLedger]:
    opened = open_ledger(f"sqlite:///{tmp_path}/ledger.db", process="test:1")
    yield opened
    opened.close()


def settle(ledger: SqlLedger, item: Delivery, outcome: Outcome | None, at: datetime) -> None:
    """Claim `item` (the first due on its channel) at `at` and record `outcome` (None: the
    claim is still being published)."""
    claim = ledger.claim(item.channel, "host:9", LEASE, at)
    assert claim is not None and claim.row.key == item.key
    if outcome is not None:
        assert ledger.finish(claim, outcome, at)


def busy(ledger: SqlLedger) -> None:
    """Every section of the report: daemons, pauses, blackouts, a held channel, the next due,
    late deliveries held back for each reason, claimed, unknown, failed, expired, renamed and
    sent ones, more of some than are listed."""
    lost = delivery("lost", channel="ch-lost", due=NOW - HOUR)
    tips = [delivery("tips", part=n, size=2, channel="ch-t", due=NOW - 2 * HOUR) for n in (1, 2)]
    failed = [delivery(f"f{i:02}", channel=f"ch-f{i}", due=NOW - 3 * HOUR) for i in range(12)]
    sent = [delivery(f"s{i:02}", channel=f"ch-s{i}", due=NOW - 3 * HOUR) for i in range(11)]
    expiring = [
        delivery(f"e{i}", channel=f"ch-e{i}", due=NOW - HOUR, deadline=NOW - HOUR / 2)
        for i in range(2)
    ]
    claimed = delivery("busy", channel="ch-busy", due=NOW - 5 * MINUTE)
    again = delivery("again", channel="ch-again", due=NOW - HOUR)
    held = delivery("stuck", channel="ch-held", due=NOW - HOUR)
    rated_sent = delivery("ok0", channel="ch-ok", due=NOW - 2 * HOUR)
    queued = delivery("queued", channel="ch-ok", due=NOW - HOUR)
    blacked = delivery("dark", channel="ch-b", due=NOW - 10 * MINUTE)
    skipped = delivery("skipped", channel="ch-sk", due=NOW + 3 * HOUR + 30 * MINUTE)
    upcoming = delivery("next", due=NOW + 2 * HOUR)
    paused = delivery("p", campaign="other", channel="ch-p", due=NOW - timedelta(seconds=20))
    hello = delivery("hello", campaign="spring", channel="ch-h", due=NOW - 2 * HOUR)
    plan = [
        lost, *tips, *failed, *sent, claimed, again, held, rated_sent, queued,
        blacked, skipped, upcoming, paused, hello,
    ]  # fmt: skip
    ledger.sync(plan, NOW - 3 * HOUR)
    settle(ledger, lost, Unknown("read timed out", ErrorClass.AMBIGUOUS), NOW - 50 * MINUTE)
    settle(ledger, tips[0], Unknown("connection reset", ErrorClass.AMBIGUOUS), NOW - 40 * MINUTE)
    for i, item in enumerate(failed):
        why = Failed(f"rejected by the platform: too long ({i})", ErrorClass.REJECTED)
        settle(ledger, item, why, NOW - (60 - i) * MINUTE)
    for i, item in enumerate(sent):
        settle(ledger, item, Sent(ref(i)), NOW - (120 - i) * MINUTE)
    settle(
        ledger,
        again,
        Retry(NOW + HOUR, "rate limited by the platform", ErrorClass.RETRY_LATER),
        NOW,
    )
    settle(
        ledger,
        held,
        Retry(NOW + HOUR / 2, "server error 503", ErrorClass.RETRY_LATER),
        NOW - MINUTE,
    )
    settle(ledger, rated_sent, Sent(ref("ok")), NOW - 10 * MINUTE)
    settle(ledger, hello, Sent(ref("hello")), NOW - 90 * MINUTE)
    renamed = replace(hello, key=hello.key.replace("spring/", "spring27/"), campaign="spring27")
    kept = [d for d in plan if d is not hello]
    ledger.sync([*kept, renamed, *expiring], NOW - 2 * MINUTE)
    settle(ledger, claimed, None, NOW - MINUTE)
    ledger.hold_channel("ch-held", "token revoked", NOW - HOUR)
    ledger.pause("other", "legal review", "alice", NOW - HOUR, NOW + 2 * HOUR)
    windows = (
        Window(NOW - HOUR / 2, NOW + HOUR, "Mourning", frozenset({"ch-b"}), HERE, "postpone"),
        Window(NOW + 3 * HOUR, NOW + 4 * HOUR, "Vote", None, HERE, "skip"),
    )
    ledger.set_blackouts(Safety("sayno", windows, frozenset()), replace=True)
    ledger.beat(
        "host:9", NOW - timedelta(days=1, hours=2), NOW - timedelta(seconds=30), NOW + HOUR, False
    )
    ledger.beat("host:10", NOW - 2 * HOUR, NOW - 2 * MINUTE, NOW + HOUR, True)


def quiet(ledger: SqlLedger) -> None:
    """No daemon; the next due waits for a blackout ahead; another campaign is paused."""
    ledger.sync(
        [
            delivery("late", due=NOW - 3 * HOUR - 7 * MINUTE),
            delivery("next", channel="ch-n", due=NOW + 25 * MINUTE),
            delivery("o", campaign="other", due=NOW + HOUR),
        ],
        NOW - 4 * HOUR,
    )
    ledger.pause("other", None, "bob", NOW - timedelta(days=6))
    window = Window(NOW + 20 * MINUTE, NOW + HOUR, "Minute of silence", None, HERE, "postpone")
    ledger.set_blackouts(Safety("sayno", (window,), frozenset()), replace=True)


def burst(ledger: SqlLedger) -> None:
    """Everything paused during a burst: more late deliveries than are listed."""
    ledger.sync([delivery(f"b{i:03}", due=NOW - i * MINUTE) for i in range(25)], NOW - HOUR)
    ledger.pause(None, None, "carol", NOW - 30 * MINUTE)
    ledger.beat("host:9", NOW - HOUR, NOW - MINUTE, NOW + HOUR, False)


SCENARIOS = {"fresh": lambda ledger: None, "busy": busy, "quiet": quiet, "burst": burst}
CASES = [
    ("fresh", ()),
    ("busy", ()),
    ("busy", ("sayno",)),
    ("quiet", ("sayno",)),
    ("quiet", ()),
    ("burst", ()),
]


@pytest.mark.parametrize("fmt", ["table", "json"])
@pytest.mark.parametrize(("scenario", "args"), CASES)
def test_status_prints_exactly_the_pinned_report(
    ledger: SqlLedger,
    tmp_path: Path,
    frozen: None,
    scenario: str,
    args: tuple[str, ...],
    fmt: str,
) -> None:
    SCENARIOS[scenario](ledger)
    config = tmp_path / "config.yaml"
    config.write_text(f"ledger: '{ledger.url}'\n{CHANNELS}")
    result = CliRunner().invoke(
        cli, ["status", *args, "--format", fmt, "--config", str(config)], env={"NOT_SET": "x"}
    )
    assert result.exit_code == 0, result.output
    printed = result.stdout.replace(ledger.url, "sqlite:///LEDGER")
    name = "-".join([scenario, *args]) + (".json" if fmt == "json" else ".txt")
    assert printed == (PINNED / name).read_text(encoding="utf-8")
