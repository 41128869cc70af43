"""Sync is an upsert keyed by delivery key (docs/design.md rule 3), on both back-ends."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from campaigns.delivery import Delivery, Media
from scheduler.ledger.api import ErrorClass, Failed, Outcome, Sent, State, Unknown
from scheduler.ledger.sql import SqlLedger
from tests.scheduler.ledgerkit import LEASE, NOW, delivery, ref, thread

HOUR = timedelta(hours=1)


def settle(ledger: SqlLedger, item: Delivery, outcome: Outcome | None) -> None:
    """Claim `item` (the only due row on its channel) and record `outcome` (None: stay claimed)."""
    claim = ledger.claim(item.channel, "test", LEASE, max(NOW, item.due_utc))
    assert claim is not None and claim.row.key == item.key
    if outcome is not None:
        assert ledger.finish(claim, outcome, NOW)


def test_an_empty_ledger_takes_every_delivery(ledger: SqlLedger) -> None:
    plan = [delivery("a"), delivery("b", due=NOW + HOUR), *thread("t", 2)]
    report = ledger.sync(plan, NOW)
    assert report.added == [d.key for d in plan]
    assert (report.updated, report.cancelled, report.expired, report.unchanged) == ([], [], [], 0)
    rows = {r.key: r for r in ledger.rows()}
    assert {r.state for r in rows.values()} == {State.PLANNED}
    part = rows[plan[3].key]
    assert part.delivery == plan[3]
    assert part.delivery.parent_key == plan[2].key
    assert (part.attempts, part.ref, part.campaign, part.channel) == (0, None, "sayno", "x-main")
    [added] = ledger.history(plan[0].key)
    assert (added.from_state, added.to_state, added.process) == (None, State.PLANNED, "test:1")
    assert added.reason == "added from the plan (sayno.yaml:3:5)"


def test_syncing_the_same_plan_again_changes_nothing(ledger: SqlLedger) -> None:
    plan = [delivery("a"), delivery("b", due=NOW + HOUR), *thread("t", 3)]
    ledger.sync(plan, NOW)
    before = ledger.rows()
    report = ledger.sync(plan, NOW + HOUR)
    assert report.unchanged == len(plan)
    assert report.added == report.updated == report.cancelled == report.expired == []
    assert ledger.rows() == before
    assert len(ledger.history(plan[0].key)) == 1


def test_a_planned_delivery_takes_new_text_and_time(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a"), delivery("b")], NOW)
    edited = [delivery("a", text="new words"), delivery("b", due=NOW + HOUR)]
    report = ledger.sync(edited, NOW)
    assert report.updated == [edited[0].key, edited[1].key]
    rows = {r.post: r for r in ledger.rows()}
    assert rows["a"].delivery.text == "new words"
    assert rows["a"].content_hash == edited[0].content_hash
    assert rows["b"].due_utc == NOW + HOUR
    assert ledger.history(edited[1].key)[-1].reason == "changed in the plan (sayno.yaml:3:5)"


@pytest.mark.parametrize(
    "outcome", [Sent(ref(1)), None, Unknown("timed out", ErrorClass.AMBIGUOUS)], ids=str
)
def test_an_edit_after_sending_is_reported_not_applied(
    ledger: SqlLedger, outcome: Outcome | None
) -> None:
    original = delivery("a")
    ledger.sync([original], NOW)
    settle(ledger, original, outcome)
    before = ledger.rows()
    report = ledger.sync([delivery("a", text="fixed a typo")], NOW)
    assert report.edited_after_sending == [original.key]
    assert report.updated == report.added == []
    assert ledger.rows() == before
    moved = ledger.sync([delivery("a", due=NOW + HOUR)], NOW)  # not what the audience sees
    assert (moved.unchanged, moved.edited_after_sending) == (1, [])
    assert ledger.rows() == before


def test_a_failed_delivery_takes_the_fix_but_stays_failed(ledger: SqlLedger) -> None:
    original = delivery("a")
    ledger.sync([original], NOW)
    settle(ledger, original, Failed("too long", ErrorClass.REJECTED))
    report = ledger.sync([delivery("a", text="shorter")], NOW)
    assert report.updated == [original.key]
    [row] = ledger.rows()
    assert (row.state, row.delivery.text, row.last_error) == (State.FAILED, "shorter", "too long")


def test_a_removed_post_is_cancelled_only_while_planned(ledger: SqlLedger) -> None:
    sent, planned, kept = (
        delivery("sent"),
        delivery("gone", channel="m"),
        delivery("k", due=NOW + HOUR),
    )
    ledger.sync([sent, planned, kept], NOW)
    settle(ledger, sent, Sent(ref(1)))
    report = ledger.sync([kept], NOW)
    assert report.cancelled == [planned.key]
    states = {r.post: (r.state, r.error_class) for r in ledger.rows()}
    assert states == {
        "sent": (State.SENT, None),
        "gone": (State.CANCELLED, "removed-from-plan"),
        "k": (State.PLANNED, None),
    }
    assert ledger.history(planned.key)[-1].reason == "removed from the plan"


def test_a_campaign_left_out_is_cancelled_unless_outside_the_scope(ledger: SqlLedger) -> None:
    ours, theirs = delivery("a"), delivery("b", campaign="other")
    ledger.sync([ours, theirs], NOW)
    scoped = ledger.sync([ours], NOW, campaigns=["sayno"])
    assert scoped.cancelled == []
    assert ledger.find(theirs.key).state == State.PLANNED
    everything = ledger.sync([ours], NOW)
    assert everything.cancelled == [theirs.key]


def test_drafts_are_not_stored_and_a_post_turned_draft_is_cancelled(ledger: SqlLedger) -> None:
    report = ledger.sync([delivery("a", status="draft"), delivery("b")], NOW)
    assert report.added == [delivery("b").key]
    assert ledger.get(delivery("a").key) is None
    drafted = ledger.sync([delivery("b", status="draft")], NOW)
    assert drafted.cancelled == [delivery("b").key]
    row = ledger.find(delivery("b").key)
    assert (row.state, row.error_class) == (State.CANCELLED, "draft")
    approved = ledger.sync([delivery("b")], NOW)
    assert approved.added == [delivery("b").key]
    assert ledger.find(delivery("b").key).state == State.PLANNED


def test_a_post_that_comes_back_is_planned_again(ledger: SqlLedger) -> None:
    item = delivery("a")
    ledger.sync([item], NOW)
    ledger.sync([], NOW)
    report = ledger.sync([item], NOW)
    assert report.added == [item.key]
    row = ledger.find(item.key)
    assert (row.state, row.last_error, row.error_class) == (State.PLANNED, None, None)
    changes = [(h.from_state, h.to_state) for h in ledger.history(item.key)]
    assert changes == [
        (None, State.PLANNED),
        (State.PLANNED, State.CANCELLED),
        (State.CANCELLED, State.PLANNED),
    ]


def test_a_delivery_an_operator_cancelled_stays_cancelled(ledger: SqlLedger) -> None:
    item = delivery("a")
    ledger.sync([item], NOW)
    ledger.cancel(item.key, "wrong audience", "alice", NOW)
    assert ledger.sync([item], NOW).unchanged == 1
    report = ledger.sync([delivery("a", text="reworded")], NOW)
    assert report.updated == [item.key]
    row = ledger.find(item.key)
    assert (row.state, row.delivery.text) == (State.CANCELLED, "reworded")


def test_new_deliveries_already_past_their_deadline_expire(ledger: SqlLedger) -> None:
    late = delivery("late", due=NOW - 3 * HOUR, deadline=NOW - HOUR)
    due_no_deadline = delivery("behind", due=NOW - 3 * HOUR)
    report = ledger.sync([late, due_no_deadline], NOW)
    assert report.expired == [late.key]
    assert report.added == [due_no_deadline.key]
    row = ledger.find(late.key)
    assert (row.state, row.error_class) == (State.EXPIRED, "deadline")
    assert "past its deadline (2027-02-09 07:00:00 UTC)" in (row.last_error or "")
    [added] = ledger.history(late.key)
    assert added.to_state == State.EXPIRED


def test_a_planned_delivery_moved_past_its_deadline_expires(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a", due=NOW + HOUR, deadline=NOW + 2 * HOUR)], NOW)
    report = ledger.sync([delivery("a", due=NOW - 2 * HOUR, deadline=NOW - HOUR)], NOW)
    assert report.expired == [delivery("a").key]
    assert ledger.find(delivery("a").key).state == State.EXPIRED


def test_an_expired_delivery_moved_ahead_is_planned_again(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a", due=NOW - 2 * HOUR, deadline=NOW - HOUR)], NOW)
    reworded = ledger.sync([delivery("a", due=NOW - 2 * HOUR, deadline=NOW - HOUR, text="x")], NOW)
    assert reworded.expired == [delivery("a").key]
    report = ledger.sync([delivery("a", due=NOW + HOUR, deadline=NOW + 2 * HOUR)], NOW)
    assert report.updated == [delivery("a").key]
    row = ledger.find(delivery("a").key)
    assert (row.state, row.due_utc, row.last_error) == (State.PLANNED, NOW + HOUR, None)


def test_two_deliveries_with_one_key_are_a_plan_bug(ledger: SqlLedger) -> None:
    with pytest.raises(ValueError, match="share the key"):
        ledger.sync([delivery("a"), delivery("a", text="twin")], NOW)
    assert ledger.rows() == []


def test_a_new_campaign_can_be_paused_as_soon_as_it_is_synced(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a", campaign="fresh")], NOW)
    ledger.pause("fresh", "not yet", "alice", NOW)
    assert ledger.claim("x-main", "test", LEASE, NOW) is None
    ledger.sync([delivery("a", campaign="fresh")], NOW)  # keeps the pause
    assert [c.campaign for c in ledger.controls()] == ["fresh"]


def test_a_renamed_occurrence_that_went_out_is_never_posted_again(ledger: SqlLedger) -> None:
    """Making a recurring post run twice a day adds the time to its occurrences' keys."""
    daily = replace(delivery("weekly"), key="sayno/weekly@2027-02-09/en/x-main")
    ledger.sync([daily], NOW)
    settle(ledger, daily, Sent(ref(1)))
    twice = [
        replace(daily, key="sayno/weekly@2027-02-09T0900/en/x-main"),
        replace(daily, key="sayno/weekly@2027-02-09T1800/en/x-main", due_utc=NOW + 9 * HOUR),
    ]
    report = ledger.sync(twice, NOW)
    assert report.added == [twice[1].key]
    assert report.unchanged == 1 and report.cancelled == []
    assert {r.key for r in ledger.rows()} == {daily.key, twice[1].key}
    assert ledger.sync(twice, NOW).added == []


