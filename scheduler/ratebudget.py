"""How fast one channel may post: at most `posts` in any window of `per`, and `min_interval`
between two. A post over budget waits its turn; none is dropped.

The budget is shared by every daemon on the ledger: the start of each post is kept in the
ledger (`rate_spends`), and a claim is made only if the budget, read under a lock on the
channel in the claim's own transaction, allows it (`SqlLedger.claim(rate=...)`). This module
only counts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol


class Rate(Protocol):
    """A channel's budget as config.yaml gives it (`scheduler.config.RateSettings`)."""

    @property
    def posts(self) -> int: ...

    @property
    def per(self) -> timedelta: ...

    @property
    def min_interval(self) -> timedelta: ...


class ChannelBudget:
    def __init__(self, posts: int, per: timedelta, min_interval: timedelta = timedelta(0)) -> None:
        self.posts = posts
        self.per = per
        self.min_interval = min_interval
        self._starts: deque[datetime] = deque()

    @classmethod
    def from_settings(cls, rate: Rate) -> ChannelBudget:
        return cls(rate.posts, rate.per, rate.min_interval)

    @property
    def memory(self) -> timedelta:
        """How far back a post still counts against the budget."""
        return max(self.per, self.min_interval)

    def spend(self, at: datetime) -> None:
        """Count a post started at `at`."""
        self._starts.append(at)
        if len(self._starts) > self.posts:
            self._starts.popleft()

    def seed(self, starts: Iterable[datetime]) -> None:
        """Count posts made earlier (by any daemon, from the ledger), oldest first."""
        for at in starts:
            self.spend(at)

    def wait(self, now: datetime) -> timedelta:
        """How long the next post must wait; zero when it may go now."""
        ready = now
        if self._starts:
            ready = max(ready, self._starts[-1] + self.min_interval)
        if len(self._starts) >= self.posts:
            ready = max(ready, self._starts[-self.posts] + self.per)
        return ready - now
