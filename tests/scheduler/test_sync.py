"""The sync rules as a pure function: rows and plan in, the work to apply out (no ledger)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.delivery import Delivery
from scheduler.ledger import codec
from scheduler.ledger.api import ErrorClass, Row, State
from scheduler.sync import (
    GONE_OUT,
    Move,
    Note,
    Refresh,
    SyncWork,
    by_key,
    fresh,
    match_went_out,
    plan_sync,
    renamed_campaigns,
    renamed_candidates,
    renamed_occurrences,
    renaming,
)
from tests.scheduler.ledgerkit import NOW, delivery, ref

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Stored:
    key: str
    campaign: str
    state: str
    plan_hash: str
    content_hash: str
    error_class: str | None
    due_utc: datetime = NOW


def stored(item: Delivery, state: State, error_class: str | None = None) -> Stored:
    """The row the ledger would hold for `item`, in `state`."""
    return Stored(
        item.key,
        item.campaign,
        state,
        codec.fingerprint(item),
        item.content_hash,
        error_class,
        item.due_utc,
    )


def sent_row(item: Delivery, n: int = 1) -> Row:
    return Row(
        key=item.key,
        campaign=item.campaign,
        post=item.post,
        channel=item.channel,
        platform=item.platform,
        state=State.SENT,
        due_utc=item.due_utc,
        deadline_utc=item.deadline_utc,
        delivery=item,
        source_file=item.source_file,
        content_hash=item.content_hash,
        attempts=1,
        next_attempt_utc=None,
        ref=ref(n),
        last_error=None,
        error_class=None,
        updated_utc=NOW,
        sent_utc=NOW - HOUR,
    )


def work_of(plan: list[Delivery], rows: list[Stored], now: datetime = NOW) -> SyncWork:
    by = by_key(plan)
    existing = {r.key: r for r in rows}
    return plan_sync(by, existing, {}, {}, now)


def test_new_deliveries_are_added_in_plan_order_and_drafts_are_not() -> None:
    plan = [delivery("a"), delivery("b", status="draft"), delivery("c", due=NOW + HOUR)]
    work = work_of(plan, [])
    assert [add.delivery.key for add in work.adds] == [plan[0].key, plan[2].key]
    assert all(add.state == State.PLANNED and add.error is None for add in work.adds)
    assert work.adds[0].why == "added from the plan (sayno.yaml:3:5)"
    assert (work.refreshes, work.moves, work.notes) == ([], [], [])
    assert work.report.added == [plan[0].key, plan[2].key]


def test_a_new_delivery_past_its_deadline_is_added_expired() -> None:
    late = delivery("late", due=NOW - 2 * HOUR, deadline=NOW - HOUR)
    [add] = work_of([late], []).adds
    assert (add.state, add.error_class) == (State.EXPIRED, "deadline")
    assert add.error == "past its deadline (2027-02-09 07:00:00 UTC): not posted"
    assert add.why == f"added from the plan ({late.source}), {add.error}"


def test_an_unchanged_row_is_counted_and_left_alone() -> None:
    item = delivery("a")
    work = work_of([item], [stored(item, State.PLANNED)])
    assert (work.adds, work.refreshes, work.moves, work.notes) == ([], [], [], [])
    assert work.report.unchanged == 1


def test_a_changed_planned_row_is_refreshed_with_a_note() -> None:
    before, after = delivery("a"), delivery("a", text="reworded")
    work = work_of([after], [stored(before, State.PLANNED)])
    assert work.refreshes == [Refresh(after, codec.fingerprint(after), State.PLANNED)]
    assert work.notes == [Note(after.key, State.PLANNED, "changed in the plan (sayno.yaml:3:5)")]
    assert work.report.updated == [after.key]


def test_a_row_sync_cancelled_comes_back_but_not_one_an_operator_cancelled() -> None:
    item = delivery("a")
    back = work_of([item], [stored(item, State.CANCELLED, "removed-from-plan")])
    assert back.moves == [
        Move(
            item.key,
            State.CANCELLED,
            State.PLANNED,
            "back in the plan (sayno.yaml:3:5)",
            ErrorClass.DEADLINE,
        )
    ]
    assert back.report.added == [item.key]
    kept = work_of([item], [stored(item, State.CANCELLED, "operator")])
    assert (kept.moves, kept.report.unchanged) == ([], 1)


@pytest.mark.parametrize("state", GONE_OUT)
def test_a_row_that_went_out_is_never_touched_and_an_edit_is_reported(state: State) -> None:
    before, after = delivery("a"), delivery("a", text="reworded", due=NOW + HOUR)
    work = work_of([after], [stored(before, state)])
    assert (work.adds, work.refreshes, work.moves, work.notes) == ([], [], [], [])
    assert work.report.edited_after_sending == [after.key]


def test_planned_rows_gone_from_the_plan_or_turned_draft_are_cancelled() -> None:
    a, b, c = delivery("a"), delivery("b"), delivery("c")
    rows = [stored(a, State.PLANNED), stored(b, State.PLANNED), stored(c, State.FAILED)]
    work = work_of([replace(b, status="draft")], rows)
    assert work.moves == [
        Move(
            b.key,
            State.PLANNED,
            State.CANCELLED,
            f"the post is a draft again ({b.source})",
            ErrorClass.DRAFT,
        ),
        Move(
            a.key,
            State.PLANNED,
            State.CANCELLED,
            "removed from the plan",
            ErrorClass.REMOVED_FROM_PLAN,
        ),
    ]
    assert work.report.cancelled == [b.key, a.key]


def test_a_renamed_occurrence_is_the_row_that_went_out() -> None:
    daily = replace(delivery("weekly"), key="sayno/weekly@2027-02-09/en/x-main")
    twice = replace(daily, key="sayno/weekly@2027-02-09T0900/en/x-main")
    later = replace(daily, key="sayno/weekly@2027-02-09T1800/en/x-main", due_utc=NOW + HOUR)
    plan = by_key([twice, later])
    existing = {daily.key: stored(daily, State.SENT)}
    assert renamed_candidates(plan, existing) == [daily.key]
    renamed = renamed_occurrences(existing.values())
    assert fresh(plan, existing, renamed) == [later]
    work = plan_sync(plan, existing, renamed, {}, NOW)
    assert [add.delivery.key for add in work.adds] == [later.key]
    assert (work.report.unchanged, work.moves) == (1, [])


def test_no_occurrence_is_looked_for_without_a_new_recurring_key() -> None:
    daily = replace(delivery("weekly"), key="sayno/weekly@2027-02-09/en/x-main")
    existing = {daily.key: stored(daily, State.SENT)}
    assert renamed_candidates(by_key([delivery("other")]), existing) == []


def test_a_renamed_campaign_that_went_out_is_added_sent_not_planned() -> None:
    old = delivery("a", campaign="old")
    new = delivery("a", campaign="new")
    plan = by_key([new])
    went_out = match_went_out([new], plan, [sent_row(old)])
    assert {k: r.key for k, r in went_out.items()} == {new.key: old.key}
    [add] = plan_sync(plan, {}, {}, went_out, NOW).adds
    assert (add.state, add.error_class, add.sent, add.sent_utc) == (
        State.SENT,
        ErrorClass.IDENTITY,
        ref(1),
        NOW - HOUR,
    )
    assert add.why.startswith(f"already went out as {old.key} at {ref(1).url} before its campaign")
    assert renamed_campaigns({new.key: old.key, "kept/b/en/x-main": "kept/c/en/x-main"}) == {
        "new": "old"
    }


def test_a_row_still_in_the_plan_or_two_renames_away_with_new_words_is_no_match() -> None:
    old, same = delivery("a", campaign="old"), delivery("a", campaign="old")
    far = delivery("b", campaign="new", text="other words")
    assert match_went_out([far], by_key([far]), [sent_row(old)]) == {}
    assert match_went_out([same], by_key([same]), [sent_row(old)]) == {}


def test_renaming_names_each_part_that_changed() -> None:
    assert renaming("c1/p/en/x", "c2/p/en/y") == "its campaign c1 became c2, channel x became y"


def test_without_drops_the_changes_to_rows_that_moved_on() -> None:
    a, b, c = delivery("a"), delivery("b"), delivery("c")
    rows = [stored(a, State.PLANNED), stored(replace(b, text="old"), State.PLANNED)]
    work = work_of([b, c], rows)
    assert work.touched() == {a.key: State.PLANNED, b.key: State.PLANNED}
    left = work.without({a.key, b.key})
    assert (left.refreshes, left.moves, left.notes) == ([], [], [])
    assert [add.delivery.key for add in left.adds] == [c.key]
    assert (left.report.cancelled, left.report.updated, left.report.added) == ([], [], [c.key])
    assert work.without(set()) is work


def test_two_deliveries_with_one_key_are_a_plan_bug() -> None:
    with pytest.raises(ValueError, match="share the key"):
        by_key([delivery("a"), delivery("a", text="twin")])


# --- any plan against any rows -------------------------------------------------------------

POSTS = ["p0", "p1", "p2", "p3", "p4"]
_versions = st.tuples(st.integers(0, 2), st.integers(-3, 3), st.booleans(), st.booleans())
_states = st.sampled_from(list(State))
_classes = st.sampled_from([None, "removed-from-plan", "draft", "operator", "deadline"])


def _delivery(post: str, version: tuple[int, int, bool, bool]) -> Delivery:
    text, hours, deadline, draft = version
    return delivery(
        post,
        text=f"{post} v{text}",
        due=NOW + hours * HOUR,
        deadline=NOW + (hours + 1) * HOUR if deadline else None,
        status="draft" if draft else "approved",
    )


@given(
    plan=st.dictionaries(st.sampled_from(POSTS), _versions),
    rows=st.dictionaries(st.sampled_from(POSTS), st.tuples(_versions, _states, _classes)),
)
def test_every_rule_holds_for_any_plan_against_any_rows(
    plan: dict[str, tuple[int, int, bool, bool]],
    rows: dict[str, tuple[tuple[int, int, bool, bool], State, str | None]],
) -> None:
    wanted = by_key(_delivery(post, version) for post, version in plan.items())
    existing = {
        row.key: row
        for post, (version, state, error_class) in rows.items()
        for row in [stored(_delivery(post, version), state, error_class)]
    }
    work = plan_sync(wanted, existing, {}, {}, NOW)
    for add in work.adds:  # only what has no row, never a draft
        assert add.delivery.key not in existing and add.delivery.status != "draft"
        assert add.state in (State.PLANNED, State.EXPIRED)
    for key, seen in work.touched().items():  # never a row that went out (or may have)
        assert seen == existing[key].state and seen not in GONE_OUT
    for move in work.moves:  # cancelled only from planned; nothing ever leaves sent
        if move.to == State.CANCELLED:
            assert move.seen == State.PLANNED
            assert move.key not in wanted or wanted[move.key].status == "draft"
    for key, row in existing.items():
        if row.state in GONE_OUT and key in wanted and wanted[key].status != "draft":
            assert (key in work.report.edited_after_sending) == (
                wanted[key].content_hash != row.content_hash
            )
    report = work.report
    counted = (
        len(report.added)
        + len(report.updated)
        + len(report.expired)
        + len(report.edited_after_sending)
        + report.unchanged
    )
    drafts = sum(1 for d in wanted.values() if d.status == "draft")
    assert counted == len(wanted) - drafts
