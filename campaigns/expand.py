"""A checked campaign expanded into deliveries: one per post part, occurrence, variant and
channel.

Each post is rendered once per channel and language (not once per occurrence or audience), its
times once per zone; the deliveries then combine the two. That keeps a plan of ten thousand
deliveries fast to load.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from campaigns.channels import KnownChannel
from campaigns.checks.media import IMAGE_TYPES, VIDEO_TYPES, MediaUse, check_media, image_size
from campaigns.checks.text import Part, check_part
from campaigns.delivery import Delivery, DeliveryKey, Media, hash_content
from campaigns.length import measure
from campaigns.localtime import zone
from campaigns.model import Link, LinkSpec, Localized, MediaItem, OneLink, Override, Post
from campaigns.problems import HintedError, Location, Severity
from campaigns.recurrence import (
    MAX_OCCURRENCES,
    Occurrence,
    TooManyOccurrences,
    cron_occurrences,
    interval_occurrences,
)
from campaigns.render import LINK_PLACEHOLDER, Tracking, compose, fill
from campaigns.scope import Scope, Slot, Variant, post_variants
from campaigns.timeexpr import resolve
from campaigns.wording import words
from campaigns.yamlsource import PathKey

T = TypeVar("T")
_LINK_TYPO = re.compile(r"\{\s*link\s*\}", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Rendered:
    thread: bool
    text: str
    link: str | None
    media: tuple[Media, ...]
    length: int
    limit: int
    content_hash: str


@dataclass
class Expansion:
    deliveries: list[Delivery]
    times: dict[str, Location]
    """Where each post's time is written, by post id (for timeline problems)."""
    slots: list[Slot]
    """Approved deliveries by channel, grouped for the min_gap check."""
    media_files: dict[Path, tuple[Path, str | None, int | None, tuple[int, int] | None]] = field(
        default_factory=dict
    )
    """Resolved path, type, size (None: unreadable) and image dimensions of each media file."""
    links: dict[int, tuple[str, Tracking]] = field(default_factory=dict)
    """Address and UTM templates of each link value of the file, by identity."""


def expand(scope: Scope, min_gap: timedelta, default_not_after: timedelta | None) -> Expansion:
    result = Expansion([], {}, [])
    for index, post in scope.posts:
        if index in scope.bad_posts:
            continue
        _PostExpander(scope, index, post, min_gap, default_not_after, result).run()
    return result


@dataclass(frozen=True, slots=True)
class _Time:
    utc: datetime
    label: str | None
    """The occurrence in the key (recurring posts only)."""
    note: str | None
    deadline: datetime | None
    zone: str
    """The zone whose wall clock the author meant: the one the time names, else the
    audience's (or post's, or campaign's)."""


