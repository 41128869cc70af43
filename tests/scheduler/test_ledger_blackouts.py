"""Blackouts inside the claim, timed pauses, heartbeats and fixed `now` anchors, on both
back-ends: whatever brings a delivery into a blackout (a retry, a resume, a thread's next part,
a late start), no claim succeeds inside it."""

from __future__ import annotations

from datetime import timedelta

from campaigns.blackouts import Safety, Window
from campaigns.problems import Location
from scheduler.ledger.api import ErrorClass, Retry, Sent, State
from scheduler.ledger.sql import SqlLedger
from tests.scheduler.ledgerkit import LEASE, NOW, delivery, ref, thread

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
HERE = Location("sayno.yaml", 12, 5)


def window(
    start: timedelta, end: timedelta, *, then: str = "postpone", channels: set[str] | None = None
) -> Window:
    on = frozenset(channels) if channels is not None else None
    return Window(NOW + start, NOW + end, "Mourning", on, HERE, then)  # type: ignore[arg-type]


def blackout(ledger: SqlLedger, *windows: Window, exempt: frozenset[str] = frozenset()) -> None:
    ledger.set_blackouts(Safety("sayno", windows, exempt), replace=True)


def claim(ledger: SqlLedger, at: timedelta = timedelta(), channel: str = "x-main") -> str | None:
    found = ledger.claim(channel, "daemon-a", LEASE, NOW + at)
    return None if found is None else found.row.key


def test_nothing_is_claimed_inside_a_blackout_whatever_brought_it_there(
    ledger: SqlLedger,
) -> None:
    ledger.sync(
        [
            delivery("late", due=NOW - HOUR),  # due before the blackout, still waiting
            *thread("tips", 2, due=NOW - 2 * HOUR),
            delivery("retried", due=NOW - 2 * HOUR, channel="m1"),
            delivery("live", due=NOW + MINUTE),
        ],
        NOW - 3 * HOUR,
    )
    # A thread's first part went out before; a retry was planned into the blackout.
    first = ledger.claim("x-main", "daemon-a", LEASE, NOW - 2 * HOUR)
    assert first is not None and first.row.key.endswith("tips/en/x-main/1")
    assert ledger.finish(first, Sent(ref(1)), NOW - 2 * HOUR)
    retried = ledger.claim("m1", "daemon-a", LEASE, NOW - 2 * HOUR)
    assert retried is not None
    assert ledger.finish(
        retried, Retry(NOW + 2 * MINUTE, "rate limited", ErrorClass.RETRY_LATER), NOW
    )
    ledger.pause("sayno", None, "alice", NOW - HOUR)
    blackout(ledger, window(timedelta(), HOUR), exempt=frozenset({"live"}))
    ledger.resume("sayno", "alice", NOW)

    for at in (timedelta(), 3 * MINUTE, HOUR - timedelta(seconds=1)):
        assert claim(ledger, at) in (None, "sayno/live/en/x-main")
        assert claim(ledger, at, "m1") is None
    assert ledger.due_channels(NOW + 2 * MINUTE) == []
    # At its end (excluded), what waited goes out in due order.
    released = [claim(ledger, HOUR) for _ in range(3)]
    assert released == ["sayno/tips/en/x-main/2", "sayno/late/en/x-main", None]
    assert claim(ledger, HOUR, "m1") == "sayno/retried/en/m1"


def test_a_blackout_on_some_channels_and_an_exempt_post(ledger: SqlLedger) -> None:
    ledger.sync(
        [delivery("a", due=NOW), delivery("b", due=NOW, channel="m1"), delivery("qa", due=NOW)],
        NOW,
    )
    blackout(ledger, window(-HOUR, HOUR, channels={"x-main"}), exempt=frozenset({"qa"}))
    assert claim(ledger) == "sayno/qa/en/x-main"
    assert claim(ledger) is None
    assert claim(ledger, channel="m1") == "sayno/b/en/m1"


