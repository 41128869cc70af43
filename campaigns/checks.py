"""Checks that need more than one value: references between parts of a campaign file and to
config.yaml, the content of each rendered post on each platform, and the timeline.

Every problem is located at the value to fix, and all of them are reported at once. Problems
in the content of a draft post (length, media, alt text, a blackout) are warnings, so that a
draft being written does not hold back the rest of the campaign; they become errors once it is
approved.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from campaigns.blackouts import Fate, Window, fate
from campaigns.channels import KnownChannel
from campaigns.delivery import Delivery
from campaigns.durations import format_duration
from campaigns.length import Length
from campaigns.model import CampaignFile, Localized, MediaItem, Override, Post
from campaigns.platforms import GIF, PLATFORMS
from campaigns.problems import HintedError, Location, Problems, Severity
from campaigns.safety import bounds
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
    known: Mapping[str, KnownChannel]
    strict: bool
    now: datetime
    problems: Problems
    anchor_now: datetime | None = None
    """What the anchor value `now` means, when it was fixed earlier (else `now`)."""
    channels: dict[str, KnownChannel] = field(default_factory=dict)
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
    definition = scope.definition
    _duplicates(scope, definition.channels, ("channels",), "channel")
    _duplicates(scope, definition.languages, ("languages",), "language")
    for i, name in enumerate(definition.channels):
        spec = _channel(scope, name, ("channels", i))
        if spec is not None:
            scope.channels[name] = spec
    for name, value in definition.anchors.items():
        scope.anchors[name] = (scope.anchor_now or scope.now) if value == "now" else value
    scope.variants = _variants(scope)
    _check_zones(scope)
    _check_blackouts(scope)
    _check_defaults(scope)
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


def _check_defaults(scope: Scope) -> None:
    """A campaign's link or media given per language has every language of the campaign."""
    defaults = scope.definition.defaults
    for name, value in (("link", defaults.link), ("media", defaults.media)):
        if not isinstance(value, dict):
            continue
        path = ("defaults", name)
        missing = [lang for lang in scope.definition.languages if lang not in value]
        typos = _language_keys(scope, value, path, missing)
        missing = [lang for lang in missing if lang not in typos]
        if missing:
            scope.problems.error(
                scope.at(*path),
                f"the campaign's {name} has no version in {', '.join(missing)}",
                f"add {missing[0]}: ... to it ('{name}: none' for no {name} in that language)"
                if name == "link"
                else f"add {missing[0]}: [] to it for no media in that language",
            )


_POSIX_ZONE = re.compile(r"(?:Etc/)?GMT([+-])(\d+)")


def _check_zones(scope: Scope) -> None:
    """Warn about the zones whose name reads the wrong way round: Etc/GMT+1 is UTC-1."""
    zones: list[tuple[str | None, PathKey]] = [(scope.definition.timezone, ("timezone",))]
    audiences = enumerate(scope.definition.audiences)
    zones += [(a.timezone, ("audiences", i, "timezone")) for i, a in audiences]
    zones += [(p.timezone, ("posts", i, "timezone")) for i, p in scope.posts]
    for name, path in zones:
        posix = _POSIX_ZONE.fullmatch(name or "")
        if posix is None:
            continue
        sign = "-" if posix.group(1) == "+" else "+"
        scope.problems.warning(
            scope.at(*path),
            f"'{name}' is UTC{sign}{posix.group(2)}: in these names the sign is the opposite "
            "of what it seems",
            "name the place whose clock you mean instead, such as Europe/Brussels",
        )


