"""What operators (and reconciliation) may change: retry, cancel, resolve, and the history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduler.ledger.api import (
    Cause,
    ErrorClass,
    Failed,
    NoSuchDelivery,
    NotAllowed,
    Sent,
    State,
    Unknown,
)
from scheduler.ledger.sql import SqlLedger
from tests.scheduler.ledgerkit import LEASE, NOW, delivery, ref

MINUTE = timedelta(minutes=1)
KEY = delivery("a").key


def failed(ledger: SqlLedger, outcome: Failed | Unknown | Sent, **kw: object) -> None:
    ledger.sync([delivery("a", **kw)], NOW)  # type: ignore[arg-type]
    claim = ledger.claim("x-main", "daemon", LEASE, NOW)
    assert claim is not None and ledger.finish(claim, outcome, NOW)


def test_retry_plans_a_failed_delivery_afresh(ledger: SqlLedger) -> None:
    failed(ledger, Failed("rejected", ErrorClass.REJECTED))
    row = ledger.retry(KEY, "alice@host:1", NOW + MINUTE)
    assert (row.state, row.attempts, row.last_error, row.next_attempt_utc) == (
        State.PLANNED,
        0,
        None,
        None,
    )
    last = ledger.history(KEY)[-1]
    assert (last.from_state, last.to_state, last.process, last.cause) == (
        State.FAILED,
        State.PLANNED,
        "alice@host:1",
        Cause.OPERATOR_RETRY,
    )
    assert [step.cause for step in ledger.history(KEY)[:-1]] == [None, None, None]
    assert ledger.claim("x-main", "daemon", LEASE, NOW + MINUTE) is not None


def test_retry_lifts_a_deadline_that_has_passed(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a", due=NOW - 10 * MINUTE, deadline=NOW - MINUTE)], NOW)
    assert ledger.find(KEY).state == State.EXPIRED
    row = ledger.retry(KEY, "alice", NOW)
    assert (row.state, row.deadline_utc) == (State.PLANNED, None)
    assert "deadline (2027-02-09 07:59:00 UTC) is lifted" in (ledger.history(KEY)[-1].reason or "")
    assert ledger.claim("x-main", "daemon", LEASE, NOW) is not None
    assert ledger.sync([delivery("a", due=NOW - 10 * MINUTE, deadline=NOW - MINUTE)], NOW).unchanged


def test_retry_refuses_what_is_planned_claimed_or_sent(ledger: SqlLedger) -> None:
    failed(ledger, Sent(ref(7)))
    with pytest.raises(NotAllowed, match=r"already sent \(https://x.example/status/7\): it cannot"):
        ledger.retry(KEY, "alice", NOW)
    ledger.sync([delivery("a"), delivery("b", due=NOW + MINUTE)], NOW)
    with pytest.raises(NotAllowed, match="is already planned, due 2027-02-09 08:01:00 UTC"):
        ledger.retry(delivery("b").key, "alice", NOW)
    claim = ledger.claim("x-main", "daemon-9", LEASE, NOW + MINUTE)
    assert claim is not None
    with pytest.raises(NotAllowed, match=r"being published right now \(by daemon-9\)") as refused:
        ledger.cancel(delivery("b").key, None, "alice", NOW)
    assert refused.value.state == State.CLAIMED


def test_cancel_stops_a_delivery_for_good(ledger: SqlLedger) -> None:
    failed(ledger, Unknown("timed out", ErrorClass.AMBIGUOUS))
    row = ledger.cancel(KEY, "posted by hand", "alice", NOW)
    assert (row.state, row.error_class) == (State.CANCELLED, "operator")
    assert row.last_error == "cancelled by an operator: posted by hand"
    with pytest.raises(NotAllowed, match="already cancelled"):
        ledger.cancel(KEY, None, "alice", NOW)
    assert ledger.retry(KEY, "alice", NOW).state == State.PLANNED


def test_resolve_records_where_an_unknown_delivery_went(ledger: SqlLedger) -> None:
    failed(ledger, Unknown("timed out", ErrorClass.AMBIGUOUS))
    row = ledger.resolve(KEY, ref(9), "alice", NOW + MINUTE)
    assert (row.state, row.ref, row.sent_utc, row.last_error) == (
        State.SENT,
        ref(9),
        NOW + MINUTE,
        None,
    )
    assert ledger.history(KEY)[-1].reason == "found sent, at https://x.example/status/9"


def test_resolve_not_sent_plans_it_again_keeping_its_attempts(ledger: SqlLedger) -> None:
    failed(ledger, Unknown("timed out", ErrorClass.AMBIGUOUS))
    row = ledger.resolve(KEY, None, "reconciler", NOW, "not found on the platform")
    assert (row.state, row.attempts) == (State.PLANNED, 1)
    assert ledger.history(KEY)[-1].reason == "not found on the platform"
    with pytest.raises(NotAllowed, match="is planned, not unknown: only a delivery whose"):
        ledger.resolve(KEY, ref(1), "alice", NOW)


def test_unknown_keys_come_with_close_matches(ledger: SqlLedger) -> None:
    ledger.sync([delivery("countdown"), delivery("countdown", channel="mastodon-main")], NOW)
    with pytest.raises(NoSuchDelivery) as missing:
        ledger.find("sayno/countdown/en/x-mian")
    assert missing.value.suggestions[0] == "sayno/countdown/en/x-main"
    with pytest.raises(NoSuchDelivery) as partial:
        ledger.history("countdown")
    assert set(partial.value.suggestions) == {
        "sayno/countdown/en/x-main",
        "sayno/countdown/en/mastodon-main",
    }
    for action in (
        lambda: ledger.retry("nope", "alice", NOW),
        lambda: ledger.cancel("nope", None, "alice", NOW),
        lambda: ledger.resolve("nope", None, "alice", NOW),
        lambda: ledger.thread_refs("nope"),
    ):
        with pytest.raises(NoSuchDelivery, match="no delivery with key 'nope'"):
            action()


def test_history_tells_the_whole_story(ledger: SqlLedger) -> None:
    ledger.sync([delivery("a")], NOW)
    claim = ledger.claim("x-main", "host:42", LEASE, NOW)
    assert claim is not None
    ledger.expire_leases(NOW + LEASE + MINUTE)
    ledger.resolve(KEY, None, "alice@desk:7", NOW + LEASE + MINUTE)
    story = [(h.from_state, h.to_state, h.process) for h in ledger.history(KEY)]
    assert story == [
        (None, State.PLANNED, "test:1"),
        (State.PLANNED, State.CLAIMED, "host:42"),
        (State.CLAIMED, State.UNKNOWN, "test:1"),
        (State.UNKNOWN, State.PLANNED, "alice@desk:7"),
    ]
