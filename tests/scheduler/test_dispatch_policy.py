"""Back-off between retries, and each channel's rate budget."""

from __future__ import annotations

import random
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from scheduler.config import RateSettings, RetryPolicy
from scheduler.ratebudget import ChannelBudget
from scheduler.retrying import Backoff
from tests.scheduler.ledgerkit import NOW

SECOND = timedelta(seconds=1)
POLICY = RetryPolicy(attempts=8, first_delay=30 * SECOND, max_delay=timedelta(minutes=30))


@given(attempt=st.integers(1, 200), seed=st.integers(0, 2**32))
def test_back_off_stays_between_first_delay_and_the_exponential_cap(
    attempt: int, seed: int
) -> None:
    delay = Backoff(POLICY, random.Random(seed)).delay(attempt)
    cap = min(POLICY.max_delay, POLICY.first_delay * 2 ** min(attempt - 1, 40))
    assert POLICY.first_delay <= delay <= cap


def test_back_off_is_jittered_and_grows() -> None:
    backoff = Backoff(POLICY, random.Random(7))
    assert backoff.delay(1) == 30 * SECOND
    fourth = {backoff.delay(4) for _ in range(50)}
    assert len(fourth) > 40 and max(fourth) <= 240 * SECOND
    assert max(backoff.delay(30) for _ in range(50)) <= POLICY.max_delay


def test_next_attempt_respects_the_platform_reset_and_gives_up() -> None:
    backoff = Backoff(POLICY, random.Random(1))
    reset = NOW + timedelta(hours=1)
    assert backoff.next_attempt(1, NOW) == NOW + 30 * SECOND
    assert backoff.next_attempt(1, NOW, not_before=reset) == reset
    assert backoff.next_attempt(1, NOW, not_before=NOW) == NOW + 30 * SECOND
    assert backoff.next_attempt(7, NOW) is not None
    assert backoff.next_attempt(8, NOW) is None


def test_a_budget_allows_its_posts_per_window() -> None:
    budget = ChannelBudget.from_settings(RateSettings(posts=3, per=timedelta(minutes=15)))
    for minute in (0, 1, 2):
        at = NOW + timedelta(minutes=minute)
        assert budget.wait(at) == timedelta(0)
        budget.spend(at)
    assert budget.wait(NOW + timedelta(minutes=3)) == timedelta(minutes=12)
    assert budget.wait(NOW + timedelta(minutes=15)) == timedelta(0)
    budget.spend(NOW + timedelta(minutes=15))
    assert budget.wait(NOW + timedelta(minutes=15)) == timedelta(minutes=1)


def test_a_budget_spaces_posts_by_the_minimum_interval() -> None:
    budget = ChannelBudget(posts=100, per=timedelta(hours=1), min_interval=45 * SECOND)
    assert budget.wait(NOW) == timedelta(0)
    budget.spend(NOW)
    assert budget.wait(NOW + 5 * SECOND) == 40 * SECOND
    assert budget.wait(NOW + 50 * SECOND) == timedelta(0)


def test_a_budget_counts_posts_made_before_a_restart() -> None:
    budget = ChannelBudget(posts=2, per=timedelta(hours=1))
    budget.seed([NOW - timedelta(minutes=50), NOW - timedelta(minutes=10)])
    assert budget.wait(NOW) == timedelta(minutes=10)


@given(
    gaps=st.lists(st.integers(0, 600), min_size=1, max_size=40),
    posts=st.integers(1, 5),
    per=st.integers(1, 900),
    interval=st.integers(0, 120),
)
def test_posts_that_wait_their_turn_never_break_the_budget(
    gaps: list[int], posts: int, per: int, interval: int
) -> None:
    budget = ChannelBudget(posts, per * SECOND, interval * SECOND)
    now, starts = NOW, []
    for gap in gaps:
        now += gap * SECOND
        now += budget.wait(now)
        budget.spend(now)
        starts.append(now)
    for i, start in enumerate(starts):
        assert i == 0 or start - starts[i - 1] >= interval * SECOND
        window = [s for s in starts if start <= s < start + per * SECOND]
        assert len(window) <= posts