class _PostExpander:
    def __init__(
        self,
        scope: Scope,
        index: int,
        post: Post,
        min_gap: timedelta,
        default_not_after: timedelta | None,
        result: Expansion,
    ) -> None:
        self.scope = scope
        self.post = post
        self.path: PathKey = ("posts", index)
        self.min_gap = min_gap if scope.definition.min_gap is None else scope.definition.min_gap
        self.result = result
        definition = scope.definition
        self.status = post.status or definition.defaults.status
        self.severity: Severity = "warning" if self.status == "draft" else "error"
        not_after = next(
            (v for v in (post.not_after, definition.defaults.not_after) if v is not None),
            default_not_after,
        )
        self.not_after = None if not_after == "none" else not_after
        self.time_path: PathKey = (*self.path, "at" if post.at is not None else "every")
        self.source = str(scope.at(*self.path))
        audiences = {a.name for a in definition.audiences}
        self.per_audience = bool(audiences & post.overrides.keys()) or _mentions_audience(
            [post.link, definition.defaults.link, *(o.link for o in post.overrides.values())]
        )
        """Whether the post reads differently per audience, not only per language."""
        self.threads: dict[tuple[str, PathKey], tuple[int, list[str]]] = {}
        """Threads a channel cannot post as threads: their size and languages, by channel and
        place."""

    def run(self) -> None:
        scope, post = self.scope, self.post
        result = self.result
        result.times[post.id] = scope.at(*self.time_path)
        variants = post_variants(scope, post)
        if not variants:
            if scope.channels:  # with no channel at all, the campaign's channels say why
                scope.problems.warning(
                    scope.at(*self.path, "id"),
                    f"post '{post.id}' goes to no channel",
                    "check its channels, languages and audiences against the campaign's",
                )
            return
        times: dict[str, list[_Time] | None] = {}
        rendered: dict[tuple[str, str | None, str | None], list[Rendered]] = {}
        gaps: dict[tuple[str, datetime], dict[str, str]] = {}
        start = len(result.deliveries)
        for variant in variants:
            if variant.zone not in times:
                times[variant.zone] = self._times(variant.zone)
            occurrences = times[variant.zone]
            if occurrences is None:
                return
            for channel in variant.channels:
                spec = scope.channels[channel]
                ident = (channel, variant.language, variant.audience if self.per_audience else None)
                parts = rendered.get(ident)
                if parts is None:
                    parts = rendered[ident] = self._render(spec, variant)
                for when in occurrences:
                    self._deliver(variant, spec, when, parts)
                    if self.status == "approved":
                        gaps.setdefault((channel, when.utc), {})[variant.name] = when.zone
        self._repeats(start)
        self._no_threads()
        where = result.times[post.id]
        for (channel, due), names in gaps.items():
            result.slots.append(
                Slot(
                    channel,
                    due,
                    scope.definition.campaign,
                    post.id,
                    frozenset(names),
                    self.min_gap,
                    where,
                    tuple(sorted(names.items())),
                )
            )

    def _repeats(self, start: int) -> None:
        """Warn when the same words go out twice at once on one channel: one text written for
        several languages, say, which platforms reject as a duplicate."""
        seen: dict[tuple[str, datetime, str], Delivery] = {}
        channels: list[str] = []
        same_language = False
        for delivery in self.result.deliveries[start:]:
            ident = (delivery.channel, delivery.due_utc, delivery.text)
            first = seen.setdefault(ident, delivery)
            if first is not delivery:
                same_language |= first.language == delivery.language
                if delivery.channel not in channels:
                    channels.append(delivery.channel)
        if channels:
            self.scope.problems.warning(
                self.scope.at(*self.path, "thread" if self.post.thread else "text"),
                f"post '{self.post.id}' sends the same words more than once at the same time on "
                + ", ".join(channels),
                self._repeat_hint(same_language),
            )

    def _repeat_hint(self, same_language: bool) -> str:
        """The fix that applies: a text per language, or fewer audiences on the channel."""
        if same_language:
            return (
                "several audiences in one language share the channel: limit the post with "
                "'audiences:', give the audiences their own 'channels:', or an override per "
                "audience with its own text"
            )
        if self.post.languages is not None:
            return "write one text per language, or limit the post with 'audiences:'"
        return "write one text per language, or limit the post with 'languages:'"

    def _deliver(
        self, variant: Variant, spec: KnownChannel, when: _Time, parts: list[Rendered]
    ) -> None:
        campaign = self.scope.definition.campaign
        parent: str | None = None
        warnings = (when.note,) if when.note else ()
        for number, part in enumerate(parts):
            key = str(
                DeliveryKey(
                    campaign,
                    self.post.id,
                    when.label,
                    variant.name,
                    spec.name,
                    number + 1 if part.thread else None,
                )
            )
            self.result.deliveries.append(
                Delivery(
                    key=key,
                    campaign=campaign,
                    post=self.post.id,
                    channel=spec.name,
                    platform=spec.platform,
                    language=variant.language,
                    audience=variant.audience,
                    due_utc=when.utc,
                    timezone=when.zone,
                    deadline_utc=when.deadline,
                    text=part.text,
                    thread_index=number,
                    thread_size=len(parts),
                    parent_key=parent,
                    media=part.media,
                    link=part.link,
                    status=self.status,
                    length=part.length,
                    limit=part.limit,
                    source=self.source,
                    warnings=warnings,
                    content_hash=part.content_hash,
                )
            )
            parent = key

    # --- time ----------------------------------------------------------------------------

    def _times(self, zone_name: str) -> list[_Time] | None:
        """The post's occurrences read in `zone_name`; None (with an error) when it has none
        that can be used."""
        scope, post = self.scope, self.post
        where = scope.at(*self.time_path)
        found: list[Occurrence] | None
        zone_meant = zone_name
        try:
            if post.at is not None:
                instant = resolve(post.at, scope.anchors, zone_name)
                found = [Occurrence(instant.utc, instant.wall, instant.note)]
                zone_meant = instant.zone
            else:
                found = self._recur(zone_name)
        except TooManyOccurrences:
            scope.problems.error(
                where,
                f"post '{post.id}' would go out more than {MAX_OCCURRENCES} times",
                "narrow 'from' and 'until', or choose a rarer rule",
            )
            return None
        except ValueError as exc:
            scope.problems.error(where, *HintedError.parts(exc))
            return None
        if found is None:
            return None
        for occurrence in found:
            if occurrence.note:
                scope.problems.warning(
                    where,
                    occurrence.note,
                    "the DST rule: a time that does not exist moves forward by the gap; a time "
                    "that happens twice takes the first",
                )
        if post.every is None:
            return [
                _Time(o.utc, None, o.note, _later(o.utc, self.not_after), zone_meant) for o in found
            ]
        if not found:
            scope.problems.warning(
                where,
                f"post '{post.id}' never goes out between 'from' and 'until'",
                "check the rule, and the dates of 'from' and 'until'",
            )
        return [
            _Time(o.utc, label, o.note, _later(o.utc, self.not_after), zone_name)
            for o, label in zip(found, _labels(found), strict=True)
        ]

    def _recur(self, zone_name: str) -> list[Occurrence] | None:
        every = self.post.every
        assert every is not None and every.start is not None and every.until is not None
        span = self.scope.span(every.start, every.until, (*self.path, "every"), zone_name)
        if span is None:
            return None
        tz = zone(zone_name)
        start = span.start
        if every.cron is not None:
            return cron_occurrences(every.cron, start.utc, span.until, tz)
        assert every.interval is not None
        return interval_occurrences(every.interval, start.utc, start.wall, span.until, tz)

    # --- content -------------------------------------------------------------------------

    def _sources(self, spec: KnownChannel, variant: Variant) -> list[str]:
        """The overrides that apply, strongest first: the audience's, the channel's, then the
        platform's."""
        overrides = self.post.overrides
        if not overrides:
            return []
        names = (variant.audience, spec.name, spec.platform)
        return [name for name in names if name is not None and name in overrides]

    def _content(self, spec: KnownChannel, variant: Variant) -> _Content:
        """The parts to post on this channel for this variant: an override first (audience,
        channel, platform), then the post's own text or thread."""
        language = variant.language
        for name in self._sources(spec, variant):
            override = self.post.overrides[name]
            base: PathKey = (*self.path, "overrides", name)
            if override.thread is not None and _applies(override.thread, language):
                return _Content.of(override.thread, (*base, "thread"), language, True)
            if override.text is not None and _has(override.text, language):
                return _Content.of([override.text], (*base, "text"), language, False)
        if self.post.thread is not None:
            return _Content.of(self.post.thread, (*self.path, "thread"), language, True)
        assert self.post.text is not None
        return _Content.of([self.post.text], (*self.path, "text"), language, False)

    def _first(
        self,
        spec: KnownChannel,
        variant: Variant,
        name: str,
        get: Callable[[Override], T | None],
        own: T | None,
    ) -> tuple[T, PathKey] | None:
        """The first of the overrides and the post that sets `name` (an override given per
        language sets it only for the languages it names)."""
        for key in self._sources(spec, variant):
            value = get(self.post.overrides[key])
            if isinstance(value, dict) and (variant.language or "") not in value:
                continue
            if value is not None:
                return value, (*self.path, "overrides", key, name)
        return (own, (*self.path, name)) if own is not None else None

    def _render(self, spec: KnownChannel, variant: Variant) -> list[Rendered]:
        scope, post = self.scope, self.post
        language = variant.language
        defaults = scope.definition.defaults
        content = self._content(spec, variant)
        parts = content.parts
        own_tags = self._first(spec, variant, "hashtags", lambda o: o.hashtags, post.hashtags)
        tags = [*defaults.hashtags, *(own_tags[0] if own_tags else [])]
        if own_tags is not None and not own_tags[0] and "overrides" in own_tags[1]:
            tags = []  # `hashtags: []` in an override: none at all there
        link, removed_at = self._link(spec, variant)
        media_field = self._first(spec, variant, "media", lambda o: o.media, post.media)
        if media_field is None and defaults.media is not None:
            media_field = (defaults.media, ("defaults", "media"))
        uses: list[MediaUse] = []
        if media_field is not None:
            value, media_path = media_field
            items: Sequence[MediaItem] = value if isinstance(value, list) else []
            if isinstance(value, dict):
                media_path = (*media_path, language or "")
                items = value.get(language or "", [])
            uses = [self._media(item, (*media_path, i), language) for i, item in enumerate(items)]
            check_media(scope, spec, language, uses, media_path, self.severity)
        media = tuple(
            Media(u.item.file, str(u.path), u.alt or "", u.mime or "application/octet-stream")
            for u in uses
        )
        if len(parts) > 1 and spec.rules.thread_style != "replies":
            _, found = self.threads.setdefault((spec.name, content.where), (len(parts), []))
            if language and language not in found:
                found.append(language)
        rendered = []
        for number, (body, where) in enumerate(parts):
            first = number == 0
            for typo in {t for t in _LINK_TYPO.findall(body) if t != LINK_PLACEHOLDER}:
                scope.problems.warning(
                    scope.at(*where),
                    f"'{typo}' in the text of post '{post.id}' is not the link placeholder; "
                    "it goes out as written",
                    f"write {LINK_PLACEHOLDER}, in lowercase and without spaces, to put the link "
                    "there",
                )
            if LINK_PLACEHOLDER in body and link is None:
                self._no_link(spec, language, where, removed_at)
            composed = compose(body, tags, link, first=first)
            length = measure(
                composed.text,
                spec.rules,
                limit=spec.limit,
                with_media=first and bool(media),
                spoiler=spec.content_warning,
            )
            if not length.valid:
                added = (
                    *composed.added_hashtags,
                    *(["the link"] if composed.link_appended else []),
                )
                number_ = number + 1 if content.thread else None
                check_part(
                    scope, spec, language, Part(where, added, length), number_, self.severity
                )
            part_media = media if first else ()
            part_link = link if first else None
            rendered.append(
                Rendered(
                    content.thread,
                    composed.text,
                    part_link,
                    part_media,
                    length.length,
                    length.limit,
                    hash_content(composed.text, part_media, part_link, language),
                )
            )
        return rendered

    def _no_link(
        self, spec: KnownChannel, language: str | None, where: PathKey, removed_at: PathKey | None
    ) -> None:
        scope, post = self.scope, self.post
        message = f"the text says {LINK_PLACEHOLDER} but post '{post.id}' has no link"
        hint = "add 'link:' to the post or to the campaign's defaults"
        if removed_at is not None:
            removed = scope.at(*removed_at)
            owner = _override_name(removed_at)
            on = f"on {spec.name}" + (f" ({language})" if language else "")
            message += (
                f" {on}: 'link: none' at line {removed.line}"
                + (f" (overrides of {owner})" if owner else "")
                + " removes it"
            )
            hint = (
                f"remove {LINK_PLACEHOLDER} from the text for {owner} with an override 'text:', "
                "or give it a link there"
                if owner
                else "remove 'link: none', or remove " + LINK_PLACEHOLDER + " from the text"
            )
        scope.report(self.severity, scope.at(*where), message, hint)

    def _no_threads(self) -> None:
        """One warning per thread that a platform posts as comments or separate messages,
        naming the languages it concerns."""
        scope = self.scope
        for (channel, where), (size, languages) in self.threads.items():
            spec = scope.channels[channel]
            later = "part 2 goes" if size == 2 else f"parts 2 to {size} go"
            went = (
                f"{later} out as {'a comment' if size == 2 else 'comments'} on the first post"
                if spec.rules.thread_style == "comments"
                else f"the {size} parts go out as separate messages"
            )
            lang = f" in {', '.join(languages)}" if languages else ""
            scope.problems.warning(
                scope.at(*where),
                f"{spec.rules.label} has no threads: {went} on {spec.name}{lang}",
                f"give {spec.platform} a single 'text' under 'overrides'"
                + (f", with {words(languages)}" if languages else ""),
            )

    def _link(self, spec: KnownChannel, variant: Variant) -> tuple[str | None, PathKey | None]:
        """The link, filled in for this delivery; or None and where 'link: none' removed it."""
        language = variant.language
        found: tuple[Link, PathKey] | None = self._first(
            spec, variant, "link", lambda o: o.link, self.post.link
        )
        defaults = self.scope.definition.defaults.link
        value, where = found if found else (defaults, ("defaults", "link"))
        if isinstance(value, dict):
            value, where = value.get(language or ""), (*where, language or "")
        if isinstance(defaults, dict):
            defaults = defaults.get(language or "")
        if value is None or value == "none":
            return None, (where if value == "none" else None)
        parts = self.result.links.get(id(value))
        if parts is None:
            parts = self.result.links[id(value)] = _link_parts(value, defaults)
        url, tracking = parts
        values = {
            "campaign": self.scope.definition.campaign,
            "post": self.post.id,
            "channel": spec.name,
            "platform": spec.platform,
            "language": language or "",
            "audience": variant.audience or "",
        }
        if "{" in url:
            url = fill(url, {name: quote(v, safe="") for name, v in values.items()})
        return tracking.url(url, values), None

    def _media(self, item: MediaItem, where: PathKey, language: str | None) -> MediaUse:
        path = self.scope.base / item.file
        if path not in self.result.media_files:
            suffix = path.suffix.lower()
            mime = IMAGE_TYPES.get(suffix) or VIDEO_TYPES.get(suffix)
            try:
                path = path.resolve()
                size: int | None = path.stat().st_size if path.is_file() else None
            except (OSError, ValueError):  # unreadable, or a name no file system accepts
                size = None
            dimensions = image_size(path) if size and mime and mime.startswith("image/") else None
            self.result.media_files[self.scope.base / item.file] = (path, mime, size, dimensions)
        path, mime, size, dimensions = self.result.media_files[self.scope.base / item.file]
        alt = _pick(item.alt, language) if item.alt is not None else None
        return MediaUse(item, where, alt, path, mime, size, dimensions)


