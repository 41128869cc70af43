"""Durations as people write them: `90s`, `30m`, `2h`, `1h30m`, `1d`, `2w`, `500ms`.

One type with one rule for campaign files and config.yaml alike: a number always carries its
unit (`30` could be seconds or minutes, so it is refused rather than guessed), `true` and
`false` are not durations, and where zero means nothing (a deadline, a lease, an interval)
the positive variant refuses it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, PlainValidator, WithJsonSchema

from campaigns.problems import HintedError

_PART = re.compile(r"(\d+)\s*(ms|w|d|h|m|s)")
DURATION = re.compile(r"\s*(?:\d+\s*(?:ms|[wdhms])\s*)+")
"""A whole duration, as `parse_duration` reads it."""
_UNITS = {
    "w": "weeks",
    "d": "days",
    "h": "hours",
    "m": "minutes",
    "s": "seconds",
    "ms": "milliseconds",
}
_EXAMPLES = "such as 90s, 30m, 2h, 1h30m, 1d or 2w"


def parse_duration(text: str) -> timedelta:
    """Raises HintedError with a message fit for a campaign manager."""
    if not DURATION.fullmatch(text):
        raise HintedError(
            f"'{text}' is not a duration", hint=f"write a number and a unit, {_EXAMPLES}"
        )
    total = timedelta()
    try:
        for amount, unit in _PART.findall(text):
            total += timedelta(**{_UNITS[unit]: int(amount)})
    except OverflowError:
        raise ValueError(f"'{text}' is too long a duration") from None
    return total


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):  # a default, or a value built in Python
        return value
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, bool):
        raise HintedError(
            f"{str(value).lower()} is not a duration",
            hint=f"write a number and a unit, {_EXAMPLES}",
        )
    if isinstance(value, int | float):
        raise HintedError(
            f"a duration needs a unit: {value} of what?",
            hint="write a number and a unit, such as 30m, 2h or 1d",
        )
    if value is None:
        raise HintedError("the duration is missing", hint=f"write a number and a unit, {_EXAMPLES}")
    raise ValueError(f"a duration is a number and a unit, {_EXAMPLES}, not a list or a mapping")


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta():
        raise HintedError(
            "the duration must be longer than zero", hint="such as 30s, 30m, 2h or 1d"
        )
    return value


_SCHEMA = {
    "type": "string",
    "pattern": "^" + DURATION.pattern + "$",
    "examples": ["30m", "2h", "1h30m", "1d"],
}

Duration = Annotated[timedelta, PlainValidator(_duration), WithJsonSchema(_SCHEMA)]
"""A duration that may be zero (`min_gap: 0s` turns a warning off)."""
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]
"""A duration where zero means nothing: deadlines, leases, intervals, time-outs."""


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