def _duplicates(scope: Scope, items: Sequence[str], path: PathKey, what: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item in seen:
            scope.problems.error(scope.at(*path, i), f"{what} '{item}' is listed twice")
        seen.add(item)


def _channel(scope: Scope, name: str, path: PathKey) -> KnownChannel | None:
    if name in scope.known:
        return scope.known[name]
    where = scope.at(*path)
    hint = did_you_mean(name, sorted(scope.known), "channels in the configuration")
    same = [known for known in scope.known if known.lower() == name.lower()]
    if same:
        hint = f"did you mean '{same[0]}'? Channel names are case-sensitive"
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
        return KnownChannel(name, platform)
    if not hint.startswith("did you mean"):
        hint = (
            "declare it in config.yaml; without one, a name that starts with a platform "
            "('x-', 'mastodon-', 'bluesky-'...) is taken as a channel of that platform"
        )
    scope.problems.error(where, f"unknown channel '{name}'", hint)
    return None


def _variants(scope: Scope) -> list[Variant]:
    definition = scope.definition
    channels = tuple(scope.channels)
    if not definition.audiences:
        return [
            Variant(lang, lang, None, definition.timezone, channels)
            for lang in definition.languages
        ] or [Variant("-", None, None, definition.timezone, channels)]
    variants = []
    names: dict[str, int] = {}
    for i, audience in enumerate(definition.audiences):
        path = ("audiences", i)
        if audience.name in names:
            scope.problems.error(
                scope.at(*path, "name"), f"audience '{audience.name}' is declared twice"
            )
            continue
        names[audience.name] = i
        if audience.language is None and definition.languages:
            scope.problems.error(
                scope.at(*path),
                f"audience '{audience.name}' needs a language",
                "add 'language: ' with one of: " + ", ".join(definition.languages),
            )
            continue
        if audience.language is not None and audience.language not in definition.languages:
            scope.problems.error(
                scope.at(*path, "language"),
                f"'{audience.language}' is not one of this campaign's languages",
                did_you_mean(audience.language, definition.languages, "languages")
                if definition.languages
                else "list it under 'languages:'",
            )
            continue
        own = _subset(scope, audience.channels, (*path, "channels"), list(definition.channels))
        variants.append(
            Variant(
                audience.name,
                audience.language,
                audience.name,
                audience.timezone or definition.timezone,
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
    for i, blackout in enumerate(scope.definition.blackouts):
        path = ("blackouts", i)
        ok = _times_known(
            scope, [(blackout.start, (*path, "from")), (blackout.until, (*path, "until"))]
        )
        chosen = _subset(
            scope, blackout.channels, (*path, "channels"), list(scope.definition.channels)
        )
        if not ok:
            continue
        if span(scope, blackout.start, blackout.until, path, scope.definition.timezone) is None:
            continue
        start, end = bounds(
            blackout.start, blackout.until, scope.anchors, scope.definition.timezone
        )
        channels = frozenset(chosen) if chosen is not None else None
        scope.blackouts.append(
            Window(start, end, blackout.reason, channels, scope.at(*path), blackout.then)
        )


def span(
    scope: Scope, start: TimeExpr, until: TimeExpr, path: PathKey, zone: str
) -> tuple[Instant, datetime] | None:
    """`from` and `until` read in `zone`; None (with an error) when they are out of order."""
    try:
        first = resolve(start, scope.anchors, zone)
        last = resolve(until, scope.anchors, zone, end=True).utc
    except ValueError as exc:
        scope.problems.error(scope.at(*path), *HintedError.parts(exc))
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
        names = sorted(scope.definition.anchors)
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
    empty = [key for key in POST_VALUES if _empty(scope, post, path, key)]
    for key in empty:
        problems.error(scope.key_at(*path, key), *empty_value(key, post.id))
    if empty:
        return False
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
    definition = scope.definition
    _subset(scope, post.channels, (*path, "channels"), list(definition.channels))
    _subset(scope, post.languages, (*path, "languages"), list(definition.languages))
    if post.audiences is not None and not definition.audiences:
        problems.error(
            scope.at(*path, "audiences"),
            "this campaign declares no audiences",
            "remove 'audiences' from the post, or declare them at the top of the file",
        )
    else:
        _subset(scope, post.audiences, (*path, "audiences"), [a.name for a in definition.audiences])
    audiences = [a.name for a in definition.audiences]
    for name in post.overrides:
        if name not in definition.channels and name not in PLATFORMS and name not in audiences:
            choices = [*definition.channels, *PLATFORMS, *audiences]
            problems.error(
                scope.key_at(*path, "overrides", name),
                f"'{name}' is neither a channel of this campaign nor a platform"
                + (" nor an audience" if audiences else ""),
                did_you_mean(name, choices, "channels and platforms"),
            )
    _check_languages(scope, post, path)
    return len(problems.errors) == before


POST_VALUES = ("at", "every", "text", "thread")
"""The keys of a post that must not be left empty."""


def empty_value(key: str, post: str) -> tuple[str, str]:
    """The message and hint for a post key written without a value (`text: #SayNo`)."""
    return (
        f"'{key}' of post '{post}' is empty",
        f"write a value after '{key}:'; a '#' starts a comment in YAML, so put a text that "
        "starts with '#' in quotes",
    )


def _empty(scope: Scope, post: Post, path: PathKey, key: str) -> bool:
    """Whether the file names `key` for the post but gives it no value (`text: #SayNo`)."""
    return getattr(post, key) is None and (*path, key) in scope.source.keys


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
    start = every.start
    if every.interval is not None and start is not None and start.day_only and not start.delta:
        clock = isinstance(scope.anchors.get(start.anchor or ""), datetime)
        if not clock:
            scope.problems.warning(
                scope.at(*path, "every", "from"),
                f"'from' ({start}) has no time of day, so post '{post.id}' goes out at 00:00",
                f"give the time of the first post, such as from: {start} 09:00",
            )
    missing = [key for key, value in (("from", every.start), ("until", every.until)) if not value]
    if missing:
        examples = {"from": "from: sid - 28d", "until": "until: sid + 14d"}
        scope.problems.error(
            where,
            f"'every' needs {' and '.join(repr(key) for key in missing)}",
            "a recurring post runs between 'from' and 'until', both included; add "
            + " and ".join(examples[key] for key in missing),
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
    texts += _alt_texts(post.media, (*path, "media"))
    per_language: list[tuple[Mapping[str, object], PathKey]] = []
    for value_path, value in _links_and_media(scope, post, path):
        if isinstance(value, dict):
            per_language.append((value, value_path))
    for value, where in per_language:
        missing = [lang for lang in needed if lang not in value]
        typos = _language_keys(scope, value, where, missing)
        missing = [lang for lang in missing if lang not in typos]
        if missing and where[0] == "posts" and "overrides" not in where:
            scope.problems.error(
                scope.at(*where),
                f"the {where[-1]} of post '{post.id}' has no version in {', '.join(missing)}",
                f"add {missing[0]}: ... to it, or leave {missing[0]} out of the post with "
                "'languages:'",
            )
    for value, where, complete in texts:
        if isinstance(value, str):
            continue
        missing = [lang for lang in needed if lang not in value]
        typos = _language_keys(scope, value, where, missing if complete else [])
        missing = [lang for lang in missing if lang not in typos]
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
    return found + _alt_texts(override.media, (*path, "media"))


def _alt_texts(
    media: Sequence[MediaItem] | Mapping[str, Sequence[MediaItem]] | None, path: PathKey
) -> list[tuple[Localized, PathKey, bool]]:
    """The alt texts of a media list (or of each language's list)."""
    lists = media.items() if isinstance(media, Mapping) else [(None, media or [])]
    found: list[tuple[Localized, PathKey, bool]] = []
    for language, items in lists:
        base = path if language is None else (*path, language)
        found += [
            (item.alt, (*base, i, "alt"), False)
            for i, item in enumerate(items)
            if item.alt is not None
        ]
    return found


def _links_and_media(scope: Scope, post: Post, path: PathKey) -> list[tuple[PathKey, object]]:
    """The post's link and media values, its overrides' and the campaign's defaults', with
    where each is written."""
    found: list[tuple[PathKey, object]] = [
        ((*path, "link"), post.link),
        ((*path, "media"), post.media),
    ]
    for name, override in post.overrides.items():
        found += [
            ((*path, "overrides", name, "link"), override.link),
            ((*path, "overrides", name, "media"), override.media),
        ]
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


def _language_keys(
    scope: Scope, value: Mapping[str, object], path: PathKey, missing: Sequence[str]
) -> set[str]:
    """Errors for language keys the campaign does not declare; returns the `missing`
    languages that one of them was probably meant to be (`fn` for `fr`)."""
    languages = scope.definition.languages
    if not languages:
        scope.problems.error(
            scope.at(*path),
            "this campaign declares no languages, so this must be a single text",
            "write the text directly, or list the languages under 'languages:'",
        )
        return set()
    unknown = [lang for lang in value if lang not in languages]
    meant: set[str] = set()
    for lang in unknown:
        hint = did_you_mean(lang, languages, "languages")
        if len(unknown) == 1 and len(missing) == 1 and _alike(lang, missing[0]):
            meant.add(missing[0])
            hint = f"did you mean '{missing[0]}'? This text has no {missing[0]} version yet"
        scope.problems.error(
            scope.key_at(*path, lang), f"'{lang}' is not one of this campaign's languages", hint
        )
    return meant


def _alike(written: str, meant: str) -> bool:
    """A language code probably mistyped for another: `fn` for `fr`, `EN` for `en`."""
    return difflib.SequenceMatcher(None, written.lower(), meant.lower()).ratio() >= 0.5


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
    spec: KnownChannel,
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
    caption = spec.rules.caption_length
    allows = f"allows {limit}"
    if caption is not None and limit == caption and limit < spec.limit:
        allows += " with media (a caption)"
    message = (
        f"{what} for {spec.name}{lang} is {size} {length.over_unit}; {label} {allows}: "
        f"{length.over} too many"
    )
    counted = [f"{words(part.added)} added at the end"] if part.added else []
    if spec.content_warning and spec.rules.counter == "mastodon":
        counted.append(
            f"the content warning of {spec.name} (options.content_warning in config.yaml)"
        )
    hint = f"this counts {' and '.join(counted)}; " if counted else ""
    hint += (
        f"shorten it, or give {spec.name} (or every {spec.platform} channel) a shorter text "
        "under 'overrides'"
    )
    report(scope, severity, where, message, hint)


def words(items: Sequence[str]) -> str:
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
    dimensions: tuple[int, int] | None = None
    """Width and height of an image, when its header can be read."""


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
    spec: KnownChannel,
    language: str | None,
    uses: Sequence[MediaUse],
    list_where: PathKey,
    severity: Severity,
) -> None:
    rules = spec.rules
    fewer = f"give {spec.platform} fewer media under 'overrides'"
    if len(uses) > rules.max_media:
        report(
            scope,
            severity,
            scope.at(*list_where),
            f"{len(uses)} media items, but {rules.label} allows {rules.max_media} per post "
            f"({spec.name})",
            f"keep {rules.max_media}, or {fewer}",
        )
    moving = [u.mime for u in uses if u.mime in rules.media_types and _moving(u.mime)]
    if rules.video_alone and moving and len(uses) > 1:
        first = next(u for u in uses if u.mime == moving[0])
        report(
            scope,
            severity,
            scope.at(*list_where),
            f"'{first.item.file}' is {_a(_kind(moving[0]))}: {rules.label} takes a video "
            f"or GIF as the only media of a post, not with {len(uses) - 1} other file(s) "
            f"({spec.name})",
            f"post it on its own, or {fewer}",
        )
    for use in uses:
        file_where = scope.at(*use.where, "file")
        if use.size is None:
            looked = _shown(use.path)
            report(
                scope,
                severity,
                file_where,
                f"media file '{use.item.file}' not found"
                + (f" (looked for {looked})" if looked != use.item.file else ""),
                _nearby(use),
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
        if use.mime not in rules.media_types:
            report(
                scope,
                severity,
                file_where,
                f"Clarion cannot post {_a(_kind(use.mime))} ('{use.item.file}') to "
                f"{rules.label} ({spec.name})",
                f"{rules.label} takes {_types(rules.media_types)} from Clarion; give "
                f"{spec.platform} other media under 'overrides', or 'media: []' there",
            )
            continue
        _check_size(scope, spec, use, file_where, severity)
        if not rules.alt_text:
            continue
        if not use.alt:
            lang = f" in {language}" if language else ""
            has_alt = use.item.alt is not None
            report(
                scope,
                severity,
                scope.at(*use.where, "alt") if has_alt else scope.at(*use.where),
                f"'{use.item.file}' has no alt text{lang}",
                f"add '{language}: ...' to its 'alt:'"
                if has_alt
                else "describe the image for people who use screen readers: add 'alt:'"
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


_NAMES = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "video/mp4": "MP4",
    "video/quicktime": "MOV",
}


def _moving(mime: str | None) -> bool:
    if mime is None:
        return False
    return mime.startswith("video/") or mime == "image/gif"


def _kind(mime: str) -> str:
    if mime.startswith("video/"):
        return f"{_NAMES.get(mime, mime)} video"
    return "GIF" if mime == "image/gif" else f"{_NAMES.get(mime, mime)} image"


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "AEFHILMNORSX" else "a ") + noun


def _types(mimes: Iterable[str]) -> str:
    images = [_NAMES[m] for m in _NAMES if m in mimes and m.startswith("image/")]
    videos = [_NAMES[m] for m in _NAMES if m in mimes and m.startswith("video/")]
    text = f"{', '.join(images)} images" if images else "no images"
    return text + (f" and {', '.join(videos)} videos" if videos else " (no video)")


def _check_size(
    scope: Scope, spec: KnownChannel, use: MediaUse, where: Location, severity: Severity
) -> None:
    """File size and image dimensions against what the platform accepts."""
    rules = spec.rules
    assert use.mime is not None and use.size is not None
    kinds = "videos" if use.mime.startswith("video/") else "GIFs" if use.mime == GIF else "images"
    if use.mime.startswith("video/"):
        cap = rules.video_max_bytes
    elif use.mime == GIF and rules.gif_max_bytes:
        cap = rules.gif_max_bytes
    else:
        cap = rules.image_max_bytes
    if cap is not None and use.size > cap:
        report(
            scope,
            severity,
            where,
            f"'{use.item.file}' is {_megabytes(use.size)}; {rules.label} accepts {kinds} up to "
            f"{_megabytes(cap)} ({spec.name})",
            "compress it" + ("" if use.mime.startswith("video/") else " or make it smaller"),
        )
    if use.mime.startswith("video/"):
        return
    if use.dimensions is None:
        return
    width, height = use.dimensions
    too_big: str | None = None
    if rules.max_pixels and width * height > rules.max_pixels:
        too_big = f"{width * height:,} pixels; {rules.label} accepts {rules.max_pixels:,}"
    if rules.max_side_sum and width + height > rules.max_side_sum:
        too_big = f"width + height {width + height:,}; {rules.label} accepts {rules.max_side_sum:,}"
    if (
        rules.max_aspect
        and min(width, height)
        and max(width, height) / min(width, height) > (rules.max_aspect)
    ):
        too_big = f"{max(width, height) / min(width, height):.0f} times longer than wide; " + (
            f"{rules.label} accepts {rules.max_aspect:.0f}"
        )
    if use.mime == "image/gif" and rules.gif_max_size:
        max_w, max_h = rules.gif_max_size
        if width > max_w or height > max_h:
            too_big = f"{rules.label} accepts GIFs up to {max_w}x{max_h}"
    if too_big:
        report(
            scope,
            severity,
            where,
            f"'{use.item.file}' is {width}x{height} ({too_big}) ({spec.name})",
            "resize the image",
        )


def image_size(path: Path) -> tuple[int, int] | None:
    """Width and height read from the file's header; None when it cannot be read."""
    import imagesize

    try:
        width, height = imagesize.get(path)
    except (OSError, ValueError):
        return None
    return (int(width), int(height)) if width > 0 and height > 0 else None


def _shown(path: Path) -> str:
    """`path` relative to the current folder when it is inside it, as the user would type it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _nearby(use: MediaUse) -> str:
    """A hint for a media file not found: a file of a close name, else where paths start."""
    folder = use.path.parent
    try:
        names = [p.name for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    except OSError:
        names = []
    close = difflib.get_close_matches(use.path.name, names, n=1, cutoff=0.6)
    if close:
        written = use.item.file.replace("\\", "/")
        return f"did you mean '{written[: len(written) - len(use.path.name)]}{close[0]}'?"
    return "paths are relative to the folder that holds the campaign file; check the spelling"


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
    scope: Scope, deliveries: list[Delivery], where: Mapping[str, Location]
) -> None:
    """Mark each delivery planned inside a blackout with what becomes of it (a note the
    preview shows), and warn once per post and blackout; `where` locates each post's time.
    Posts with `ignore_blackouts: true` are left alone."""
    if not scope.blackouts:
        return
    exempt = {post.id for _, post in scope.posts if post.ignore_blackouts}
    hits: dict[tuple[str, int], tuple[Delivery, str]] = {}
    for n, delivery in enumerate(deliveries):
        if delivery.post in exempt:
            continue
        found = fate(scope.blackouts, delivery.channel, delivery.due_utc, delivery.deadline_utc)
        if found is None:
            continue
        note = hold_note(found, delivery.timezone)
        deliveries[n] = replace(delivery, warnings=(*delivery.warnings, note))
        hits.setdefault((delivery.post, scope.blackouts.index(found.window)), (delivery, note))
    for (post, i), (delivery, note) in hits.items():
        window = scope.blackouts[i]
        more = "" if window.then == "skip" else ", or set 'then: skip' on the blackout"
        scope.problems.warning(
            where[post],
            f"post '{post}' on {delivery.channel} at {_local(delivery)}: {note} (line "
            f"{window.where.line})",
            "move the post if it should go out at another time, or give it "
            f"'ignore_blackouts: true' if it must go out during the blackout{more}",
        )


def hold_note(found: Fate, zone_name: str) -> str:
    """`held by the blackout 'Mourning': ...` and what happens next, in words."""
    held = f"held by the blackout '{found.window.reason}'"
    if found.release is None:
        return f"{held}: skipped, it will not go out (then: skip)"
    release = found.release.astimezone(ZoneInfo(zone_name))
    at = f"{release:%Y-%m-%d %H:%M} {release.tzname()}"
    if found.expires:
        return f"{held} until {at}: it expires then, its not_after has passed by then"
    return f"{held}: goes out when it ends, at {at}"


def check_past(scope: Scope, deliveries: Sequence[Delivery], where: Mapping[str, Location]) -> None:
    """Say what the daemon does with a post due before now: a delivery within its deadline
    goes out late when the daemon loads the plan (unless it went out already); one past it
    expires, not posted."""
    late: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        if delivery.due_utc < scope.now:
            late[delivery.post].append(delivery)
    for post, found in late.items():
        first = min(found, key=lambda d: d.due_utc)
        more = len(found) - 1
        when = f"{_local(first)}" + (
            f" and {more} more {'delivery' if more == 1 else 'deliveries'}" if more else ""
        )
        message, hint = _past_outcome(found, scope.now)
        scope.problems.warning(
            where[post], f"post '{post}' is in the past ({when}): {message}", hint
        )


def _past_outcome(found: Sequence[Delivery], now: datetime) -> tuple[str, str]:
    """What happens to deliveries due before `now`, as the daemon's sync and claim decide."""
    expired = [d for d in found if d.deadline_utc is not None and d.deadline_utc < now]
    going = [d for d in found if d.deadline_utc is None or d.deadline_utc >= now]
    if not going:
        one = len(expired) == 1
        return (
            f"{'its' if one else 'their'} not_after deadline has passed too, so "
            f"{'it' if one else 'they'} will not go out (the daemon records "
            f"{'it' if one else 'them'} as expired)",
            "move it to a later time if it should go out",
        )
    subject = "it goes" if len(going) == 1 else "they go"
    if expired:
        subject = "the other one goes" if len(going) == 1 else f"the other {len(going)} go"
    deadlines = [d.deadline_utc.astimezone(ZoneInfo(d.timezone)) for d in going if d.deadline_utc]
    if len(deadlines) < len(going):
        outcome = (
            f"unless already sent, {subject} out late as soon as the daemon loads this plan "
            "(no not_after deadline)"
        )
    else:
        first = min(deadlines)
        outcome = (
            f"unless already sent, {subject} out late if the daemon loads this plan before "
            f"{first:%Y-%m-%d %H:%M} {first.tzinfo} (not_after), and not at all after that"
        )
    if expired:
        outcome = (
            f"{len(expired)} of these deliveries are past their not_after deadline and will not "
            f"go out; {outcome}"
        )
    return outcome, (
        "move it to a later time if it should go out on time; if it should not go out late, "
        "remove it or give it a shorter not_after"
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
    by_later: dict[tuple[str, str], list[tuple[timedelta, Slot, Slot, set[str]]]] = {}
    for (earlier, later), (apart, channels) in pairs.items():
        found = by_later.setdefault((later.campaign, later.post), [])
        found.append((apart, earlier, later, channels))
    for found in by_later.values():
        found.sort(key=lambda item: (item[0], item[1].campaign, item[1].post))
        apart, earlier, later, _ = found[0]
        on = ", ".join(sorted(set().union(*(item[3] for item in found))))
        same_file = earlier.campaign == later.campaign
        other = earlier.post if same_file else f"{earlier.campaign}/{earlier.post}"
        more = len(found) - 1
        others = f" (and {more} other post{'s' if more > 1 else ''})" if more else ""
        when = (
            f"at the same time as '{other}' ({earlier.who()}){others}"
            if apart == timedelta()
            else f"only {format_duration(apart)} after '{other}' ({earlier.who()}){others}"
        )
        problems.warning(
            later.where,
            f"post '{later.post}' ({later.who()}) goes out {when} on {on}; keep at least "
            f"{format_duration(later.gap)} between posts",
            "move one of them, or lower min_gap (min_gap: 0s turns this warning off)",
        )
