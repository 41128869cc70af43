"""When to try a delivery again after the platform said "not now"."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from scheduler.config import RetryPolicy


class Backoff:
    """Exponential back-off with full jitter, between `first_delay` and `max_delay`.

    The n-th failed attempt waits a random time between first_delay and
    min(max_delay, first_delay * 2^(n-1)), so that channels that failed together do not all come
    back at the same instant; never before the platform's own reset time.
    """

    def __init__(self, policy: RetryPolicy, rng: random.Random | None = None) -> None:
        self.policy = policy
        self._rng = rng or random.Random()

    def delay(self, attempt: int) -> timedelta:
        first, cap = self.policy.first_delay, self.policy.max_delay
        ceiling = min(cap, first * (1 << min(max(attempt - 1, 0), 32)))
        low = min(first, ceiling)
        return low + (ceiling - low) * self._rng.random()

    def next_attempt(
        self, attempt: int, now: datetime, not_before: datetime | None = None
    ) -> datetime | None:
        """When to try after failed attempt number `attempt` (1-based); None once the policy's
        attempts are used up."""
        if attempt >= self.policy.attempts:
            return None
        at = now + self.delay(attempt)
        return at if not_before is None else max(at, not_before)
