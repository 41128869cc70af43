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
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Generic, NamedTuple, TypeVar
from urllib.parse import quote

from campaigns.channels import KnownChannel
from campaigns.checks.text import Part, check_part, check_tags
from campaigns.checks.titles import check_title_and_tags
from campaigns.delivery import Delivery, Media, hash_content
from campaigns.length import measure
from campaigns.localtime import zone
from campaigns.model import (
    TEMPLATE_FIELDS,
    Link,
    LinkSpec,
    Localized,
    MediaItem,
    MediaList,
    OneLink,
    Override,
    Post,
)
from campaigns.problems import HintedError, Location, Severity
from campaigns.recurrence import (
    MAX_OCCURRENCES,
    Occurrence,
    TooManyOccurrences,
    cron_occurrences,
    interval_occurrences,
)
from campaigns.render import LINK_PLACEHOLDER, Tracking, compose, fill
from campaigns.scope import PostSlots, Scope, Variant, post_variants
from campaigns.timeexpr import resolve
from campaigns.wording import words
from campaigns.yamlsource import PathKey

if TYPE_CHECKING:  # imported where a post has media: plans without any start faster
    from campaigns.checks.media import CaptionFile, MediaFile, MediaUse

T = TypeVar("T")
_LINK_TYPO = re.compile(r"\{\s*link\s*\}", re.IGNORECASE)


