"""Checks that need more than one value: references between parts of a campaign file and to
config.yaml, the content of each rendered post on each platform, and the timeline.

Every problem is located at the value to fix, and all of them are reported at once. Problems
in the content of a draft post (length, media, alt text, a blackout) are warnings, so that a
draft being written does not hold back the rest of the campaign; they become errors once it is
approved.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from campaigns.channels import ChannelSpec
from campaigns.delivery import Delivery
from campaigns.durations import format_duration
from campaigns.length import Length
from campaigns.model import CampaignFile, Localized, MediaItem, Override, Post
from campaigns.platforms import PLATFORMS
from campaigns.problems import Location, Problems, Severity
from campaigns.timeexpr import Anchor, Instant, TimeExpr, resolve
from campaigns.yamlsource import PathKey, SourceMap


def did_you_mean(word: str, choices: Sequence[str], what: str) -> str:
    """A hint: the closest choice, else the list of them."""
    guess = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if guess:
        return f"did you mean '{guess[0]}'?"
    if choices:
        return f"{what}: " + ", ".join(choices)
    return f"no {what} are declared"


def split_hint(exc: Exception) -> tuple[str, str | None]:
    """A ValueError's message and the hint it carries after ' | hint: ', as validators write."""
    message, _, hint = str(exc).partition(" | hint: ")
    return message, hint or None


@dataclass(frozen=True, slots=True)
class Variant:
    """Who a post is written for: an audience, or a language when there are no audiences."""

    name: str
    """Its part of the delivery key."""
    language: str | None
    audience: str | None
    zone: str
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    reason: str
    channels: frozenset[str] | None
    where: Location


@dataclass
class Scope:
    """One campaign file being loaded: its model, its sources, and what the checks resolved."""

    source: SourceMap
    base: Path
    plan: CampaignFile
    posts: list[tuple[int, Post]]
    """Valid posts with their index in the file."""
    known: Mapping[str, ChannelSpec]
    strict: bool
    now: datetime
    problems: Problems
    channels: dict[str, ChannelSpec] = field(default_factory=dict)
    anchors: dict[str, Anchor] = field(default_factory=dict)
    variants: list[Variant] = field(default_factory=list)
    blackouts: list[Window] = field(default_factory=list)
    bad_posts: set[int] = field(default_factory=set)

    def at(self, *path: str | int) -> Location:
        return self.source.value(path)

    def key_at(self, *path: str | int) -> Location:
        return self.source.key(path)


# --- references ----------------------------------------------------------------------------


def check_campaign(scope: Scope) -> None:
    """Resolve channels, anchors, variants and blackouts; mark posts that cannot be expanded."""
    plan = scope.plan
    _duplicates(scope, plan.channels, ("channels",), "channel")
    _duplicates(scope, plan.languages, ("languages",), "language")
    for i, name in enumerate(plan.channels):
        spec = _channel(scope, name, ("channels", i))
        if spec is not None:
            scope.channels[name] = spec
    for name, value in plan.anchors.items():
        scope.anchors[name] = scope.now if value == "now" else value
    scope.variants = _variants(scope)
    _check_blackouts(scope)
    seen: dict[str, int] = {}
    for index, post in scope.posts:
        if post.id in seen:
            first = scope.at("posts", seen[post.id], "id")
            scope.problems.error(
                scope.at("posts", index, "id"),
                f"post id '{post.id}' is used twice (first at line {first.line})",
                "give each post an id of its own: the id is part of every delivery key",
            )
            scope.bad_posts.add(index)
            continue
        seen[post.id] = index
        if not _check_post(scope, index, post):
            scope.bad_posts.add(index)


