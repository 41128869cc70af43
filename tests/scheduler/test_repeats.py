"""One decision for sending again a delivery that may have gone out (scheduler.repeats)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.base import ChannelAccess
from connectors.registry import CONNECTORS, capabilities, connector_class
from scheduler.ledger.api import OPERATOR_RETRY, State, Transition
from scheduler.repeats import REPEAT_MARGIN, REPEATED, first_open_attempt, repeat_verdict
from tests.scheduler.ledgerkit import NOW

KEY = "sayno/p/en/ch"
MINUTE = timedelta(minutes=1)


def step(at: int, old: State | None, new: State, reason: str | None = None) -> Transition:
    return Transition(KEY, NOW + at * MINUTE, old, new, "host:1", reason)


LOST = [
    step(0, None, State.PLANNED),
    step(1, State.PLANNED, State.CLAIMED),
    step(2, State.CLAIMED, State.UNKNOWN, "it may have gone out: read timed out"),
]

MOVES = st.sampled_from(
    [
        (State.PLANNED, State.CLAIMED, None),
        (State.CLAIMED, State.UNKNOWN, "the lease ran out mid-publish"),
        (State.CLAIMED, State.SENT, "sent"),
        (State.CLAIMED, State.FAILED, "rejected"),
        (State.UNKNOWN, State.PLANNED, f"{REPEATED} (the same record key)"),
        (State.UNKNOWN, State.PLANNED, "found not sent: planned again"),
        (State.UNKNOWN, State.CANCELLED, "cancelled by an operator"),
        (State.FAILED, State.PLANNED, OPERATOR_RETRY),
        (State.CANCELLED, State.PLANNED, OPERATOR_RETRY),
    ]
)


@given(st.lists(MOVES, max_size=12))
def test_cancelling_never_clears_what_may_have_gone_out(
    moves: list[tuple[State, State, str]],
) -> None:
    history = [step(i, old, new, why) for i, (old, new, why) in enumerate(moves)]
    cancelled = [*history, step(99, State.UNKNOWN, State.CANCELLED, "cancelled by an operator")]
    assert first_open_attempt(cancelled) == first_open_attempt(history)


def test_an_operator_retry_or_a_look_up_that_found_nothing_clears_it() -> None:
    assert first_open_attempt(LOST) == NOW + MINUTE
    cancelled = [*LOST, step(3, State.UNKNOWN, State.CANCELLED, "cancelled by an operator")]
    assert first_open_attempt(cancelled) == NOW + MINUTE
    assert (
        first_open_attempt([*cancelled, step(4, State.CANCELLED, State.PLANNED, OPERATOR_RETRY)])
        is None
    )
    assert first_open_attempt([*LOST, step(3, State.UNKNOWN, State.PLANNED, "not found")]) is None
    repeated = [*LOST, step(3, State.UNKNOWN, State.PLANNED, f"{REPEATED} (key)")]
    assert first_open_attempt(repeated) == NOW + MINUTE


def channel(platform: str) -> ChannelAccess:
    options = {"format": "matrix"} if platform == "webhook" else {}
    return ChannelAccess("ch", platform, options=options)


@pytest.mark.parametrize("platform", sorted(CONNECTORS))
def test_only_a_record_key_or_a_known_key_window_make_a_repeat_safe(platform: str) -> None:
    found = capabilities(channel(platform))
    verdict = repeat_verdict(found, LOST, NOW + 2 * MINUTE)
    window = found.idempotency == "key" and found.idempotency_window is not None
    assert verdict.safe == (found.idempotency == "record-key" or window)
    assert verdict.lookup == found.lookup
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
    assert repeat_verdict(None, LOST[:2], NOW).safe  # nothing may have gone out