class Rendered(NamedTuple):
    """One part of a post as it goes out on one channel, in one language (a named tuple: made
    once per part, channel and language, 10,000 times in a large plan)."""

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
    slots: list[PostSlots]
    """Approved deliveries by post, channel and instant, for the min_gap check."""
    media_files: dict[Path, MediaFile] = field(default_factory=dict)
    """Each media file (and video thumbnail) the campaign names, read once."""
    caption_files: dict[Path, CaptionFile] = field(default_factory=dict)
    """Each captions file the campaign names, read once."""
    links: dict[int, _LinkParts] = field(default_factory=dict)
    """Address and UTM templates of each link value of the file, by identity."""
    hashes: dict[tuple[str, str | None], str] = field(default_factory=dict)
    """The content hash of each text without link and media, by text and language."""
    urls: dict[tuple[int, tuple[str, ...]], str] = field(default_factory=dict)
    """Each link filled in, by the identity of its templates and the values they use: the
    same for every post and language where only the platform and campaign are used."""


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
        self.contents: dict[tuple[PathKey, str | None], _Content] = {}
        self.shared: dict[tuple[tuple[str, ...], str | None], _Shared] = {}
        """What the post's channels with the same overrides share, by overrides and language."""
        self.threads: dict[tuple[str, PathKey], _Unthreaded] = {}
        """Threads a channel cannot post as threads, by channel and place."""

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
                self._deliver(variant, spec, occurrences, parts)
                if self.status == "approved":
                    for when in occurrences:
                        gaps.setdefault((channel, when.utc), {})[variant.name] = when.zone
        self._repeats(start)
        self._no_threads()
        if gaps:
            where = result.times[post.id]
            campaign = scope.definition.campaign
            result.slots.append(PostSlots(campaign, post.id, self.min_gap, where, gaps))

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
        self, variant: Variant, spec: KnownChannel, occurrences: list[_Time], parts: list[Rendered]
    ) -> None:
        """The deliveries of the post's parts on one channel for one variant, at each time.

        The hot loop of a plan: each key is written in place (`delivery_key`'s form) and each
        `Delivery` made by position, in its fields' order: passing its 22 fields by keyword
        took half as long again as making it."""
        campaign, post, status, source = (
            self.scope.definition.campaign,
            self.post.id,
            self.status,
            self.source,
        )
        channel, platform, language, audience = (
            spec.name,
            spec.platform,
            variant.language,
            variant.audience,
        )
        size = len(parts)
        numbered = [(i, part, f"/{i + 1}" if part.thread else "") for i, part in enumerate(parts)]
        append = self.result.deliveries.append
        for when in occurrences:
            occurrence = f"{post}@{when.label}" if when.label else post
            head = f"{campaign}/{occurrence}/{variant.name}/{channel}"
            parent: str | None = None
            warnings = (when.note,) if when.note else ()
            for number, part, suffix in numbered:
                key = head + suffix
                append(
                    Delivery(
                        key,
                        campaign,
                        post,
                        channel,
                        platform,
                        language,
                        audience,
                        when.utc,  # due_utc
                        when.zone,  # timezone
                        when.deadline,  # deadline_utc
                        part.text,
                        number,  # thread_index
                        size,  # thread_size
                        parent,  # parent_key
                        part.media,
                        part.link,
                        status,
                        part.length,
                        part.limit,
                        source,
                        warnings,
                        part.content_hash,
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

    def _render(self, spec: KnownChannel, variant: Variant) -> list[Rendered]:
        """The post's parts as they go out on this channel for this variant, checked."""
        sources = self._sources(spec, variant)
        shared = self.shared.get((sources, variant.language))
        if shared is None:
            shared = self.shared[sources, variant.language] = self._share(sources, variant.language)
        content, tags = shared.content, shared.tags
        link = self._link(spec, variant, shared.link)
        media = self._attached_media(spec, variant.language, shared.media)
        rules = spec.rules
        separate = len(content.parts) > 1 and rules.thread_style == "separate"
        if rules.media_required and (not media or separate):
            self._without_media(spec, variant.language, threaded=bool(media))
        unthreaded = len(content.parts) > 1 and rules.thread_style != "replies"
        if unthreaded and not (separate and rules.media_required):  # else an error above
            self._not_threaded(spec, variant.language, content)
        rendered = []
        for number in range(len(content.parts)):
            part = self._render_part(spec, variant.language, content, number, tags, link, media)
            rendered.append(part)
        return rendered

    def _render_part(
        self,
        spec: KnownChannel,
        language: str | None,
        content: _Content,
        number: int,
        tags: list[str],
        link: _Link,
        media: tuple[Media, ...],
    ) -> Rendered:
        """One part: hashtags and link added, measured; the link and media go with the first."""
        part = content.parts[number]
        first = number == 0
        if "{" in part.body:  # what the placeholder checks look for
            self._check_placeholder(spec, language, part, link)
        composed = compose(part.body, tags, link.url, first=first)
        rules = spec.rules
        length = measure(
            composed.text,
            rules,
            limit=spec.limit,
            with_media=first and bool(media),
            spoiler=spec.content_warning,
            link=link.url,
        )
        shown = number + 1 if content.thread else None
        if rules.max_hashtags or rules.max_mentions:
            check_tags(self.scope, spec, language, part.where, composed.text, shown, self.severity)
        if first and rules.title_length is not None:
            check_title_and_tags(
                self.scope, spec, language, part.where, composed.text, self.severity
            )
        if not length.valid:
            added = (*composed.added_hashtags, *(["the link"] if composed.link_appended else []))
            check_part(
                self.scope, spec, language, Part(part.where, added, length), shown, self.severity
            )
        part_media = media if first else ()
        part_link = link.url if first else None
        return Rendered(
            content.thread,
            composed.text,
            part_link,
            part_media,
            length.length,
            length.limit,
            self._hash(composed.text, part_media, part_link, language),
        )

    def _hash(
        self, text: str, media: tuple[Media, ...], link: str | None, language: str | None
    ) -> str:
        """`hash_content`, once per text and language where there is neither link nor media:
        the later parts of a thread, which read the same on every channel."""
        if media or link is not None:
            return hash_content(text, media, link, language)
        hashes = self.result.hashes
        found = hashes.get((text, language))
        if found is None:
            found = hashes[text, language] = hash_content(text, (), None, language)
        return found

    def _sources(self, spec: KnownChannel, variant: Variant) -> tuple[str, ...]:
        """The overrides that apply, strongest first: the audience's, the channel's, then the
        platform's."""
        overrides = self.post.overrides
        if not overrides:
            return ()
        names = (variant.audience, spec.name, spec.platform)
        return tuple(name for name in names if name is not None and name in overrides)

    def _share(self, sources: Sequence[str], language: str | None) -> _Shared:
        """What every channel these overrides apply to gets in this language: the text, the
        hashtags, the link's templates and the media named."""
        media: _Setting[MediaList] | None = self._first(
            sources, language, "media", lambda o: o.media, self.post.media
        )
        defaults = self.scope.definition.defaults.media
        if media is None and defaults is not None:
            media = _Setting(defaults, ("defaults", "media"))
        return _Shared(
            self._content(sources, language),
            self._hashtags(sources, language),
            self._link_parts(sources, language),
            media,
        )

    def _content(self, sources: Sequence[str], language: str | None) -> _Content:
        """The parts to post: the first of the `sources` overrides that has them, else the
        post's own text or thread."""
        for name in sources:
            override = self.post.overrides[name]
            base: PathKey = (*self.path, "overrides", name)
            if override.thread is not None and _applies(override.thread, language):
                return self._content_of(override.thread, (*base, "thread"), language, True)
            if override.text is not None and _has(override.text, language):
                return self._content_of([override.text], (*base, "text"), language, False)
        if self.post.thread is not None:
            return self._content_of(self.post.thread, (*self.path, "thread"), language, True)
        assert self.post.text is not None
        return self._content_of([self.post.text], (*self.path, "text"), language, False)

    def _content_of(
        self, parts: Sequence[Localized], path: PathKey, language: str | None, thread: bool
    ) -> _Content:
        """`_Content.of`, once per text and language (the post's channels mostly share it)."""
        found = self.contents.get((path, language))
        if found is None:
            found = self.contents[path, language] = _Content.of(parts, path, language, thread)
        return found

    def _first(
        self,
        sources: Sequence[str],
        language: str | None,
        name: str,
        get: Callable[[Override], T | None],
        own: T | None,
    ) -> _Setting[T] | None:
        """The first of the overrides and the post that sets `name` (an override given per
        language sets it only for the languages it names)."""
        for key in sources:
            value = get(self.post.overrides[key])
            if isinstance(value, dict) and (language or "") not in value:
                continue
            if value is not None:
                return _Setting(value, (*self.path, "overrides", key, name))
        return _Setting(own, (*self.path, name)) if own is not None else None

    def _hashtags(self, sources: Sequence[str], language: str | None) -> list[str]:
        """The campaign's hashtags, then the post's (or its override's)."""
        own = self._first(sources, language, "hashtags", lambda o: o.hashtags, self.post.hashtags)
        if own is not None and not own.value and "overrides" in own.where:
            return []  # `hashtags: []` in an override: none at all there
        return [*self.scope.definition.defaults.hashtags, *(own.value if own else [])]

    def _attached_media(
        self, spec: KnownChannel, language: str | None, found: _Setting[MediaList] | None
    ) -> tuple[Media, ...]:
        """The media of the post (or its override, or the campaign's defaults) as `_share`
        found them, checked against what the platform takes."""
        if found is None:
            return ()
        from campaigns.checks.media import check_media

        value, where = found.value, found.where
        items: Sequence[MediaItem] = value if isinstance(value, list) else []
        if isinstance(value, dict):
            where = (*where, language or "")
            items = value.get(language or "", [])
        uses = [self._media(item, (*where, i), language) for i, item in enumerate(items)]
        check_media(self.scope, spec, language, uses, where, self.severity)
        return tuple(
            Media(
                u.item.file,
                str(u.file.path),
                u.alt or "",
                u.file.mime or "application/octet-stream",
                str(u.captions.path) if u.captions else None,
                str(u.thumbnail.path) if u.thumbnail else None,
            )
            for u in uses
        )

    def _without_media(self, spec: KnownChannel, language: str | None, *, threaded: bool) -> None:
        """A post, or a thread's later part, that would go to a platform taking no text alone."""
        rules, lang = spec.rules, f" in {language}" if language else ""
        what = "a thread's later parts have" if threaded else "this post has"
        self.scope.report(
            self.severity,
            self.scope.at(*self.path),
            f"{rules.label} posts need a video or photos, and {what} none ({spec.name}{lang})",
            f"give {spec.platform} a single 'text' with 'media' under 'overrides'"
            if threaded
            else f"add 'media', or leave {spec.name} out of this post's 'channels'",
        )

    def _not_threaded(self, spec: KnownChannel, language: str | None, content: _Content) -> None:
        """Remember a thread this channel cannot post as one, for `_no_threads`."""
        found = self.threads.setdefault((spec.name, content.where), _Unthreaded(len(content.parts)))
        if language and language not in found.languages:
            found.languages.append(language)

    def _check_placeholder(
        self, spec: KnownChannel, language: str | None, part: _Text, link: _Link
    ) -> None:
        """Warn about a mistyped {link}; an error for {link} in a post without a link."""
        scope = self.scope
        for typo in _typos(part.body):
            scope.problems.warning(
                scope.at(*part.where),
                f"'{typo}' in the text of post '{self.post.id}' is not the link placeholder; "
                "it goes out as written",
                f"write {LINK_PLACEHOLDER}, in lowercase and without spaces, to put the link there",
            )
        if LINK_PLACEHOLDER in part.body and link.url is None:
            self._no_link(spec, language, part.where, link.removed_at)

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
        for (channel, where), thread in self.threads.items():
            spec = scope.channels[channel]
            size, languages = thread.size, thread.languages
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

    def _link_parts(self, sources: Sequence[str], language: str | None) -> _Link | _LinkParts:
        """The templates of the link in this language; or none, and where 'link: none'
        removed it."""
        found: _Setting[Link] | None = self._first(
            sources, language, "link", lambda o: o.link, self.post.link
        )
        defaults = self.scope.definition.defaults.link
        value, where = (found.value, found.where) if found else (defaults, ("defaults", "link"))
        if isinstance(value, dict):
            value, where = value.get(language or ""), (*where, language or "")
        if isinstance(defaults, dict):
            defaults = defaults.get(language or "")
        if value is None or value == "none":
            return _Link(None, where if value == "none" else None)
        parts = self.result.links.get(id(value))
        if parts is None:
            parts = self.result.links[id(value)] = _LinkParts.of(value, defaults)
        return parts

    def _link(self, spec: KnownChannel, variant: Variant, parts: _Link | _LinkParts) -> _Link:
        """The link filled in for this delivery (each filling once per file)."""
        if isinstance(parts, _Link):
            return parts
        values = {
            "campaign": self.scope.definition.campaign,
            "post": self.post.id,
            "channel": spec.name,
            "platform": spec.platform,
            "language": variant.language or "",
            "audience": variant.audience or "",
        }
        used = tuple([values[name] for name in parts.fields])
        url = self.result.urls.get((id(parts), used))
        if url is None:
            url = parts.url
            if "{" in url:
                url = fill(url, {name: quote(v, safe="") for name, v in values.items()})
            url = self.result.urls[id(parts), used] = parts.tracking.url(url, values)
        return _Link(url)

    def _media(self, item: MediaItem, where: PathKey, language: str | None) -> MediaUse:
        from campaigns.checks.media import MediaUse, read_caption_file

        file = self._media_file(item.file)
        alt = _pick(item.alt, language) if item.alt is not None else None
        if item.captions is None and item.thumbnail is None:
            return MediaUse(item, where, alt, file)
        captions = captions_where = None
        if item.captions is not None:
            name = _pick(item.captions, language)
            if name is not None:
                captions_where = (*where, "captions")
                if not isinstance(item.captions, str):
                    captions_where = (*captions_where, language or "")
                path = self.scope.base / name
                captions = self.result.caption_files.get(path)
                if captions is None:
                    captions = self.result.caption_files[path] = read_caption_file(path)
        thumbnail = self._media_file(item.thumbnail) if item.thumbnail is not None else None
        return MediaUse(item, where, alt, file, captions, captions_where or (), thumbnail)

    def _media_file(self, name: str) -> MediaFile:
        from campaigns.checks.media import read_media_file

        path = self.scope.base / name
        file = self.result.media_files.get(path)
        if file is None:
            file = self.result.media_files[path] = read_media_file(path)
        return file


@dataclass(frozen=True, slots=True)
class _LinkParts:
    """The address and UTM templates of a link value, before they are filled in."""

    url: str
    tracking: Tracking
    fields: tuple[str, ...]
    """The template fields the address and the UTM templates use: what the link filled in
    depends on."""

    @classmethod
    def of(cls, value: str | LinkSpec, defaults: OneLink | None) -> _LinkParts:
        """The link's own, over the campaign's default UTM templates."""
        utm: dict[str, str | None] = {}
        if isinstance(defaults, LinkSpec) and defaults.utm is not None:
            utm.update(defaults.utm.model_dump())
        url = value if isinstance(value, str) else value.url
        if not isinstance(value, str) and value.utm is not None:
            utm.update(value.utm.model_dump(exclude_unset=True))
        tracking = Tracking.of(utm)
        used = [name for name in TEMPLATE_FIELDS if "{" + name + "}" in url]
        used += [name for name in tracking.names if name in TEMPLATE_FIELDS]
        return cls(url, tracking, tuple(sorted(set(used))))


class _Link(NamedTuple):
    """A delivery's link, filled in; or none, and where 'link: none' removed it."""

    url: str | None
    removed_at: PathKey | None = None


class _Shared(NamedTuple):
    """What a post's channels with the same overrides share in one language."""

    content: _Content
    tags: list[str]
    link: _Link | _LinkParts
    """The link's templates, or no link (`_Link(None, ...)`)."""
    media: _Setting[MediaList] | None


class _Setting(NamedTuple, Generic[T]):
    """A value of the post or of one of its overrides, and where it is written."""

    value: T
    where: PathKey


@dataclass(slots=True)
class _Unthreaded:
    """A thread that a channel posts as comments or separate messages."""

    size: int
    languages: list[str] = field(default_factory=list)


class _Text(NamedTuple):
    """One part of a post's text in one language, and where it is written."""

    body: str
    where: PathKey


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


@lru_cache(maxsize=4096)
def _typos(body: str) -> tuple[str, ...]:
    """The mistyped link placeholders of a text, each once (looked for once per text, not
    once per channel and language)."""
    return tuple({t for t in _LINK_TYPO.findall(body) if t != LINK_PLACEHOLDER})


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
    """What a delivery posts: its text, or the parts of its thread."""

    parts: list[_Text]
    thread: bool
    where: PathKey
    """Where the text or thread is written: the post's own, or an override's."""

    @classmethod
    def of(
        cls, parts: Sequence[Localized], path: PathKey, language: str | None, thread: bool
    ) -> _Content:
        found = []
        for i, part in enumerate(parts):
            where = (*path, i) if thread else path
            if isinstance(part, str):
                found.append(_Text(part, where))
            else:
                found.append(_Text(part.get(language or "", ""), (*where, language or "")))
        return cls(found, thread, path)