def _link_parts(value: str | LinkSpec, defaults: OneLink | None) -> tuple[str, Tracking]:
    """The address and UTM templates of a link: its own, over the campaign's default ones."""
    utm: dict[str, str | None] = {}
    if isinstance(defaults, LinkSpec) and defaults.utm is not None:
        utm.update(defaults.utm.model_dump())
    if isinstance(value, str):
        return value, Tracking.of(utm)
    if value.utm is not None:
        utm.update(value.utm.model_dump(exclude_unset=True))
    return value.url, Tracking.of(utm)


def _mentions_audience(links: Sequence[Link | None]) -> bool:
    """Whether one of these links has the {audience} placeholder in it."""
    for link in links:
        if isinstance(link, dict):
            if _mentions_audience(list(link.values())):
                return True
        elif isinstance(link, LinkSpec):
            templates = [link.url, *(link.utm.model_dump().values() if link.utm else [])]
            if any(t and "{audience}" in t for t in templates):
                return True
        elif link is not None and "{audience}" in link:
            return True
    return False


def _override_name(path: PathKey) -> str | None:
    """`x-main` for a value under `overrides: {x-main: ...}`."""
    if "overrides" in path:
        return str(path[path.index("overrides") + 1])
    return None


def _later(due: datetime, delay: timedelta | None) -> datetime | None:
    """due + delay; None (no deadline) when there is no delay or it passes the year 9999."""
    if delay is None or datetime.max.replace(tzinfo=due.tzinfo) - due < delay:
        return None
    return due + delay


