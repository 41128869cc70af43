"""The text of one rendered post part on one channel: its length and characters against the
platform's rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

from campaigns.channels import KnownChannel
from campaigns.length import Length, hashtags
from campaigns.problems import Severity
from campaigns.scope import Scope
from campaigns.wording import words
from campaigns.yamlsource import PathKey


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
        scope.report(
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
    scope.report(severity, where, message, hint)


MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?")
"""An @mention as Instagram spells user names: letters, digits, '_' and inner dots."""


def check_tags(
    scope: Scope,
    spec: KnownChannel,
    language: str | None,
    where: PathKey,
    text: str,
    number: int | None,
    severity: Severity,
) -> None:
    """Hashtags and @mentions against the numbers the platform allows in one post."""
    rules = spec.rules
    for kind, cap, found in (
        ("hashtags", rules.max_hashtags, hashtags),
        ("@mentions", rules.max_mentions, MENTION.findall),
    ):
        if cap is None:
            continue
        count = len(found(text))
        if count <= cap:
            continue
        what = f"part {number} of the thread" if number else "text"
        lang = f" ({language})" if language else ""
        scope.report(
            severity,
            scope.at(*where),
            f"{what} for {spec.name}{lang} has {count} {kind}; {rules.label} allows {cap} "
            "in a post",
            f"keep the {cap} that matter most (the campaign's hashtags added at the end count "
            f"too), or give {spec.platform} its own text under 'overrides'",
        )
