"""Durations as people write them: `90s`, `30m`, `2h`, `1h30m`, `1d`, `2w`."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*(w|d|h|m|s)")
DURATION = re.compile(r"\s*(?:\d+\s*[wdhms]\s*)+")
"""A whole duration, as `parse_duration` reads it."""
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """Raises ValueError with a message fit for a campaign manager."""
    if not DURATION.fullmatch(text):
        raise ValueError(
            f"'{text}' is not a duration | hint: write a number and a unit, such as 90s, 30m, "
            "2h, 1h30m, 1d or 2w"
        )
    total = timedelta()
    try:
        for amount, unit in _PART.findall(text):
            total += timedelta(**{_UNITS[unit]: int(amount)})
    except OverflowError:
        raise ValueError(f"'{text}' is too long a duration") from None
    return total


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return sign + ("".join(parts) or "0s")
