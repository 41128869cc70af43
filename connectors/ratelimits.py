"""Rate-limit headers as budgets, and when to try again after a 429.

Platforms name their headers alike (`<prefix>-limit`, `-remaining`, `-reset`) but write the
reset differently: Unix seconds on X and Bluesky, ISO 8601 on Mastodon.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from connectors.base import PlatformBudget

ResetParser = Callable[[str | None], datetime | None]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def header_budget(
    headers: Mapping[str, str], prefix: str, scope: str, reset: ResetParser
) -> PlatformBudget | None:
    """The budget that `<prefix>-limit/-remaining/-reset` describe, or None without them."""
    limit = _int(headers.get(f"{prefix}-limit"))
    remaining = _int(headers.get(f"{prefix}-remaining"))
    resets_at = reset(headers.get(f"{prefix}-reset"))
    if limit is None and remaining is None and resets_at is None:
        return None
    return PlatformBudget(scope, limit, remaining, resets_at)


def retry_time(budgets: Iterable[PlatformBudget], *others: datetime | None) -> datetime | None:
    """When to try again after a 429: the latest reset among the exhausted budgets.

    A platform may count several windows at once (X: 15 minutes and 24 hours); trying again
    when the shorter one resets only earns another 429. Without an exhausted budget, the
    latest reset of any; `others` (a Retry-After) always count.
    """
    budgets = list(budgets)
    exhausted = [b.resets_at for b in budgets if b.remaining == 0 and b.resets_at]
    times = exhausted or [b.resets_at for b in budgets if b.resets_at]
    times += [t for t in others if t]
    return max(times, default=None)