def _duplicates(scope: Scope, items: Sequence[str], path: PathKey, what: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item in seen:
            scope.problems.error(scope.at(*path, i), f"{what} '{item}' is listed twice")
        seen.add(item)


def _channel(scope: Scope, name: str, path: PathKey) -> ChannelSpec | None:
    if name in scope.known:
        return scope.known[name]
    where = scope.at(*path)
    hint = did_you_mean(name, sorted(scope.known), "channels in the configuration")
    if scope.strict:
        scope.problems.error(where, f"unknown channel '{name}'", hint)
        return None
    platform = name.split("-", 1)[0]
    if platform in PLATFORMS and "-" in name:
        scope.problems.warning(
            where,
            f"channel '{name}' is not in the configuration; from its name, it is taken as a "
            f"channel on {PLATFORMS[platform].label}",
            "declare it under 'channels:' in config.yaml before posting",
        )
        return ChannelSpec(name, platform)
    scope.problems.error(
        where,
        f"unknown channel '{name}'",
        f"{hint}; a name starting with a platform ('x-', 'mastodon-'...) is taken as a "
        "channel of that platform",
    )
    return None


def _variants(scope: Scope) -> list[Variant]:
    plan = scope.plan
    channels = tuple(scope.channels)
    if not plan.audiences:
        return [Variant(lang, lang, None, plan.timezone, channels) for lang in plan.languages] or [
            Variant("-", None, None, plan.timezone, channels)
        ]
    variants = []
    names: dict[str, int] = {}
    for i, audience in enumerate(plan.audiences):
        path = ("audiences", i)
        if audience.name in names:
            scope.problems.error(
                scope.at(*path, "name"), f"audience '{audience.name}' is declared twice"
            )
            continue
        names[audience.name] = i
        if audience.language is None and plan.languages:
            scope.problems.error(
                scope.at(*path),
                f"audience '{audience.name}' needs a language",
                "add 'language: ' with one of: " + ", ".join(plan.languages),
            )
            continue
        if audience.language is not None and audience.language not in plan.languages:
            scope.problems.error(
                scope.at(*path, "language"),
                f"'{audience.language}' is not one of this campaign's languages",
                did_you_mean(audience.language, plan.languages, "languages")
                if plan.languages
                else "list it under 'languages:'",
            )
            continue
        own = _subset(scope, audience.channels, (*path, "channels"), list(plan.channels))
        variants.append(
            Variant(
                audience.name,
                audience.language,
                audience.name,
                audience.timezone or plan.timezone,
                tuple(c for c in (own if own is not None else channels) if c in scope.channels),
            )
        )
    return variants


def _subset(
    scope: Scope, items: Sequence[str] | None, path: PathKey, allowed: Sequence[str]
) -> list[str] | None:
    """`items` that are among `allowed`; an error for each other one."""
    if items is None:
        return None
    kept = []
    for i, item in enumerate(items):
        if item in allowed:
            kept.append(item)
        else:
            scope.problems.error(
                scope.at(*path, i),
                f"'{item}' is not among this campaign's {path[-1]}",
                did_you_mean(item, allowed, str(path[-1])),
            )
    return kept


def _check_blackouts(scope: Scope) -> None:
    for i, blackout in enumerate(scope.plan.blackouts):
        path = ("blackouts", i)
        ok = _times_known(
            scope, [(blackout.start, (*path, "from")), (blackout.until, (*path, "until"))]
        )
        chosen = _subset(scope, blackout.channels, (*path, "channels"), list(scope.plan.channels))
        if not ok:
            continue
        bounds = span(scope, blackout.start, blackout.until, path, scope.plan.timezone)
        if bounds is not None:
            scope.blackouts.append(
                Window(
                    bounds[0].utc,
                    bounds[1],
                    blackout.reason,
                    frozenset(chosen) if chosen is not None else None,
                    scope.at(*path),
                )
            )


def span(
    scope: Scope, start: TimeExpr, until: TimeExpr, path: PathKey, zone: str
) -> tuple[Instant, datetime] | None:
    """`from` and `until` read in `zone`; None (with an error) when they are out of order."""
    try:
        first = resolve(start, scope.anchors, zone)
        last = resolve(until, scope.anchors, zone, end=True).utc
    except ValueError as exc:
        scope.problems.error(scope.at(*path), *split_hint(exc))
        return None
    if first.utc > last:
        scope.problems.error(
            scope.at(*path, "until"),
            f"'until' ({until}) comes before 'from' ({start})",
            "swap them, or check the dates and anchors",
        )
        return None
    return first, last


def _times_known(scope: Scope, times: Iterable[tuple[TimeExpr | None, PathKey]]) -> bool:
    ok = True
    for expr, path in times:
        if expr is None or expr.anchor is None or expr.anchor in scope.anchors:
            continue
        ok = False
        names = sorted(scope.plan.anchors)
        hint = (
            did_you_mean(expr.anchor, names, "anchors")
            if names
            else f"declare it, such as 'anchors: {{{expr.anchor}: 2027-02-09}}'"
        )
        scope.problems.error(scope.at(*path), f"unknown anchor '{expr.anchor}'", hint)
    return ok


def _check_post(scope: Scope, index: int, post: Post) -> bool:
    """Structure and references of one post; False when it cannot be expanded."""
    path = ("posts", index)
    problems = scope.problems
    before = len(problems.errors)
    if (post.at is None) == (post.every is None):
        problems.error(
            scope.at(*path, "every" if post.at else "id"),
            f"post '{post.id}' needs either 'at' (one time) or 'every' (recurring), "
            + ("not both" if post.at else "and has neither"),
        )
    if (post.text is None) == (post.thread is None):
        problems.error(
            scope.at(*path, "thread" if post.text is not None else "id"),
            f"post '{post.id}' needs either 'text' or 'thread', "
            + ("not both" if post.text is not None else "and has neither"),
        )
    times: list[tuple[TimeExpr | None, PathKey]] = [(post.at, (*path, "at"))]
    if post.every is not None:
        times += [
            (post.every.start, (*path, "every", "from")),
            (post.every.until, (*path, "every", "until")),
        ]
        _check_every(scope, post, path)
    if _times_known(scope, times) and post.at is not None:
        _needs_clock(scope, post.at, (*path, "at"))
    plan = scope.plan
    _subset(scope, post.channels, (*path, "channels"), list(plan.channels))
    _subset(scope, post.languages, (*path, "languages"), list(plan.languages))
    if post.audiences is not None and not plan.audiences:
        problems.error(
            scope.at(*path, "audiences"),
            "this campaign declares no audiences",
            "remove 'audiences' from the post, or declare them at the top of the file",
        )
    else:
        _subset(scope, post.audiences, (*path, "audiences"), [a.name for a in plan.audiences])
    for name in post.overrides:
        if name not in plan.channels and name not in PLATFORMS:
            choices = [*plan.channels, *PLATFORMS]
            problems.error(
                scope.key_at(*path, "overrides", name),
                f"'{name}' is neither a channel of this campaign nor a platform",
                did_you_mean(name, choices, "channels and platforms"),
            )
    _check_languages(scope, post, path)
    return len(problems.errors) == before


def _check_every(scope: Scope, post: Post, path: PathKey) -> None:
    every = post.every
    assert every is not None
    where = scope.at(*path, "every")
    if (every.cron is None) == (every.interval is None):
        scope.problems.error(
            where,
            "'every' needs either 'cron' or 'interval', "
            + ("not both" if every.cron else "and has neither"),
            "such as {cron: '0 10 * * MON', from: sid - 28d, until: sid}",
        )
    for key, value in (("from", every.start), ("until", every.until)):
        if value is None:
            scope.problems.error(
                where,
                f"'every' needs '{key}'",
                "recurring posts run between 'from' and 'until', such as from: sid - 28d",
            )


def _needs_clock(scope: Scope, expr: TimeExpr, path: PathKey) -> None:
    instant = expr.anchor is not None and isinstance(scope.anchors.get(expr.anchor), datetime)
    if expr.day_only and not instant:
        scope.problems.error(
            scope.at(*path),
            f"'{expr}' names a day but no time of day",
            f"add the local time, such as '{expr} 09:00'",
        )


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


def _check_languages(scope: Scope, post: Post, path: PathKey) -> None:
    """Every language key is declared; the post's own text has every language it needs."""
    needed = sorted({v.language for v in post_variants(scope, post) if v.language})
    texts: list[tuple[Localized, PathKey, bool]] = []
    if post.text is not None:
        texts.append((post.text, (*path, "text"), True))
    for i, part in enumerate(post.thread or []):
        texts.append((part, (*path, "thread", i), True))
    for name, override in post.overrides.items():
        texts += _override_texts(override, (*path, "overrides", name))
    for i, item in enumerate(post.media or []):
        if item.alt is not None:
            texts.append((item.alt, (*path, "media", i, "alt"), False))
    for value, where, complete in texts:
        if isinstance(value, str):
            continue
        _language_keys(scope, value, where)
        missing = [lang for lang in needed if lang not in value]
        if complete and missing:
            what = "the text" if where[-1] == "text" else f"part {int(where[-1]) + 1} of the thread"
            scope.problems.error(
                scope.at(*where),
                f"{what} of post '{post.id}' has no version in {', '.join(missing)}",
                f"add {missing[0]}: ... to it, or leave {missing[0]} out of the post with "
                "'languages:'",
            )
    for name, override in post.overrides.items():
        if override.thread:
            _partial_thread(scope, override.thread, (*path, "overrides", name, "thread"), needed)


def _override_texts(override: Override, path: PathKey) -> list[tuple[Localized, PathKey, bool]]:
    found: list[tuple[Localized, PathKey, bool]] = []
    if override.text is not None:
        found.append((override.text, (*path, "text"), False))
    for i, part in enumerate(override.thread or []):
        found.append((part, (*path, "thread", i), False))
    for i, item in enumerate(override.media or []):
        if item.alt is not None:
            found.append((item.alt, (*path, "media", i, "alt"), False))
    return found


def _partial_thread(
    scope: Scope, parts: Sequence[Localized], path: PathKey, needed: Sequence[str]
) -> None:
    """An override thread may leave a language out entirely, but not from some parts only."""
    for lang in needed:
        has = [isinstance(p, str) or lang in p for p in parts]
        if any(has) and not all(has):
            part = has.index(False)
            scope.problems.error(
                scope.at(*path, part),
                f"part {part + 1} of this thread has no {lang} version while other parts do",
                f"add {lang}: ... to it, or remove {lang} from every part to keep the post's "
                "own thread in that language",
            )


def _language_keys(scope: Scope, value: Mapping[str, str], path: PathKey) -> None:
    languages = scope.plan.languages
    if not languages:
        scope.problems.error(
            scope.at(*path),
            "this campaign declares no languages, so this must be a single text",
            "write the text directly, or list the languages under 'languages:'",
        )
        return
    for lang in value:
        if lang not in languages:
            scope.problems.error(
                scope.key_at(*path, lang),
                f"'{lang}' is not one of this campaign's languages",
                did_you_mean(lang, languages, "languages"),
            )


# --- content of one rendered post on one channel -------------------------------------------


@dataclass(frozen=True, slots=True)
class Part:
    """A post part whose length or characters a platform refuses."""

    where: PathKey
    """The text as written, which the author edits to fix it."""
    added: tuple[str, ...]
    """Hashtags and link that were appended to it."""
    length: Length


def check_part(
    scope: Scope,
    spec: ChannelSpec,
    language: str | None,
    part: Part,
    number: int | None,
    severity: Severity,
) -> None:
    length = part.length
    if length.valid:
        return
    what = f"part {number} of the thread" if number else "text"
    lang = f" ({language})" if language else ""
    where = scope.at(*part.where)
    label = spec.rules.label
    if length.invalid_characters:
        codes = ", ".join(
            f"U+{ord(c):04X}" if len(c) == 1 else c for c in length.invalid_characters
        )
        report(
            scope,
            severity,
            where,
            f"{what} for {spec.name}{lang} holds characters {label} refuses ({codes})",
            "remove them: they are invisible and often come from copying text out of "
            "another application",
        )
    if length.fits:
        return
    if length.over_unit == length.unit:
        size, limit = length.length, length.limit
    else:
        size, limit = length.byte_length or 0, length.byte_limit or 0
    message = (
        f"{what} for {spec.name}{lang} is {size} {length.over_unit}; {label} allows {limit}: "
        f"{length.over} too many"
    )
    hint = f"this counts {_words(part.added)} added at the end; " if part.added else ""
    hint += (
        f"shorten it, or give {spec.name} (or every {spec.platform} channel) a shorter text "
        "under 'overrides'"
    )
    report(scope, severity, where, message, hint)


def _words(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


@dataclass(frozen=True, slots=True)
class MediaUse:
    item: MediaItem
    where: PathKey
    alt: str | None
    path: Path
    mime: str | None
    size: int | None
    """None when the file cannot be read."""


IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
VIDEO_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime"}


def check_media(
    scope: Scope,
    spec: ChannelSpec,
    language: str | None,
    uses: Sequence[MediaUse],
    list_where: PathKey,
    severity: Severity,
) -> None:
    rules = spec.rules
    if len(uses) > rules.max_media:
        report(
            scope,
            severity,
            scope.at(*list_where),
            f"{len(uses)} media items, but {rules.label} allows {rules.max_media} per post "
            f"({spec.name})",
            f"keep {rules.max_media}, or give {spec.platform} fewer media under 'overrides'",
        )
    for use in uses:
        file_where = scope.at(*use.where, "file")
        if use.size is None:
            report(
                scope,
                severity,
                file_where,
                f"media file '{use.item.file}' not found (looked for {use.path})",
                "paths are relative to the campaign file",
            )
            continue
        if use.mime is None:
            report(
                scope,
                severity,
                file_where,
                f"'{use.item.file}' is not a kind of file Clarion can post",
                "use PNG, JPEG, GIF or WebP images, or MP4 or MOV videos",
            )
            continue
        if use.mime.startswith("image/") and use.size > rules.image_max_bytes:
            report(
                scope,
                severity,
                file_where,
                f"'{use.item.file}' is {_megabytes(use.size)}; {rules.label} accepts images up "
                f"to {_megabytes(rules.image_max_bytes)} ({spec.name})",
                "resize or compress the image",
            )
        if not rules.alt_text:
            continue
        if not use.alt:
            lang = f" in {language}" if language else ""
            report(
                scope,
                severity,
                scope.at(*use.where),
                f"'{use.item.file}' has no alt text{lang}",
                "describe the image for people who use screen readers: add 'alt:'"
                + (f" with a {language} version" if language else ""),
            )
        elif rules.alt_max and len(use.alt) > rules.alt_max:
            report(
                scope,
                severity,
                scope.at(*use.where, "alt"),
                f"the alt text of '{use.item.file}'{f' ({language})' if language else ''} is "
                f"{len(use.alt)} characters; {rules.label} allows {rules.alt_max}",
                "shorten the description",
            )


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def report(scope: Scope, severity: Severity, where: Location, message: str, hint: str) -> None:
    """An error, or a warning marked [draft] for a draft post."""
    if severity == "error":
        scope.problems.error(where, message, hint)
    else:
        scope.problems.warning(where, f"{message} [draft]", hint)


# --- timeline ------------------------------------------------------------------------------


def check_blackouts(
    scope: Scope, deliveries: Sequence[Delivery], where: Mapping[str, Location]
) -> None:
    """Errors for deliveries inside a blackout; `where` locates each post's time."""
    if not scope.blackouts:
        return
    hits: dict[tuple[str, int], Delivery] = {}
    for delivery in deliveries:
        for i, window in enumerate(scope.blackouts):
            if window.channels is not None and delivery.channel not in window.channels:
                continue
            if window.start <= delivery.due_utc <= window.end:
                hits.setdefault((delivery.post, i), delivery)
    for (post, i), delivery in hits.items():
        window = scope.blackouts[i]
        report(
            scope,
            "warning" if delivery.status == "draft" else "error",
            where[post],
            f"post '{post}' falls inside the blackout '{window.reason}' (line "
            f"{window.where.line}), on {delivery.channel} at {_local(delivery)}",
            "move the post, or shorten the blackout",
        )


def check_past(scope: Scope, deliveries: Sequence[Delivery], where: Mapping[str, Location]) -> None:
    late: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        if delivery.due_utc < scope.now:
            late[delivery.post].append(delivery)
    for post, found in late.items():
        first = min(found, key=lambda d: d.due_utc)
        more = len(found) - 1
        scope.problems.warning(
            where[post],
            f"post '{post}' is in the past ({_local(first)}"
            + (f" and {more} more {'delivery' if more == 1 else 'deliveries'})" if more else ")"),
            "it will not go out; move it to a later time if it should",
        )


def _local(delivery: Delivery) -> str:
    return f"{delivery.due_local:%Y-%m-%d %H:%M} {delivery.timezone}"


@dataclass(frozen=True, slots=True)
class Slot:
    """Deliveries of one post at one instant on one channel, for the min_gap check."""

    due: datetime
    campaign: str
    post: str
    variants: frozenset[str]
    gap: timedelta
    where: Location


def check_gaps(slots: Iterable[tuple[str, Slot]], problems: Problems) -> None:
    """Warn when two different posts on one channel are closer than their min_gap.

    The variants of one post going out together (one post in eight languages) are meant to be
    close and are not compared with each other.
    """
    by_channel: dict[str, list[Slot]] = defaultdict(list)
    for channel, slot in slots:
        by_channel[channel].append(slot)
    pairs: dict[tuple[Slot, Slot], tuple[timedelta, set[str]]] = {}
    names: dict[tuple[str, str, str, str], tuple[Slot, Slot]] = {}
    for channel, items in by_channel.items():
        items.sort(key=lambda s: s.due)
        for i, later in enumerate(items):
            for j in range(i - 1, -1, -1):
                earlier = items[j]
                apart = later.due - earlier.due
                if apart >= later.gap:
                    break
                same = (earlier.campaign, earlier.post) == (later.campaign, later.post)
                if same and not (earlier.variants & later.variants):
                    continue
                if same and apart == timedelta():
                    continue
                ident = (earlier.campaign, earlier.post, later.campaign, later.post)
                pair = names.setdefault(ident, (earlier, later))
                gap, channels = pairs.get(pair, (apart, set()))
                pairs[pair] = (min(gap, apart), channels | {channel})
    for (earlier, later), (apart, channels) in pairs.items():
        same_file = earlier.campaign == later.campaign
        other = earlier.post if same_file else f"{earlier.campaign}/{earlier.post}"
        problems.warning(
            later.where,
            f"post '{later.post}' is only {format_duration(apart)} after '{other}' on "
            f"{', '.join(sorted(channels))}; keep at least {format_duration(later.gap)} between "
            "posts",
            "move one of them, or lower min_gap",
        )
