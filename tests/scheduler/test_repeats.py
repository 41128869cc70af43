"""One decision for sending again a delivery that may have gone out (scheduler.repeats)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.base import ChannelAccess
from connectors.catalog import platforms
from connectors.registry import capabilities, connector_class
from scheduler.ledger.api import OPERATOR_RETRY, Cause, State, Transition
from scheduler.repeats import REPEAT_MARGIN, REPEATED, first_open_attempt, repeat_verdict
from tests.scheduler.ledgerkit import NOW

KEY = "sayno/p/en/ch"
MINUTE = timedelta(minutes=1)


def step(
    at: int, old: State | None, new: State, reason: str | None = None, cause: Cause | None = None
) -> Transition:
    return Transition(KEY, NOW + at * MINUTE, old, new, "host:1", reason, cause)


def retried(at: int, old: State) -> Transition:
    return step(at, old, State.PLANNED, OPERATOR_RETRY, Cause.OPERATOR_RETRY)


def repeated(at: int, why: str) -> Transition:
    return step(at, State.UNKNOWN, State.PLANNED, f"{REPEATED} ({why})", Cause.REPEAT)


LOST = [
    step(0, None, State.PLANNED),
    step(1, State.PLANNED, State.CLAIMED),
    step(2, State.CLAIMED, State.UNKNOWN, "it may have gone out: read timed out"),
]

MOVES = st.sampled_from(
    [
        lambda i: step(i, State.PLANNED, State.CLAIMED),
        lambda i: step(i, State.CLAIMED, State.UNKNOWN, "the lease ran out mid-publish"),
        lambda i: step(i, State.CLAIMED, State.SENT, "sent"),
        lambda i: step(i, State.CLAIMED, State.FAILED, "rejected"),
        lambda i: repeated(i, "the same record key"),
        lambda i: step(i, State.UNKNOWN, State.PLANNED, "found not sent: planned again"),
        lambda i: step(i, State.UNKNOWN, State.CANCELLED, "cancelled by an operator"),
        lambda i: retried(i, State.FAILED),
        lambda i: retried(i, State.CANCELLED),
    ]
)


@given(st.lists(MOVES, max_size=12))
def test_cancelling_never_clears_what_may_have_gone_out(
    moves: list[Callable[[int], Transition]],
) -> None:
    history = [move(i) for i, move in enumerate(moves)]
    cancelled = [*history, step(99, State.UNKNOWN, State.CANCELLED, "cancelled by an operator")]
    assert first_open_attempt(cancelled) == first_open_attempt(history)


def test_an_operator_retry_or_a_look_up_that_found_nothing_clears_it() -> None:
    assert first_open_attempt(LOST) == NOW + MINUTE
    cancelled = [*LOST, step(3, State.UNKNOWN, State.CANCELLED, "cancelled by an operator")]
    assert first_open_attempt(cancelled) == NOW + MINUTE
    assert first_open_attempt([*cancelled, retried(4, State.CANCELLED)]) is None
    assert first_open_attempt([*LOST, step(3, State.UNKNOWN, State.PLANNED, "not found")]) is None
    assert first_open_attempt([*LOST, repeated(3, "key")]) == NOW + MINUTE
    # the cause counts, not the words: a reason that only reads like a repeat clears it
    lookalike = step(3, State.UNKNOWN, State.PLANNED, f"{REPEATED} (key)")
    assert first_open_attempt([*LOST, lookalike]) is None


def channel(platform: str) -> ChannelAccess:
    options = {"format": "matrix"} if platform == "webhook" else {}
    return ChannelAccess("ch", platform, options=options)


@pytest.mark.parametrize("platform", platforms())
def test_only_a_record_key_or_a_known_key_window_make_a_repeat_safe(platform: str) -> None:
    found = capabilities(channel(platform))
    verdict = repeat_verdict(found, LOST, NOW + 2 * MINUTE)
    window = found.idempotency == "key" and found.idempotency_window is not None
    assert verdict.safe == (found.idempotency == "record-key" or window)
    assert verdict.lookup == found.lookup
    assert verdict.cause == (Cause.REPEAT if verdict.safe else None)
    if window:
        assert found.idempotency_window is not None
        late = NOW + MINUTE + found.idempotency_window - REPEAT_MARGIN
        assert not repeat_verdict(found, LOST, late).safe


def test_a_webhook_channel_is_judged_by_its_format() -> None:
    assert connector_class("webhook").capabilities.idempotency == "none"
    matrix = capabilities(channel("webhook"))
    assert matrix.idempotency == "key" and matrix.lookup
    slack = capabilities(ChannelAccess("ch", "webhook", options={"format": "slack"}))
    assert slack.idempotency == "none" and not slack.lookup


def test_an_unconfigured_channel_is_never_safe() -> None:
    verdict = repeat_verdict(None, LOST, NOW)
    assert not verdict.safe and "not in config.yaml" in verdict.why
    nothing_out = repeat_verdict(None, LOST[:2], NOW)  # nothing may have gone out
    assert nothing_out.safe and nothing_out.cause is None