def test_skip_cancels_what_was_planned_inside_and_deadlines_expire_with_the_reason(
    ledger: SqlLedger,
) -> None:
    ledger.sync(
        [
            delivery("inside", due=NOW + MINUTE),
            delivery("brief", due=NOW + MINUTE, deadline=NOW + 2 * MINUTE, channel="m1"),
            delivery("after", due=NOW + 20 * MINUTE),
        ],
        NOW,
    )
    blackout(
        ledger,
        window(timedelta(), 10 * MINUTE, then="skip", channels={"x-main"}),
        window(timedelta(), 30 * MINUTE, channels={"m1"}),
    )
    assert ledger.settle_blackouts(NOW) == []  # nothing due yet
    assert claim(ledger, 15 * MINUTE) is None  # planned inside `skip`: never claimed
    settled = {key: (state, reason) for key, state, reason in ledger.settle_blackouts(NOW + HOUR)}
    assert settled["sayno/inside/en/x-main"][0] == State.CANCELLED
    assert "skipped: planned inside the blackout 'Mourning'" in settled["sayno/inside/en/x-main"][1]
    state, reason = settled["sayno/brief/en/m1"]
    assert state == State.EXPIRED and "the blackout 'Mourning'" in reason
    assert "sayno/after/en/x-main" not in settled
    assert ledger.find("sayno/inside/en/x-main").error_class == "blackout"


def test_a_file_with_errors_adds_blackouts_and_never_removes_one(ledger: SqlLedger) -> None:
    mourning = window(timedelta(), HOUR)
    wider = window(timedelta(), 2 * HOUR)
    blackout(ledger, mourning, exempt=frozenset({"qa"}))
    added = ledger.set_blackouts(Safety("sayno", (wider,), frozenset()), replace=False)
    assert added == [wider]
    kept = ledger.blackouts()["sayno"]
    assert {w.end for w in kept.windows} == {NOW + HOUR, NOW + 2 * HOUR}
    assert kept.exempt_posts == {"qa"}
    assert ledger.set_blackouts(Safety("sayno", (wider,), frozenset()), replace=False) == []
    # A valid file's blackouts replace them: here, none.
    ledger.set_blackouts(Safety("sayno", (), frozenset()), replace=True)
    assert ledger.blackouts() == {}


def test_blackout_ends_wake_the_channels_that_wait(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a", due=NOW + MINUTE), delivery("b", due=NOW, channel="m1")], NOW)
    blackout(ledger, window(timedelta(), HOUR))
    ends = ledger.blackout_ends(NOW, 2 * HOUR)
    assert sorted((channel, when) for _, channel, when in ends) == [
        ("m1", NOW + HOUR),
        ("x-main", NOW + HOUR),
    ]
    assert ledger.blackout_ends(NOW, 30 * MINUTE) == []


def test_a_timed_pause_lifts_itself(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a", due=NOW)], NOW)
    ledger.pause(None, "incident", "alice", NOW, until=NOW + HOUR)
    assert claim(ledger, 59 * MINUTE) is None
    assert [c.until for c in ledger.controls(NOW)] == [NOW + HOUR]
    assert ledger.controls(NOW + HOUR) == []
    assert claim(ledger, HOUR) == "sayno/a/en/x-main"


def test_heartbeats_and_now_anchors(ledger: SqlLedger) -> None:
    ledger.beat("host:1", NOW, NOW, NOW + MINUTE, False)
    assert [d.process for d in ledger.daemons(NOW)] == ["host:1"]
    assert ledger.daemons(NOW + 2 * MINUTE) == []
    ledger.stopped("host:1")
    assert ledger.daemons(NOW) == []
    ledger.fix_now_anchors({"demo": NOW})
    ledger.fix_now_anchors({"demo": NOW + HOUR, "other": NOW})
    assert ledger.now_anchors() == {"demo": NOW, "other": NOW}


def test_no_claim_ahead_of_a_post_whose_instant_falls_inside_a_blackout(
    ledger: SqlLedger,
) -> None:
    second = timedelta(seconds=1)
    ledger.sync([delivery("a", due=NOW + 2 * second)], NOW)
    blackout(ledger, window(2 * second, HOUR))  # begins at the post's instant
    assert ledger.claim("x-main", "daemon-a", LEASE, NOW, ahead=3 * second) is None
    blackout(ledger, window(HOUR, 2 * HOUR))  # later
    found = ledger.claim("x-main", "daemon-a", LEASE, NOW, ahead=3 * second)
    assert found is not None and found.row.post == "a"
