"""When each delivery is projected to go out once its channel's rate (`rate:` in config.yaml)
has had its say: what `clarion preview` shows and `clarion validate` warns about.

The projection plays the daemon's rule forward with the daemon's own arithmetic
(scheduler.ratebudget.ChannelBudget): each channel posts its due deliveries in due order, one
at a time, each as soon as the budget allows; a delivery the budget would push past its
deadline expires without spending any. It starts from an empty budget: posts sent just before
the plan's first one (seen only by the daemon, in the ledger) can delay it further.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from campaigns.delivery import Delivery
from campaigns.durations import format_duration
from campaigns.loader import delivery_order
from campaigns.preview.common import Projection
from scheduler.config import RateSettings
from scheduler.ratebudget import ChannelBudget


def describe_rate(channel: str, rate: RateSettings) -> str:
    """`x-main allows 2 posts per 1h, at least 10m apart`"""
    text = f"{channel} allows {rate.posts} post{'s' if rate.posts > 1 else ''} per "
    text += format_duration(rate.per)
    if rate.min_interval > timedelta(0):
        text += f", at least {format_duration(rate.min_interval)} apart"
    return text


def project(
    deliveries: Iterable[Delivery], rates: Mapping[str, RateSettings], now: datetime
) -> dict[str, Projection]:
    """The deliveries the rate moves (by key): when they go out, or that they expire."""
    by_channel: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        if delivery.channel in rates and delivery.due_utc >= now:
            by_channel[delivery.channel].append(delivery)
    moved: dict[str, Projection] = {}
    for channel, queue in by_channel.items():
        rate = rates[channel]
        budget = ChannelBudget.from_settings(rate)
        started: dict[str, datetime] = {}
        for delivery in sorted(queue, key=delivery_order):
            earliest = delivery.due_utc
            parent = started.get(delivery.parent_key or "")
            if parent is not None:
                earliest = max(earliest, parent)
            start = earliest + budget.wait(earliest)
            if start <= delivery.due_utc:
                budget.spend(start)
                started[delivery.key] = start
                continue
            expires = delivery.deadline_utc is not None and start > delivery.deadline_utc
            moved[delivery.key] = Projection(start, describe_rate(channel, rate), expires)
            if not expires:
                budget.spend(start)
                started[delivery.key] = start
    return moved
