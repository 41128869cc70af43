"""A post whose first line is a title and whose hashtags are tags (YouTube): the title's
length, the characters the platform refuses, and the tags' total length."""

from __future__ import annotations

from campaigns.channels import KnownChannel
from campaigns.length import distinct_hashtags, tags_length, title_of
from campaigns.problems import Severity
from campaigns.scope import Scope
from campaigns.yamlsource import PathKey


def check_title_and_tags(
    scope: Scope,
    spec: KnownChannel,
    language: str | None,
    where: PathKey,
    text: str,
    severity: Severity,
) -> None:
    """`text` is the first part as it goes out, hashtags and link added."""
    rules = spec.rules
    lang = f" ({language})" if language else ""
    at = scope.at(*where)
    other_text = f"or give {spec.platform} its own text under 'overrides'"
    title = title_of(text)
    if rules.title_length is not None and len(title) > rules.title_length:
        scope.report(
            severity,
            at,
            f"the first line of the text is the video's title on {spec.name}{lang}: it is "
            f"{len(title)} characters, and {rules.label} allows {rules.title_length}",
            f"put a shorter first line, and the rest on the lines after it, {other_text}",
        )
    refused = sorted({c for c in text if c in rules.refused_characters})
    if refused:
        shown = " and ".join(f"'{c}'" for c in refused)
        scope.report(
            severity,
            at,
            f"the text for {spec.name}{lang} holds {shown}, which {rules.label} refuses in a "
            "title or description",
            f"write them in words or with other signs, {other_text}",
        )
    tags = distinct_hashtags(text)
    if rules.tags_length is not None and tags_length(tags) > rules.tags_length:
        scope.report(
            severity,
            at,
            f"the hashtags for {spec.name}{lang} become the video's tags, "
            f"{tags_length(tags)} characters with the commas between them; {rules.label} "
            f"allows {rules.tags_length}",
            f"use fewer hashtags (the campaign's, added at the end, count too), {other_text}",
        )
