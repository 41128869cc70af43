"""A post that went out on a lost claim is a fact the ledger keeps (`Ledger.late_sent`)."""

from __future__ import annotations

from datetime import timedelta

from scheduler.ledger.api import Claim, ErrorClass, Failed, LateSent, Retry, Sent, State, Unknown
from scheduler.ledger.sql import SqlLedger
from tests.scheduler.ledgerkit import LEASE, NOW, delivery, ref

LATER = NOW + LEASE + timedelta(minutes=1)
"""After the first claim's lease ran out."""


def lapsed(ledger: SqlLedger) -> Claim:
    """Daemon A's claim, run out: the row is unknown."""
    ledger.sync([delivery("a")], NOW)
    found = ledger.claim("x-main", "daemon-a", LEASE, NOW)
    assert found is not None
    assert ledger.expire_leases(LATER) == [found.row.key]
    return found


def test_an_unknown_delivery_becomes_sent(ledger: SqlLedger) -> None:
    stale = lapsed(ledger)
    assert ledger.finish(stale, Sent(ref(1)), LATER) is False
    assert ledger.late_sent(stale, Sent(ref(1)), LATER) == LateSent(State.UNKNOWN, True)
    row = ledger.find(stale.row.key)
    assert (row.state, row.ref, row.sent_utc, row.last_error) == (State.SENT, ref(1), LATER, None)
    last = ledger.history(row.key)[-1]
    assert (last.from_state, last.to_state, last.process) == (
        State.UNKNOWN,
        State.SENT,
        "daemon-a",
    )
    assert last.reason == (
        "the answer came after its claim ran out: it went out, at "
        "https://x.example/status/1 (it was unknown)"
    )


def test_a_delivery_planned_again_by_an_operator_becomes_sent(ledger: SqlLedger) -> None:
    stale = lapsed(ledger)
    ledger.resolve(stale.row.key, None, "op@host:1", LATER)
    assert ledger.late_sent(stale, Sent(ref(1)), LATER) == LateSent(State.PLANNED, True)
    assert ledger.find(stale.row.key).state == State.SENT
    assert ledger.claim("x-main", "daemon-b", LEASE, LATER) is None


def test_another_daemons_claim_ends_as_sent_and_it_cannot_renew(ledger: SqlLedger) -> None:
    stale = lapsed(ledger)
    ledger.resolve(stale.row.key, None, "op@host:1", LATER)
    other = ledger.claim("x-main", "daemon-b", LEASE, LATER)
    assert other is not None and ledger.holds(other) and not ledger.holds(stale)
    late = ledger.late_sent(stale, Sent(ref(1)), LATER)
    assert late == LateSent(State.CLAIMED, True, other_owner="daemon-b")
    row = ledger.find(stale.row.key)
    assert (row.state, row.ref, row.lease_owner) == (State.SENT, ref(1), None)
    assert "the claim of daemon-b ends here" in str(ledger.history(row.key)[-1].reason)
    # B's last check before its request leaves (the fenced renewal) refuses it, and its
    # result cannot overwrite A's.
    assert not ledger.holds(other) and ledger.renew(other, LEASE, LATER) is None
    assert ledger.finish(other, Retry(LATER, "not sent", ErrorClass.LEASE), LATER) is False
    assert ledger.find(row.key).ref == ref(1)


def test_a_delivery_sent_by_another_says_posted_twice(ledger: SqlLedger) -> None:
    stale = lapsed(ledger)
    ledger.resolve(stale.row.key, None, "op@host:1", LATER)
    other = ledger.claim("x-main", "daemon-b", LEASE, LATER)
    assert other is not None and ledger.finish(other, Sent(ref(2)), LATER)
    late = ledger.late_sent(stale, Sent(ref(1)), LATER)
    assert late == LateSent(State.SENT, False, other_ref=ref(2))
    row = ledger.find(stale.row.key)
    assert (row.state, row.ref) == (State.SENT, ref(2))
    last = ledger.history(row.key)[-1]
    assert (last.from_state, last.to_state) == (State.SENT, State.SENT)
    assert "posted twice, at https://x.example/status/2 and https://x.example/status/1" in str(
        last.reason
    )


def test_the_same_post_found_by_a_look_up_is_no_double(ledger: SqlLedger) -> None:
    stale = lapsed(ledger)
    ledger.resolve(stale.row.key, ref(1), "lookup", LATER)
    assert ledger.late_sent(stale, Sent(ref(1)), LATER) == LateSent(State.SENT, False)


def test_a_cancelled_delivery_keeps_its_state_and_the_post_in_its_history(
    ledger: SqlLedger,
) -> None:
    stale = lapsed(ledger)
    ledger.cancel(stale.row.key, "not needed", "op@host:1", LATER)
    assert ledger.late_sent(stale, Sent(ref(1)), LATER) == LateSent(State.CANCELLED, False)
    row = ledger.find(stale.row.key)
    assert (row.state, row.ref) == (State.CANCELLED, None)
    assert "https://x.example/status/1, though it is cancelled" in str(
        ledger.history(row.key)[-1].reason
    )


def test_other_outcomes_of_a_lapsed_claim_stay_refused(ledger: SqlLedger) -> None:
    stale = lapsed(ledger)
    for outcome in (
        Retry(LATER, "later", ErrorClass.RETRY_LATER),
        Failed("no", ErrorClass.REJECTED),
        Unknown("maybe", ErrorClass.AMBIGUOUS),
    ):
        assert ledger.finish(stale, outcome, LATER) is False
    assert ledger.find(stale.row.key).state == State.UNKNOWN
