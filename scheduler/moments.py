"""Instants and spans as the operator's commands write them: always in UTC, to the minute
for people and in ISO 8601 with a `Z` for scripts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utc_minute(moment: datetime | None) -> str:
    """`2027-02-09 14:00 UTC`; `-` for no moment."""
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def utc_iso(moment: datetime | None) -> str | None:
    """`2027-02-09T14:00:00Z`; None for no moment."""
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def span(delta: timedelta) -> str:
    """A length of time, roughly, whatever its sign: `2d 3h`, `1h 5m`, `7m`."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"
