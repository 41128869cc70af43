"""A delivery whose key changed after it went out (campaign, post, audience or channel
renamed) is recognised and recorded, never posted again without an operator (issue 7.3)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.delivery import Delivery
from scheduler.ledger.api import ErrorClass, NotAllowed, Sent, State, Unknown
from scheduler.ledger.sql import SqlLedger, open_ledger
from tests.scheduler.ledgerkit import LEASE, NOW, delivery, ref, thread
from tests.scheduler.test_ledger_sync import settle

HOUR = timedelta(hours=1)
DEADLINE = NOW + 2 * HOUR


def test_a_renamed_campaign_is_recorded_as_sent_and_its_threads_go_on(ledger: SqlLedger) -> None:
    first, second = thread("tips", 2, deadline=DEADLINE)
    sent = delivery("a", deadline=DEADLINE)
    later = delivery("b", due=NOW + HOUR)
    ledger.sync([sent, later, first, second], NOW)
    settle(ledger, sent, Sent(ref(1)))
    settle(ledger, first, Sent(ref(2)))  # the thread's second part waits for the first

    renamed = [
        replace(d, key=d.key.replace("sayno/", "sayno27/"), campaign="sayno27")
        for d in (sent, later, first)
    ]
    part2 = delivery("tips", campaign="sayno27", part=2, size=2, deadline=DEADLINE)
    report = ledger.sync([*renamed, part2], NOW + timedelta(minutes=5))

    assert report.went_out_as == {renamed[0].key: sent.key, renamed[2].key: first.key}
    assert sorted(report.added) == sorted([renamed[1].key, part2.key])
    assert sorted(report.cancelled) == sorted([later.key, second.key])
    new = ledger.find(renamed[0].key)
    assert (new.state, new.ref, new.error_class) == (State.SENT, ref(1), ErrorClass.IDENTITY)
    assert new.last_error is not None
    assert new.last_error.startswith(
        f"already went out as {sent.key} at {ref(1).url} before its campaign sayno became "
        "sayno27: recorded as sent, not posted again"
    )
    claim = ledger.claim("x-main", "test", LEASE, NOW + timedelta(minutes=6))
    assert claim is not None and claim.row.key == part2.key  # the rest of the thread follows
    assert claim.parent == ref(2)
    assert ledger.sync([*renamed, part2], NOW + HOUR).went_out_as == {}  # recorded once


def test_a_renamed_post_with_new_words_is_recognised_but_two_renames_and_new_words_are_new(
    ledger: SqlLedger,
) -> None:
    a, b = delivery("a", deadline=DEADLINE), delivery("b", channel="x-two", deadline=DEADLINE)
    ledger.sync([a, b], NOW)
    settle(ledger, a, Sent(ref(1)))
    settle(ledger, b, Sent(ref(2)))
    a2 = delivery("a2", text="the same post, its typo fixed", deadline=DEADLINE)
    b2 = delivery("b2", channel="x-three", text="another post", deadline=DEADLINE)
    report = ledger.sync([a2, b2], NOW)
    assert report.went_out_as == {a2.key: a.key}
    assert report.added == [b2.key]
    reason = ledger.find(a2.key).last_error or ""
    assert "went out, with other words, as sayno/a/en/x-main" in reason
    assert "its post a became a2" in reason


def test_a_delivery_still_in_the_plan_is_not_taken_for_a_renamed_one(ledger: SqlLedger) -> None:
    a = delivery("a", deadline=DEADLINE)
    ledger.sync([a], NOW)
    settle(ledger, a, Sent(ref(1)))
    twin = delivery("a", campaign="other", deadline=DEADLINE)  # another campaign, same words
    report = ledger.sync([a, twin], NOW, campaigns=["sayno", "other"])
    assert report.added == [twin.key] and report.went_out_as == {}


def test_one_unknown_under_its_old_key_holds_the_new_one_until_an_operator_retries(
    ledger: SqlLedger,
) -> None:
    a = delivery("a", deadline=DEADLINE)
    ledger.sync([a], NOW)
    settle(ledger, a, Unknown("timed out", ErrorClass.AMBIGUOUS))
    a2 = delivery("a2", deadline=DEADLINE)
    assert ledger.went_out_as([a2], NOW) == {a2.key: ledger.find(a.key)}
    assert ledger.sync([a2], NOW).went_out_as == {a2.key: a.key}
    held = ledger.find(a2.key)
    assert (held.state, held.error_class) == (State.CANCELLED, ErrorClass.IDENTITY)
    assert ledger.claim("x-main", "test", LEASE, NOW) is None
    assert ledger.retry(a2.key, "alice", NOW).state == State.PLANNED


def test_retry_posts_a_renamed_delivery_again_but_never_an_ordinary_sent_one(
    ledger: SqlLedger,
) -> None:
    a = delivery("a", deadline=DEADLINE)
    ledger.sync([a], NOW)
    settle(ledger, a, Sent(ref(1)))
    a2 = delivery("a2", deadline=DEADLINE)
    ledger.sync([a2], NOW)
    with pytest.raises(NotAllowed, match="already sent"):
        ledger.retry(a.key, "alice", NOW)
    again = ledger.retry(a2.key, "alice", NOW)
    assert (again.state, again.ref, again.sent_utc) == (State.PLANNED, None, None)
    assert "posted again" in (ledger.history(a2.key)[-1].reason or "")
    claim = ledger.claim("x-main", "test", LEASE, NOW)
    assert claim is not None and claim.row.key == a2.key


def test_a_paused_campaign_renamed_stays_paused(ledger: SqlLedger) -> None:
    a, b = delivery("a", deadline=DEADLINE), delivery("b", due=NOW + HOUR)
    ledger.sync([a, b], NOW)
    settle(ledger, a, Sent(ref(1)))
    ledger.pause("sayno", "news event", "alice", NOW)
    renamed = [
        replace(d, key=d.key.replace("sayno/", "sayno27/"), campaign="sayno27") for d in (a, b)
    ]
    ledger.sync(renamed, NOW)
    assert ledger.claim("x-main", "test", LEASE, NOW + 2 * HOUR) is None
    [control] = [c for c in ledger.controls() if c.campaign == "sayno27"]
    assert control.reason == "paused as sayno before it was renamed sayno27: news event"
    assert control.by == "alice"
    ledger.resume("sayno27", "alice", NOW)
    claim = ledger.claim("x-main", "test", LEASE, NOW + 2 * HOUR)
    assert claim is not None and claim.row.key == renamed[1].key


def test_only_deliveries_due_by_now_are_compared(ledger: SqlLedger) -> None:
    a = delivery("a", deadline=DEADLINE)
    ledger.sync([a], NOW)
    settle(ledger, a, Sent(ref(1)))
    moved = delivery("a2", due=NOW + HOUR)  # renamed and moved: a new post
    assert ledger.sync([moved], NOW).added == [moved.key]


def test_a_post_recorded_under_its_new_key_counts_once_in_the_rate_budget(
    ledger: SqlLedger,
) -> None:
    a = delivery("a", deadline=DEADLINE)
    ledger.sync([a], NOW)
    settle(ledger, a, Sent(ref(1)))
    ledger.sync([delivery("a2", deadline=DEADLINE)], NOW)
    assert len(ledger.sent_since("x-main", NOW - HOUR)) == 1


@settings(max_examples=30, deadline=None)
@given(
    posts=st.dictionaries(
        st.sampled_from([f"p{i}" for i in range(5)]), st.integers(-3, 2), min_size=1
    ),
    sent=st.sets(st.sampled_from([f"p{i}" for i in range(5)])),
    campaign=st.sampled_from(["sayno", "sayno-2027"]),
    renamed=st.sets(st.sampled_from([f"p{i}" for i in range(5)])),
)
def test_no_rename_ever_posts_again_what_went_out(
    posts: dict[str, int], sent: set[str], campaign: str, renamed: set[str]
) -> None:
    def plan(campaign: str, renamed: set[str]) -> list[Delivery]:
        return [
            delivery(
                f"{post}-new" if post in renamed else post,
                campaign=campaign,
                channel=f"ch-{post}",
                text=f"{post} words",
                due=NOW + hours * HOUR,
            )
            for post, hours in posts.items()
        ]

    with tempfile.TemporaryDirectory() as folder:
        ledger = open_ledger(f"sqlite:///{folder}/ledger.db")
        try:
            ledger.sync(plan("sayno", set()), NOW)
            out = {post for post in sent & set(posts) if posts[post] <= 0}
            for post in out:
                claim = ledger.claim(f"ch-{post}", "daemon", LEASE, NOW)
                assert claim is not None
                assert ledger.finish(claim, Sent(ref(post)), NOW)
            ledger.sync(plan(campaign, renamed), NOW)
            for post in posts:
                claim = ledger.claim(f"ch-{post}", "daemon", LEASE, NOW)
                if post in out or posts[post] > 0:
                    assert claim is None
                else:
                    assert claim is not None and claim.row.post.startswith(post)
        finally:
            ledger.close()
