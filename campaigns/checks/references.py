"""References between the parts of a campaign file and to config.yaml: channels, anchors,
languages, audiences, blackouts, and the structure of each post. Resolves what expansion needs
(channels, anchors, variants, blackouts) and marks the posts it cannot expand."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from campaigns.blackouts import Window
from campaigns.channels import KnownChannel
from campaigns.checks.languages import check_defaults, check_post_languages
from campaigns.model import Post
from campaigns.platforms import PLATFORMS
from campaigns.safety import bounds
from campaigns.scope import Scope, Variant
from campaigns.timeexpr import TimeExpr
from campaigns.wording import did_you_mean
from campaigns.yamlsource import PathKey


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
    check_defaults(scope)
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
    if name in scope.known_channels:
        return scope.known_channels[name]
    where = scope.at(*path)
    hint = did_you_mean(name, sorted(scope.known_channels), "channels in the configuration")
    same = [known for known in scope.known_channels if known.lower() == name.lower()]
    if same:
        hint = f"did you mean '{same[0]}'? Channel names are case-sensitive"
    if scope.strict_channels:
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
        if scope.span(blackout.start, blackout.until, path, scope.definition.timezone) is None:
            continue
        start, end = bounds(
            blackout.start, blackout.until, scope.anchors, scope.definition.timezone
        )
        channels = frozenset(chosen) if chosen is not None else None
        scope.blackouts.append(
            Window(start, end, blackout.reason, channels, scope.at(*path), blackout.then)
        )


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
    check_post_languages(scope, post, path)
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
