"""What every preview format shares: the deliveries to show, their campaigns, and how times,
lengths and excerpts are written."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from itertools import groupby
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from campaigns.delivery import Delivery, Media
from campaigns.durations import format_duration
from campaigns.problems import Problem
from campaigns.wording import duration_words, size_words

if TYPE_CHECKING:
    import regex

HELD = "NOT SCHEDULED"
"""How previews mark a delivery held back by errors in its file."""


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    title: str
    timezone: str
    held: bool = False
    """Its file has errors: its deliveries are shown as they would be, but none is scheduled."""


@dataclass(frozen=True, slots=True)
class Projection:
    """When a channel's rate makes a delivery go out later than planned."""

    due_utc: datetime
    reason: str
    """The rule that delays it, such as "x-main allows 2 posts per 1h"."""
    expires: bool = False
    """The delay passes its deadline (`not_after`): it will not go out."""


@dataclass(frozen=True, slots=True)
class Preview:
    deliveries: Sequence[Delivery]
    """In time order."""
    campaigns: Mapping[str, CampaignInfo]
    """By campaign id."""
    problems: Sequence[Problem] = ()
    tz: str | None = None
    """An extra zone to show every time in (`--tz`)."""
    generated: datetime = field(default_factory=lambda: datetime.now(UTC))
    content_warnings: Mapping[str, str] = field(default_factory=dict)
    """The content warning each channel puts on its posts (Mastodon), by channel name."""
    projected: Mapping[str, Projection] = field(default_factory=dict)
    """Deliveries that a channel's rate moves later, by key."""

    def notes(self, delivery: Delivery) -> list[str]:
        """What the channel adds or changes, in words: the content warning, the rate's delay."""
        notes = []
        warning = self.content_warnings.get(delivery.channel)
        if warning:
            notes.append(f"content warning: {warning}")
        moved = self.projected.get(delivery.key)
        if moved is not None:
            late = format_duration(moved.due_utc - delivery.due_utc)
            when = stamp(moved.due_utc, delivery.timezone)
            notes.append(
                f"expires unsent: {moved.reason}, which would make it {late} late, past its "
                "not_after"
                if moved.expires
                else f"goes out at {when} (+{late}): {moved.reason}"
            )
        return notes

    @property
    def display_zone(self) -> str:
        """The zone whose calendar days group deliveries: `--tz`, else the campaigns' zone when
        they share one, else UTC."""
        return self.tz or shared_zone(self.campaigns)

    @property
    def title(self) -> str:
        return " · ".join(info.title for info in self.campaigns.values()) or "Clarion preview"

    def campaign_zone(self, delivery: Delivery) -> str:
        info = self.campaigns.get(delivery.campaign)
        return info.timezone if info else delivery.timezone

    def held(self, delivery: Delivery) -> bool:
        """Whether the delivery is held back by errors in its campaign file."""
        info = self.campaigns.get(delivery.campaign)
        return info is not None and info.held

    def scheduled(self, delivery: Delivery) -> bool:
        """Whether the daemon would schedule it: approved, in a file without errors."""
        return delivery.status == "approved" and not self.held(delivery)

    def held_campaigns(self) -> set[str]:
        """The campaigns whose files have errors: none of their deliveries is scheduled."""
        return {name for name, info in self.campaigns.items() if info.held}

    def summary(self) -> Summary:
        return summarize(self.deliveries, self.problems, self.held_campaigns())


@dataclass(frozen=True, slots=True)
class VideoFacts:
    duration: float
    """Seconds."""
    size: int
    """Bytes."""

    def __str__(self) -> str:
        return f"video, {duration_words(self.duration)}, {size_words(self.size)}"


def video_facts(media: Media) -> VideoFacts | None:
    """A video's length and size, read from the file (once per version of it, however many
    deliveries show it); None for an image, or a video that cannot be read (validate says
    why)."""
    if not media.mime.startswith("video/"):
        return None
    from pathlib import Path

    from campaigns.video import UnreadableVideo, probe

    try:
        info = probe(Path(media.path))
    except (UnreadableVideo, OSError):
        return None
    return VideoFacts(info.duration, info.size)


def shared_zone(campaigns: Mapping[str, CampaignInfo]) -> str:
    """The campaigns' zone when they share one, else UTC."""
    zones = {info.timezone for info in campaigns.values()}
    return zones.pop() if len(zones) == 1 else "UTC"


@dataclass(frozen=True, slots=True)
class Summary:
    deliveries: int
    drafts: int
    held: int
    """Deliveries of campaign files with errors (shown, never scheduled)."""
    per_channel: dict[str, int]
    """Channel name -> deliveries, by name."""
    errors: int
    warnings: int
    first: datetime | None
    last: datetime | None