def _labels(found: Sequence[Occurrence]) -> list[str]:
    """Key occurrences: the local date, plus the local time on dates with several."""
    per_day: dict[object, int] = {}
    for o in found:
        per_day[o.wall.date()] = per_day.get(o.wall.date(), 0) + 1
    seconds = any(o.wall.second for o in found)
    clock = "T%H%M%S" if seconds else "T%H%M"
    return [
        o.wall.strftime("%Y-%m-%d" + (clock if per_day[o.wall.date()] > 1 else "")) for o in found
    ]


def _has(value: Localized, language: str | None) -> bool:
    return isinstance(value, str) or (language is not None and language in value)


def _applies(parts: Sequence[Localized], language: str | None) -> bool:
    return all(_has(p, language) for p in parts)


def _pick(value: Localized, language: str | None) -> str | None:
    if isinstance(value, str):
        return value
    return value.get(language) if language else None


@dataclass(frozen=True, slots=True)
class _Content:
    parts: list[tuple[str, PathKey]]
    """Each part's text, with where it is written."""
    thread: bool
    where: PathKey

    @classmethod
    def of(
        cls, parts: Sequence[Localized], path: PathKey, language: str | None, thread: bool
    ) -> _Content:
        found = []
        for i, part in enumerate(parts):
            where = (*path, i) if thread else path
            if isinstance(part, str):
                found.append((part, where))
            else:
                found.append((part.get(language or "", ""), (*where, language or "")))
        return cls(found, thread, path)
