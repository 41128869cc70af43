"""Reading a campaign file's blackouts on their own, whatever else in the file is wrong: a
blackout added in a hurry (a day of mourning) must not be lost because the same save has a
typo elsewhere and the rest of the file is rejected."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError

from campaigns.blackouts import Safety, Window
from campaigns.model import AnchorName, AnchorValue, Blackout, Slug, ZoneName
from campaigns.timeexpr import Anchor, TimeExpr, resolve
from campaigns.yamlsource import SourceMap


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
