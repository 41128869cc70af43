"""What the checks and expansion of one campaign file share: the file being loaded (its model,
sources and what the checks resolved), who each post is written for, and the slots that the
min_gap check compares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from campaigns.blackouts import Window
from campaigns.channels import KnownChannel
from campaigns.model import CampaignFile, Post
from campaigns.problems import HintedError, Location, Problems, Severity
from campaigns.timeexpr import Anchor, Instant, TimeExpr, resolve
from campaigns.yamlsource import PathKey, SourceMap


@dataclass(frozen=True, slots=True)
class Variant:
    """Who a post is written for: an audience, or a language when there are no audiences."""

    name: str
    """Its part of the delivery key."""
    language: str | None
    audience: str | None
    zone: str
    channels: tuple[str, ...]


@dataclass
class Scope:
    """One campaign file being loaded: its model, its sources, and what the checks resolved."""

    source: SourceMap
    base: Path
    definition: CampaignFile
    posts: list[tuple[int, Post]]
    """Valid posts with their index in the file."""
    known_channels: Mapping[str, KnownChannel]
    """From config.yaml, or the built-in defaults (see LoadOptions)."""
    strict_channels: bool
    now: datetime
    problems: Problems
    anchor_now: datetime | None = None
    """What the anchor value `now` means, when it was fixed earlier (else `now`)."""
    channels: dict[str, KnownChannel] = field(default_factory=dict)
    """The campaign's channels that are known (or guessed from their names)."""
    anchors: dict[str, Anchor] = field(default_factory=dict)
    variants: list[Variant] = field(default_factory=list)
    blackouts: list[Window] = field(default_factory=list)
    bad_posts: set[int] = field(default_factory=set)

    def at(self, *path: str | int) -> Location:
        return self.source.value(path)

    def key_at(self, *path: str | int) -> Location:
        return self.source.key(path)

    def report(self, severity: Severity, where: Location, message: str, hint: str) -> None:
        """An error, or a warning marked [draft] for a draft post."""
        if severity == "error":
            self.problems.error(where, message, hint)
        else:
            self.problems.warning(where, f"{message} [draft]", hint)

    def span(self, start: TimeExpr, until: TimeExpr, path: PathKey, zone: str) -> Span | None:
        """`from` and `until` read in `zone`; None (with an error) when they are out of order."""
        try:
            first = resolve(start, self.anchors, zone)
            last = resolve(until, self.anchors, zone, end=True).utc
        except ValueError as exc:
            self.problems.error(self.at(*path), *HintedError.parts(exc))
            return None
        if first.utc > last:
            self.problems.error(
                self.at(*path, "until"),
                f"'until' ({until}) comes before 'from' ({start})",
                "swap them, or check the dates and anchors",
            )
            return None
        return Span(first, last)


@dataclass(frozen=True, slots=True)
class Span:
    """From and until, resolved."""

    start: Instant
    until: datetime
    """In UTC; a day without a time of day ends just before the next one begins."""


def post_variants(scope: Scope, post: Post) -> list[Variant]:
    """The variants a post goes to, with its own channel, language and audience choices."""
    found = []
    for variant in scope.variants:
        if post.audiences is not None and variant.audience not in post.audiences:
            continue
        if post.languages is not None and variant.language not in post.languages:
            continue
        channels = tuple(c for c in variant.channels if post.channels is None or c in post.channels)
        if channels:
            zone = post.timezone or variant.zone
            found.append(Variant(variant.name, variant.language, variant.audience, zone, channels))
    return found


@dataclass(frozen=True, slots=True)
class Slot:
    """Deliveries of one post at one instant on one channel, for the min_gap check."""

    channel: str
    due: datetime
    campaign: str
    post: str
    variants: frozenset[str]
    gap: timedelta
    where: Location
    zones: tuple[tuple[str, str], ...] = ()
    """Each variant's name and the zone of its wall clock."""

    def who(self) -> str:
        """`be-fr, nl-be at 09:10 CET; uk-en at 08:10 GMT`: who gets it, on which clock."""
        clocks: dict[str, list[str]] = {}
        for name, zone_name in self.zones:
            local = self.due.astimezone(ZoneInfo(zone_name))
            clocks.setdefault(f"{local:%H:%M} {local.tzname()}", []).append(name)
        found = []
        for clock, names in clocks.items():
            named = [name for name in names if name != "-"]
            found.append(f"{', '.join(named)} at {clock}" if named else clock)
        return "; ".join(found)


@dataclass(frozen=True, slots=True)
class PostSlots:
    """The slots of one approved post, kept as the instants each variant goes out at on each
    channel: made into `Slot`s only when some post has a min_gap to keep."""

    campaign: str
    post: str
    gap: timedelta
    where: Location
    zones: dict[tuple[str, datetime], dict[str, str]]
    """Each variant's name and the zone of its wall clock, by channel and instant."""

    def slots(self) -> list[Slot]:
        return [
            Slot(
                channel,
                due,
                self.campaign,
                self.post,
                frozenset(names),
                self.gap,
                self.where,
                tuple(sorted(names.items())),
            )
            for (channel, due), names in self.zones.items()
        ]