def test_the_same_plan_read_from_another_path_is_no_change(ledger: SqlLedger) -> None:
    """Issue 7.19: two daemons naming one file by two paths (a hard link, another checkout)
    must not re-mark every row "changed in the plan"; the payload follows the path quietly."""
    card = Media("card.png", "/srv/a/plans/card.png", "a card", "image/png")
    here = delivery("a", media=(card,), source="/srv/a/plans/sayno.yaml:3:5")
    there = replace(
        here,
        source="/home/b/plans/sayno.yaml:3:5",
        media=(replace(card, path="/home/b/plans/card.png"),),
    )
    ledger.sync([here], NOW)
    for plan in (there, here, there):
        report = ledger.sync([plan], NOW)
        assert (report.unchanged, report.updated) == (1, [])
    assert len(ledger.history(here.key)) == 1
    stored = ledger.find(here.key).delivery
    assert (stored.source, stored.media[0].path) == (there.source, "/home/b/plans/card.png")
    assert ledger.sync([delivery("a", media=(card,), text="new")], NOW).updated == [here.key]


def test_a_ledger_with_whole_delivery_fingerprints_is_read_as_before(ledger: SqlLedger) -> None:
    """Fingerprints used to cover the source too (32 hex digits): an unchanged plan stays
    unchanged, a changed one is still seen."""
    import hashlib

    from scheduler.ledger.tables import deliveries

    a, b = delivery("a"), delivery("b")
    ledger.sync([a, b], NOW)
    with ledger.engine.begin() as connection:
        for item in (a, b):
            old = hashlib.sha256(repr(item).encode()).hexdigest()[:32]
            connection.execute(
                deliveries.update().where(deliveries.c.key == item.key).values(plan_hash=old)
            )
    report = ledger.sync([a, delivery("b", text="new")], NOW)
    assert (report.unchanged, report.updated) == (1, [b.key])
    assert len(ledger.history(a.key)) == 1
