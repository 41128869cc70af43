"""Claim, publish, fence (docs/design.md rule 4): order, leases, outcomes, threads and deadlines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduler.config import RateSettings
from scheduler.ledger.api import (
    Claim,
    ErrorClass,
    Failed,
    Held,
    Outcome,
    Released,
    Retry,
    Sent,
    State,
    Unknown,
)
from scheduler.ledger.sql import SqlLedger
from tests.scheduler.ledgerkit import LEASE, NOW, delivery, ref, thread

MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


def claim(
    ledger: SqlLedger, channel: str = "x-main", owner: str = "daemon-a", **kw: object
) -> Claim | None:
    now = kw.get("now", NOW)
    assert isinstance(now, type(NOW))
    return ledger.claim(channel, owner, LEASE, now)


def claimed(ledger: SqlLedger, channel: str = "x-main", owner: str = "daemon-a") -> Claim:
    found = ledger.claim(channel, owner, LEASE, NOW)
    assert found is not None
    return found


def test_claims_go_in_due_order_per_channel(ledger: SqlLedger) -> None:
    ledger.sync(
        [
            delivery("later", due=NOW - MINUTE),
            delivery("first", due=NOW - 2 * MINUTE),
            delivery("b-tie", due=NOW - MINUTE),
            delivery("future", due=NOW + MINUTE),
            delivery("elsewhere", channel="mastodon-main", due=NOW - 3 * MINUTE),
        ],
        NOW,
    )
    order = []
    while (found := ledger.claim("x-main", "daemon-a", LEASE, NOW)) is not None:
        order.append(found.row.post)
    assert order == ["first", "b-tie", "later"]
    assert claimed(ledger, "mastodon-main").row.post == "elsewhere"


def test_a_claim_takes_a_lease_and_counts_the_attempt(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a")], NOW)
    found = claimed(ledger)
    assert (found.owner, found.lease_until) == ("daemon-a", NOW + LEASE)
    assert found.row.state == State.CLAIMED and found.row.attempts == 1
    assert found.row.lease_owner == "daemon-a" and found.row.lease_until == NOW + LEASE
    assert len(found.token) >= 16
    last = ledger.history(found.row.key)[-1]
    assert (last.from_state, last.to_state, last.process) == (
        State.PLANNED,
        State.CLAIMED,
        "daemon-a",
    )


def test_a_claimed_row_is_not_claimed_twice(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a"), delivery("b")], NOW)
    first = claimed(ledger, owner="daemon-a")
    second = claimed(ledger, owner="daemon-b")
    assert first.row.key != second.row.key
    assert ledger.claim("x-main", "daemon-c", LEASE, NOW) is None


def test_finish_is_fenced_by_the_claim_token(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a")], NOW)
    found = claimed(ledger)
    forged = Claim(found.row, "not-the-token", "daemon-b", found.lease_until)
    assert ledger.finish(forged, Sent(ref(1)), NOW) is False
    assert ledger.finish(found, Sent(ref(1)), NOW) is True
    assert ledger.finish(found, Failed("again", ErrorClass.ERROR), NOW) is False
    assert ledger.find(found.row.key).state == State.SENT


def test_a_lease_that_runs_out_makes_the_row_unknown_and_the_claim_lost(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a"), delivery("b", channel="m")], NOW)
    stale = claimed(ledger)
    fresh = ledger.claim("m", "daemon-a", LEASE, NOW + LEASE)
    assert fresh is not None
    assert ledger.expire_leases(NOW + LEASE) == []  # not past it yet
    assert ledger.expire_leases(NOW + LEASE + MINUTE) == [stale.row.key]
    assert ledger.finish(stale, Sent(ref(1)), NOW + LEASE + MINUTE) is False
    row = ledger.find(stale.row.key)
    assert (row.state, row.error_class) == (State.UNKNOWN, "lease")
    assert row.last_error == "the lease ran out mid-publish: it may have gone out"
    assert row.lease_owner is None and row.ref is None
    assert ledger.find(fresh.row.key).state == State.CLAIMED
    assert ledger.claim("x-main", "daemon-a", LEASE, NOW + 2 * LEASE) is None  # never replanned


def test_sent_stores_where_it_went(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a")], NOW)
    found = claimed(ledger)
    where = ref(42)
    assert ledger.finish(found, Sent(where, "chat migrated"), NOW + MINUTE)
    row = ledger.find(found.row.key)
    assert (row.state, row.ref, row.sent_utc) == (State.SENT, where, NOW + MINUTE)
    assert (row.lease_owner, row.last_error) == (None, None)
    assert ledger.history(row.key)[-1].reason == (
        "sent: https://x.example/status/42 (chat migrated)"
    )
    assert ledger.sent_since("x-main", NOW) == [NOW + MINUTE]
    assert ledger.sent_since("x-main", NOW + 2 * MINUTE) == []


def test_retry_waits_for_the_next_attempt(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a")], NOW)
    at = NOW + 10 * MINUTE
    assert ledger.finish(claimed(ledger), Retry(at, "rate limited", ErrorClass.RETRY_LATER), NOW)
    row = ledger.find(delivery("a").key)
    assert (row.state, row.next_attempt_utc, row.last_error) == (State.PLANNED, at, "rate limited")
    assert ledger.claim("x-main", "daemon-a", LEASE, at - MINUTE) is None
    assert ledger.alarms(NOW, timedelta(hours=1)) == [(row.key, "x-main", at)]
    again = ledger.claim("x-main", "daemon-a", LEASE, at)
    assert again is not None and again.row.attempts == 2


def test_a_retry_past_the_deadline_expires(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a", deadline=NOW + 5 * MINUTE)], NOW)
    outcome = Retry(NOW + 10 * MINUTE, "rate limited", ErrorClass.RETRY_LATER)
    assert ledger.finish(claimed(ledger), outcome, NOW)
    row = ledger.find(delivery("a").key)
    assert (row.state, row.error_class) == (State.EXPIRED, "retry-later")
    assert "would be past its deadline" in (row.last_error or "")


@pytest.mark.parametrize(
    ("outcome", "state"),
    [
        (Failed("too long", ErrorClass.REJECTED), State.FAILED),
        (Unknown("timed out", ErrorClass.AMBIGUOUS), State.UNKNOWN),
    ],
)
def test_failed_and_unknown_keep_the_reason(
    ledger: SqlLedger, outcome: Outcome, state: State
) -> None:
    ledger.sync([delivery("a")], NOW)
    assert ledger.finish(claimed(ledger), outcome, NOW)
    row = ledger.find(delivery("a").key)
    assert (row.state, row.last_error, row.error_class) == (
        state,
        outcome.reason,  # type: ignore[union-attr]
        outcome.error_class,  # type: ignore[union-attr]
    )


def test_held_returns_the_row_untouched_and_holds_the_channel(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a"), delivery("b"), delivery("c", channel="m")], NOW)
    assert ledger.finish(claimed(ledger), Held("token revoked"), NOW)
    row = ledger.find(delivery("a").key)
    assert (row.state, row.attempts, row.error_class) == (State.PLANNED, 0, "auth")
    assert ledger.held_channels() == {"x-main": "token revoked"}
    assert ledger.claim("x-main", "daemon-a", LEASE, NOW) is None
    assert ledger.due_channels(NOW) == ["m"]
    ledger.release_channel("x-main", NOW)
    assert ledger.held_channels() == {}
    assert claimed(ledger).row.key == row.key


def test_a_thread_part_waits_for_its_parent_and_replies_to_it(ledger: SqlLedger) -> None:
    parts = thread("t", 3)
    ledger.sync(parts, NOW)
    first = claimed(ledger)
    assert first.row.key == parts[0].key and (first.parent, first.root) == (None, None)
    assert ledger.claim("x-main", "daemon-b", LEASE, NOW) is None  # part 2 waits
    assert ledger.finish(first, Sent(ref(1)), NOW)
    second = claimed(ledger)
    assert (second.row.key, second.parent, second.root) == (parts[1].key, ref(1), ref(1))
    assert ledger.finish(second, Sent(ref(2)), NOW)
    third = claimed(ledger)
    assert (third.row.key, third.parent, third.root) == (parts[2].key, ref(2), ref(1))
    assert ledger.thread_refs(parts[2].key) == (ref(2), ref(1))


def test_a_part_whose_parent_is_unknown_waits(ledger: SqlLedger) -> None:
    ledger.sync(thread("t", 2), NOW)
    assert ledger.finish(claimed(ledger), Unknown("timed out", ErrorClass.AMBIGUOUS), NOW)
    assert ledger.claim("x-main", "daemon-a", LEASE, NOW) is None
    assert ledger.find(thread("t", 2)[1].key).state == State.PLANNED


@pytest.mark.parametrize("parent_outcome", ["failed", "cancelled", "expired"])
def test_a_part_whose_parent_will_never_go_out_fails(
    ledger: SqlLedger, parent_outcome: str
) -> None:
    parts = thread("t", 3)
    ledger.sync([*parts, delivery("next", due=NOW + MINUTE)], NOW)
    if parent_outcome == "failed":
        assert ledger.finish(claimed(ledger), Failed("rejected", ErrorClass.REJECTED), NOW)
    elif parent_outcome == "cancelled":
        ledger.cancel(parts[0].key, None, "alice", NOW)
    else:
        ledger.sync(
            [*thread("t", 3, deadline=NOW - MINUTE), delivery("next", due=NOW + MINUTE)], NOW
        )
    settled: list[tuple[str, State, str]] = []

    def on_settled(key: str, state: State, reason: str) -> None:
        settled.append((key, state, reason))

    found = ledger.claim("x-main", "daemon-a", LEASE, NOW + MINUTE, on_settled=on_settled)
    assert found is not None and found.row.post == "next"
    assert ledger.claim("x-main", "daemon-a", LEASE, NOW + MINUTE, on_settled=on_settled) is None
    if parent_outcome == "expired":
        assert ledger.find(parts[1].key).state == State.EXPIRED  # its own deadline, too
        return
    assert [(k, s) for k, s, _ in settled] == [
        (parts[1].key, State.FAILED),
        (parts[2].key, State.FAILED),
    ]
    assert settled[0][2] == (
        f"the previous part of the thread is {parent_outcome}, so this part cannot follow it"
    )
    assert ledger.find(parts[2].key).error_class == "thread"


def test_a_broken_thread_fails_all_its_later_parts_at_once(ledger: SqlLedger) -> None:
    parts = thread("t", 4)
    ledger.sync(parts, NOW)
    assert ledger.finish(claimed(ledger), Failed("rejected", ErrorClass.REJECTED), NOW)
    assert ledger.claim("x-main", "daemon-a", LEASE, NOW) is None
    assert [r.state for r in ledger.rows()] == [State.FAILED] * 4


def test_rows_past_their_deadline_expire_on_the_way(ledger: SqlLedger) -> None:
    ledger.sync(
        [
            delivery("stale", due=NOW - 3 * MINUTE, deadline=NOW - MINUTE),
            delivery("fresh", due=NOW - 2 * MINUTE, deadline=NOW + MINUTE),
        ],
        NOW - 5 * MINUTE,
    )
    settled: list[tuple[str, State, str]] = []
    found = ledger.claim("x-main", "daemon-a", LEASE, NOW, on_settled=lambda *a: settled.append(a))
    assert found is not None and found.row.post == "fresh"
    assert settled == [
        (
            delivery("stale").key,
            State.EXPIRED,
            "past its deadline (2027-02-09 07:59:00 UTC): not posted",
        )
    ]
    assert ledger.find(delivery("stale").key).state == State.EXPIRED


def test_expire_overdue_settles_planned_rows_past_deadline(ledger: SqlLedger) -> None:
    ledger.sync(
        [
            delivery("a", due=NOW, deadline=NOW + MINUTE),
            delivery("b", due=NOW, deadline=NOW + 3 * MINUTE),
            delivery("c", due=NOW),
        ],
        NOW,
    )
    assert ledger.expire_overdue(NOW + 2 * MINUTE) == [delivery("a").key]
    assert ledger.counts()[State.EXPIRED] == 1


def test_alarms_cover_the_horizon_in_due_order(ledger: SqlLedger) -> None:
    ledger.sync(
        [
            delivery("b", due=NOW + 2 * MINUTE),
            delivery("a", due=NOW + MINUTE, channel="m"),
            delivery("far", due=NOW + timedelta(hours=7)),
            delivery("past", due=NOW - MINUTE),
        ],
        NOW,
    )
    assert ledger.alarms(NOW, timedelta(hours=6)) == [
        (delivery("past").key, "x-main", NOW - MINUTE),
        (delivery("a", channel="m").key, "m", NOW + MINUTE),
        (delivery("b").key, "x-main", NOW + 2 * MINUTE),
    ]


def test_due_channels_skip_paused_held_and_future(ledger: SqlLedger) -> None:
    ledger.sync(
        [
            delivery("a", channel="x-main"),
            delivery("b", channel="held"),
            delivery("c", channel="paused", campaign="quiet"),
            delivery("d", channel="later", due=NOW + MINUTE),
            delivery("e", channel="mastodon-main"),
        ],
        NOW,
    )
    ledger.hold_channel("held", "token revoked", NOW)
    ledger.pause("quiet", None, "alice", NOW)
    assert ledger.due_channels(NOW) == ["mastodon-main", "x-main"]


def test_pause_and_resume_one_campaign_or_all(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a"), delivery("b", campaign="other")], NOW)
    ledger.pause("sayno", "legal review", "alice", NOW)
    [control] = ledger.controls()
    assert (control.campaign, control.reason, control.since, control.by) == (
        "sayno",
        "legal review",
        NOW,
        "alice",
    )
    assert claimed(ledger).row.campaign == "other"
    ledger.pause(None, "incident", "bob", NOW)
    assert [c.campaign for c in ledger.controls()] == [None, "sayno"]
    ledger.resume("sayno", "alice", NOW)
    assert ledger.claim("x-main", "daemon-a", LEASE, NOW) is None  # everything still paused
    ledger.resume(None, "bob", NOW)
    assert ledger.controls() == []
    assert claimed(ledger).row.campaign == "sayno"


def test_counts_keys_and_campaigns(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a"), delivery("b"), delivery("c", campaign="other", channel="m")], NOW)
    assert ledger.finish(claimed(ledger), Sent(ref(1)), NOW + MINUTE)
    counts = ledger.counts("sayno")
    assert counts[State.SENT] == 1 and counts[State.PLANNED] == 1 and sum(counts.values()) == 2
    assert ledger.keys("other") == [delivery("c", campaign="other", channel="m").key]
    assert ledger.campaigns() == ["other", "sayno"]
    newest = ledger.rows(states=[State.SENT, State.PLANNED], newest_first=True, limit=1)
    assert [r.state for r in newest] == [State.SENT]


def test_finish_and_claim_records_and_claims_the_next_in_one_go(ledger: SqlLedger) -> None:
    parts = thread("t", 2)
    ledger.sync([*parts, delivery("later", due=NOW + MINUTE)], NOW)
    first = claimed(ledger)
    recorded, second = ledger.finish_and_claim(first, Sent(ref(1)), NOW, LEASE)
    assert recorded and second is not None
    assert (second.row.key, second.parent, second.root) == (parts[1].key, ref(1), ref(1))
    assert (second.owner, second.lease_until, second.row.state) == (
        "daemon-a",
        NOW + LEASE,
        State.CLAIMED,
    )
    assert second.token != first.token
    assert ledger.find(parts[0].key).state == State.SENT
    assert ledger.finish_and_claim(second, Sent(ref(2)), NOW, LEASE) == (True, None)
    assert [h.to_state for h in ledger.history(parts[1].key)] == [
        State.PLANNED,
        State.CLAIMED,
        State.SENT,
    ]


def test_finish_and_claim_is_fenced_row_by_row(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a"), delivery("b")], NOW)
    stale = claimed(ledger)
    ledger.expire_leases(NOW + LEASE + MINUTE)
    recorded, following = ledger.finish_and_claim(stale, Sent(ref(1)), NOW + LEASE + MINUTE, LEASE)
    assert recorded is False and following is not None
    assert following.row.key == delivery("b").key
    assert ledger.find(stale.row.key).state == State.UNKNOWN


def test_finish_and_claim_settles_on_the_way_and_stops_at_a_hold(ledger: SqlLedger) -> None:
    ledger.sync(
        [
            delivery("a", due=NOW - 3 * MINUTE),
            delivery("stale", due=NOW - 2 * MINUTE, deadline=NOW - MINUTE),
            delivery("c", due=NOW - MINUTE),
            delivery("d", due=NOW - MINUTE),
        ],
        NOW - 5 * MINUTE,
    )
    settled: list[tuple[str, State, str]] = []
    first = claimed(ledger)
    recorded, third = ledger.finish_and_claim(
        first, Sent(ref(1)), NOW, LEASE, on_settled=lambda *a: settled.append(a)
    )
    assert recorded and third is not None and third.row.post == "c"
    assert [(k, s) for k, s, _ in settled] == [(delivery("stale").key, State.EXPIRED)]
    assert ledger.finish_and_claim(third, Held("token revoked"), NOW, LEASE) == (True, None)
    assert ledger.held_channels() == {"x-main": "token revoked"}


def test_claims_of_other_owners_become_unknown_at_start_up(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a"), delivery("b"), delivery("c", channel="m"), delivery("d")], NOW)
    dead = claimed(ledger, owner="host:111")
    mine = claimed(ledger, owner="host:222")
    other = claimed(ledger, "m", owner="other-host:7")
    if ledger.engine.dialect.name != "sqlite":
        # Other daemons sharing the ledger may be publishing them: only their leases tell.
        assert ledger.recover_claims("host:222", NOW + MINUTE) == []
        for claim in (dead, mine, other):
            assert ledger.find(claim.row.key).state == State.CLAIMED
        return
    expired = ledger.recover_claims("host:222", NOW + MINUTE)
    assert sorted(expired) == sorted([dead.row.key, other.row.key])
    row = ledger.find(dead.row.key)
    assert (row.state, row.error_class, row.lease_owner) == (State.UNKNOWN, "lease", None)
    assert row.last_error == (
        "the daemon that claimed it stopped mid-publish: it may have gone out"
    )
    assert ledger.history(dead.row.key)[-1].at == NOW + MINUTE
    assert ledger.find(mine.row.key).state == State.CLAIMED
    assert ledger.find(delivery("d").key).state == State.PLANNED
    assert ledger.finish(dead, Sent(ref(1)), NOW + MINUTE) is False
    assert ledger.finish(mine, Sent(ref(2)), NOW + MINUTE) is True


def test_renew_extends_only_a_claim_still_held(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a"), delivery("b")], NOW)
    held = claimed(ledger)
    assert ledger.renew(held, LEASE, NOW + MINUTE) == NOW + MINUTE + LEASE
    assert ledger.find(held.row.key).lease_until == NOW + MINUTE + LEASE
    # Run out, even before any sweeper noticed: it may be another daemon's by now.
    assert ledger.renew(held, LEASE, NOW + MINUTE + LEASE + MINUTE) is None
    stale = Claim(held.row, "not-the-token", held.owner, held.lease_until)
    assert ledger.renew(stale, LEASE, NOW + 2 * MINUTE) is None
    assert ledger.expire_leases(NOW + MINUTE + LEASE + MINUTE) == [held.row.key]
    assert ledger.renew(held, LEASE, NOW + MINUTE + LEASE + MINUTE) is None
    assert ledger.find(held.row.key).state == State.UNKNOWN


def test_a_rate_budget_is_shared_by_every_owner(ledger: SqlLedger) -> None:
    rate = RateSettings(posts=2, per=timedelta(hours=1), min_interval=MINUTE)
    ledger.sync([delivery(f"p{i}") for i in range(5)], NOW)
    first = ledger.claim("x-main", "daemon-a", LEASE, NOW, rate=rate)
    assert first is not None
    assert ledger.rate_wait("x-main", rate, NOW) == MINUTE
    assert ledger.claim("x-main", "daemon-b", LEASE, NOW, rate=rate) is None
    later = NOW + MINUTE
    finished, second = ledger.finish_and_claim(first, Sent(ref(1)), later, LEASE, rate=rate)
    assert finished and second is not None and second.owner == "daemon-a"
    assert ledger.rate_wait("x-main", rate, later) == timedelta(hours=1) - MINUTE
    assert ledger.claim("x-main", "daemon-b", LEASE, later + MINUTE, rate=rate) is None
    assert ledger.claim("x-main", "daemon-c", LEASE, later + MINUTE) is not None  # no rate
    third = ledger.claim("x-main", "daemon-b", LEASE, NOW + timedelta(hours=1), rate=rate)
    assert third is not None and third.owner == "daemon-b"
    assert ledger.rate_wait("other", rate, NOW) == timedelta(0)


def test_a_claim_ahead_takes_what_falls_due_within_it_and_keeps_the_lease_from_now(
    ledger: SqlLedger,
) -> None:
    ledger.sync([delivery("soon", due=NOW + 2 * SECOND), delivery("later", due=NOW + MINUTE)], NOW)
    assert ledger.claim("x-main", "daemon-a", LEASE, NOW) is None
    early = ledger.claim("x-main", "daemon-a", LEASE, NOW, ahead=3 * SECOND)
    assert early is not None and early.row.post == "soon"
    assert early.lease_until == NOW + LEASE
    assert ledger.claim("x-main", "daemon-a", LEASE, NOW, ahead=3 * SECOND) is None


def test_a_release_plans_the_delivery_again_without_counting_the_attempt(
    ledger: SqlLedger,
) -> None:
    ledger.sync([delivery("soon", due=NOW + SECOND)], NOW)
    early = ledger.claim("x-main", "daemon-a", LEASE, NOW, ahead=2 * SECOND)
    assert early is not None
    assert ledger.finish(early, Released("its campaign was paused before its due time"), NOW)
    row = ledger.find(early.row.key)
    assert (row.state, row.attempts, row.lease_owner) == (State.PLANNED, 0, None)
    assert row.last_error == "its campaign was paused before its due time"
    assert ledger.history(row.key)[-1].reason == (
        "not sent: its campaign was paused before its due time"
    )