def summarize(
    deliveries: Sequence[Delivery], problems: Iterable[Problem], held: Collection[str] = ()
) -> Summary:
    """Counts; `held` names the campaigns whose files have errors."""
    severities = Counter(p.severity for p in problems)
    channels = Counter(d.channel for d in deliveries)
    return Summary(
        deliveries=len(deliveries),
        drafts=sum(d.status == "draft" for d in deliveries),
        held=sum(d.campaign in held for d in deliveries) if held else 0,
        per_channel=dict(sorted(channels.items())),
        errors=severities["error"],
        warnings=severities["warning"],
        first=min((d.due_utc for d in deliveries), default=None),
        last=max((d.due_utc for d in deliveries), default=None),
    )


def describe(summary: Summary) -> str:
    """`0 errors, 2 warnings; 1,240 deliveries on 5 channels (12 drafts)`, and how many are
    held back by errors (`; 40 held back by errors`)."""
    s = summary
    text = f"{plural(s.errors, 'error')}, {plural(s.warnings, 'warning')}; "
    text += f"{plural(s.deliveries, 'delivery', 'deliveries')} on "
    text += plural(len(s.per_channel), "channel")
    notes = [plural(s.drafts, "draft")] if s.drafts else []
    if s.held:
        notes.append(f"{s.held:,} held back by errors")
    return text + (f" ({'; '.join(notes)})" if notes else "")


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def select(
    deliveries: Iterable[Delivery],
    *,
    channels: Collection[str] = (),
    languages: Collection[str] = (),
    audiences: Collection[str] = (),
    start: datetime | None = None,
    end: datetime | None = None,
    drafts: bool = True,
) -> list[Delivery]:
    """The deliveries a preview shows; `start` is inclusive, `end` exclusive."""
    return [
        d
        for d in deliveries
        if (not channels or d.channel in channels)
        and (not languages or d.language in languages)
        and (not audiences or d.audience in audiences)
        and (start is None or d.due_utc >= start)
        and (end is None or d.due_utc < end)
        and (drafts or d.status != "draft")
    ]


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_label(name: str) -> str:
    """`America/New_York` -> `New York`: short enough for a column heading."""
    return name.rsplit("/", 1)[-1].replace("_", " ")


def iso_utc(instant: datetime) -> str:
    return _utc_stamp(instant.astimezone(UTC))


def iso_local(instant: datetime, zone_name: str) -> str:
    return _local_stamp(instant.astimezone(UTC), zone_name)


# Deliveries share their instants (a post goes to every channel at once), so the formatting
# is cached, by the instant in UTC (local times that differ only by `fold` compare equal).


@lru_cache(maxsize=4096)
def _utc_stamp(utc: datetime) -> str:
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=4096)
def _local_stamp(utc: datetime, zone_name: str) -> str:
    return utc.astimezone(zone(zone_name)).isoformat(timespec="seconds")


def local_day(instant: datetime, zone_name: str) -> date:
    return instant.astimezone(zone(zone_name)).date()


def clock(instant: datetime, zone_name: str, day: date | None = None) -> str:
    """`09:00 CET`, with the date added when it is not `day` (the heading the row stands under)."""
    local = instant.astimezone(zone(zone_name))
    text = f"{local:%H:%M} {local.tzname()}"
    if day is not None and local.date() != day:
        text += f" ({local:%a} {local.day} {local:%b})"
    return text


def stamp(instant: datetime, zone_name: str) -> str:
    """`2027-02-09 09:00 CET`"""
    local = instant.astimezone(zone(zone_name))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def day_heading(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def by_day(deliveries: Iterable[Delivery], zone_name: str) -> list[tuple[date, list[Delivery]]]:
    """Consecutive deliveries grouped by their date in `zone_name` (input in time order)."""
    return [
        (day, list(group))
        for day, group in groupby(deliveries, key=lambda d: local_day(d.due_utc, zone_name))
    ]


def length_label(delivery: Delivery) -> str:
    return f"{delivery.length}/{delivery.limit}"


def over_limit(delivery: Delivery) -> bool:
    return delivery.length > delivery.limit


def post_label(delivery: Delivery, with_campaign: bool = False) -> str:
    """`tips 2/5` for a thread's second part; the campaign first when several are shown."""
    label = f"{delivery.campaign}/{delivery.post}" if with_campaign else delivery.post
    if delivery.thread_size > 1:
        label += f" {delivery.thread_index + 1}/{delivery.thread_size}"
    return label


NEWLINE_MARK = " ↵ "


def excerpt(text: str, limit: int = 60) -> str:
    """One line of at most `limit` characters as people count them (an emoji flag is one), cut
    at a word end where possible; line breaks show as ↵."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    flat = NEWLINE_MARK.join(line for line in lines if line)
    graphemes = _graphemes().findall(flat)
    if len(graphemes) <= limit:
        return flat
    cut = "".join(graphemes[: limit - 1])
    space = cut.rfind(" ")
    if space > len(cut) // 2:
        cut = cut[:space]
    return cut.rstrip(" ↵") + "…"


@cache
def _graphemes() -> regex.Pattern[str]:
    """Imported on first use: `validate` and `preview --format json` show no excerpt."""
    import regex

    return regex.compile(r"\X")
