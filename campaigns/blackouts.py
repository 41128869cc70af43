"""Blackouts resolved to UTC, and what becomes of a post planned inside one.

The same windows serve the preview (a post inside one is shown held, with what happens next)
and the daemon (it stores them in the ledger and checks them when it claims a delivery).
`read_safety` reads them from a campaign file even when the rest of that file is rejected: a
blackout added in a hurry must not be lost because the same save has a typo elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError

from campaigns.model import AnchorName, AnchorValue, Blackout, BlackoutPolicy, Slug, ZoneName
from campaigns.problems import Location
from campaigns.timeexpr import Anchor, TimeExpr, resolve
from campaigns.yamlsource import SourceMap


@dataclass(frozen=True, slots=True)
class Window:
    """A blackout: from `start` (included) to `end` (excluded), on `channels` (None: all)."""

    start: datetime
    end: datetime
    reason: str
    channels: frozenset[str] | None
    where: Location
    then: BlackoutPolicy = "postpone"

    def covers(self, channel: str, instant: datetime) -> bool:
        on = self.channels is None or channel in self.channels
        return on and self.start <= instant < self.end


def bounds(
    start: TimeExpr, until: TimeExpr, anchors: Mapping[str, Anchor], zone: str
) -> tuple[datetime, datetime]:
    """A blackout's start and its (excluded) end in UTC. A day alone as `until` means that
    whole day, so the end is the next midnight. Raises KeyError (unknown anchor), ValueError."""
    first = resolve(start, anchors, zone).utc
    last = resolve(until, anchors, zone, end=True).utc
    if until.day_only:
        last += timedelta(microseconds=1)  # resolve gives the day's last instant
    return first, last


@dataclass(frozen=True, slots=True)
class Fate:
    """What becomes of a delivery planned inside a blackout."""

    window: Window
    """The blackout its planned time falls in."""
    release: datetime | None
    """When it may go out (the end of the blackouts that hold it); None: it is skipped."""
    expires: bool
    """Its deadline passes before `release`: it will not go out."""


def fate(
    windows: Sequence[Window], channel: str, due: datetime, deadline: datetime | None
) -> Fate | None:
    """None if no blackout holds a delivery on `channel` planned at `due`.

    The daemon decides the same way when it claims: a delivery planned inside a `skip`
    blackout is cancelled; any other waits while any blackout covers the present moment, and
    its deadline still applies.
    """
    hits = [w for w in windows if w.covers(channel, due)]
    if not hits:
        return None
    skipping = next((w for w in hits if w.then == "skip"), None)
    if skipping is not None:
        return Fate(skipping, None, False)
    release = due
    moved = True
    while moved:  # blackouts that overlap or follow each other hold it until the last ends
        moved = False
        for window in windows:
            if window.covers(channel, release):
                release, moved = window.end, True
    return Fate(hits[0], release, deadline is not None and deadline < release)


@dataclass(frozen=True, slots=True)
class Safety:
    """A campaign's blackouts, and the posts that go out in spite of them."""

    campaign: str
    windows: tuple[Window, ...]
    exempt_posts: frozenset[str]


_SLUG: TypeAdapter[str] = TypeAdapter(Slug)
_ZONE: TypeAdapter[str] = TypeAdapter(ZoneName)
_ANCHOR_NAME: TypeAdapter[str] = TypeAdapter(AnchorName)
_ANCHOR_VALUE: TypeAdapter[Any] = TypeAdapter(AnchorValue)
_BLACKOUT: TypeAdapter[Blackout] = TypeAdapter(Blackout)


def read_safety(data: object, source: SourceMap, anchor_now: datetime) -> Safety | None:
    """The blackouts of a campaign file's data, each read on its own, whatever else in the
    file is wrong; None if the file does not say which campaign it is or which zone its times
    are in. A blackout that cannot be read itself is left out (its own error is reported by
    the checks). `anchor_now` is what the anchor value `now` means for this campaign."""
    if not isinstance(data, dict):
        return None
    try:
        campaign = _SLUG.validate_python(data.get("campaign"))
        zone = _ZONE.validate_python(data.get("timezone"))
    except ValidationError:
        return None
    anchors: dict[str, Anchor] = {}
    written = data.get("anchors")
    for name, value in (written if isinstance(written, dict) else {}).items():
        try:
            read = _ANCHOR_VALUE.validate_python(value)
            anchors[_ANCHOR_NAME.validate_python(name)] = anchor_now if read == "now" else read
        except ValidationError:
            continue
    windows = []
    listed = data.get("blackouts")
    for i, item in enumerate(listed if isinstance(listed, list) else []):
        try:
            blackout = _BLACKOUT.validate_python(item)
            start, end = bounds(blackout.start, blackout.until, anchors, zone)
        except (ValidationError, KeyError, ValueError):
            continue
        if start < end:
            channels = frozenset(blackout.channels) if blackout.channels is not None else None
            where = source.value(("blackouts", i))
            windows.append(Window(start, end, blackout.reason, channels, where, blackout.then))
    posts = data.get("posts")
    exempt = frozenset(
        post["id"]
        for post in (posts if isinstance(posts, list) else [])
        if isinstance(post, dict)
        and post.get("ignore_blackouts") is True
        and isinstance(post.get("id"), str)
    )
    return Safety(campaign, tuple(windows), exempt)
