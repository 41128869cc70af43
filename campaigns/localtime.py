"""Wall-clock time in a named zone becomes UTC here, and only here, with a written DST policy.

- A wall time inside a spring-forward gap (02:30 when clocks jump from 02:00 to 03:00) does not
  exist: it moves forward by the length of the gap (to 03:30).
- A wall time inside an autumn fold (02:30 when clocks go back from 03:00 to 02:00) happens
  twice: the first occurrence is taken (fold=0, still on summer time).

Both cases return a note for the preview. Zones come from zoneinfo (the IANA database of the
tzdata package or the system); the host's own zone is never consulted.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from campaigns.durations import format_duration
from campaigns.problems import HintedError

_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
"""Files in the zone database that are not zones one should name in a plan."""


@cache
def zone(name: str) -> ZoneInfo:
    """The zone called `name`; raises HintedError with close names as a hint."""
    if name in _NOT_ZONES or name.startswith(("posix/", "right/")) or not name.strip():
        raise _unknown(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _unknown(name) from None


_OFFSET_NAME = re.compile(r"\s*(?:Etc/)?(?:UTC|GMT|CET|CEST|EET|EST)\s*[+-]\s*\d.*", re.I)


def _unknown(name: str) -> HintedError:
    if _OFFSET_NAME.fullmatch(name):
        return HintedError(
            f"'{name}' is a distance from UTC, not a time zone",
            hint="name the place whose clock you mean, such as Europe/Brussels (it follows "
            "summer time), or give a fixed offset in the time itself, such as "
            "2027-02-09T09:00+01:00",
        )
    message = f"unknown time zone '{name}'"
    close = suggest_zones(name)
    if close:
        return HintedError(message, hint=f"did you mean {' or '.join(repr(z) for z in close)}?")
    return HintedError(message, hint="use an IANA zone name such as Europe/Brussels or UTC")


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones() if name not in _NOT_ZONES}


def suggest_zones(name: str) -> list[str]:
    names = _zone_names()
    lowered = name.strip().lower().replace(" ", "_")
    if lowered in names:
        return [names[lowered]]
    cities = {key.rsplit("/", 1)[-1]: key for key in names}
    by_city = difflib.get_close_matches(lowered.rsplit("/", 1)[-1], list(cities), n=2, cutoff=0.8)
    close = [cities[c] for c in by_city] or difflib.get_close_matches(lowered, list(names), n=2)
    return [names[k] for k in close[:2]]


def to_utc(wall: datetime, tz: ZoneInfo) -> tuple[datetime, str | None]:
    """The UTC instant of a naive wall-clock time in `tz`, and a note when DST got in the way."""
    first = wall.replace(tzinfo=tz, fold=0)
    before, after = first.utcoffset(), wall.replace(tzinfo=tz, fold=1).utcoffset()
    instant = first.astimezone(UTC)
    if before == after:
        return instant, None
    assert before is not None and after is not None
    shown = f"{wall:%Y-%m-%d %H:%M} in {tz.key}"
    if before < after:  # clocks went forward: this wall time does not exist
        moved = instant.astimezone(tz)
        return instant, (
            f"{shown} does not exist (clocks go forward by {format_duration(after - before)}): "
            f"moved to {moved:%H:%M} {moved.tzname()}"
        )
    return instant, (
        f"{shown} happens twice (clocks go back by {format_duration(before - after)}): "
        f"the first one is used, {first:%H:%M} {first.tzname()} = {instant:%H:%M} UTC"
    )


def to_wall(instant: datetime, tz: ZoneInfo) -> datetime:
    """The naive wall-clock time of an aware instant in `tz`."""
    return instant.astimezone(tz).replace(tzinfo=None)
