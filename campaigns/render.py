"""The words that go out: hashtags and the link added to a post's text, UTM tags on the link.

A post's text is left as written; what the campaign requires is appended after a blank line:
first the hashtags the text lacks (compared without regard to case, never doubled), then the
link on its own line, unless the text says `{link}`, where the link is put instead. In a
thread, only the first part gets the hashtags and the link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from campaigns.length import hashtags as find_hashtags

LINK_PLACEHOLDER = "{link}"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_PLACEHOLDER_ALONE = re.compile(r"(?<![^\t-\r ])\{link\}(?![^\t-\r ])")
_LINK_WORD = re.compile(r"[!-\"$-~]+")  # printable ASCII, no space, no '#'


class Composed(NamedTuple):
    text: str
    added_hashtags: tuple[str, ...]
    link_appended: bool


def compose(body: str, tags: Sequence[str], link: str | None, *, first: bool) -> Composed:
    """The text of one post part: `body` with the missing `tags` and the `link` added."""
    text = searched = body.strip()
    if LINK_PLACEHOLDER in text:
        text = text.replace(LINK_PLACEHOLDER, link or "")
        if not _link_stands_alone(searched, link):
            searched = text
        link = None
    if not first:
        return Composed(text, (), False)
    missing = _missing(searched, tuple(tags))
    appendix = [" ".join(missing)] if missing else []
    if link:
        appendix.append(link)
    if appendix:
        text = f"{text}\n\n" + "\n".join(appendix) if text else "\n".join(appendix)
    return Composed(text, missing, bool(link))


@lru_cache(maxsize=4096)
def _missing(searched: str, tags: tuple[str, ...]) -> tuple[str, ...]:
    """The `tags` that `searched` lacks, each once: the same for every channel when the text
    searched is the one with `{link}` in place (see `_link_stands_alone`)."""
    bares = _bares(tags)
    present = set(_present(searched)) if _may_hold(searched, bares) else set()
    missing: list[str] = []
    for tag, bare in zip(tags, bares, strict=True):
        if bare not in present:
            present.add(bare)
            missing.append(tag)
    return tuple(missing)


def _link_stands_alone(body: str, link: str | None) -> bool:
    """Whether the hashtags of `body` are those of its text once the link is put in.

    They are when each placeholder stands between spaces or line breaks (or the text's ends)
    and the link is one word without a hash sign: no hashtag can then begin, end or be looked
    for across the link, and no URL can hold a hashtag that the placeholder did not. The
    hashtags are then looked for once per text, not once per channel's link.
    """
    return link is not None and _LINK_WORD.fullmatch(link) is not None and _placeholders_alone(body)


@lru_cache(maxsize=4096)
def _placeholders_alone(body: str) -> bool:
    """Whether each placeholder of `body` stands alone (once per text, not per channel)."""
    return body.count(LINK_PLACEHOLDER) == len(_PLACEHOLDER_ALONE.findall(body))


@lru_cache(maxsize=4096)
def _may_hold(text: str, bares: tuple[str, ...]) -> bool:
    """Whether `text` may hold one of the hashtags `bares`: only if one is spelled in it,
    ignoring case. Asked of the text searched for hashtags: the text with `{link}` in place
    when the link stands alone, the same for every channel, so the answer is cached.

    A hashtag found in a text is a part of it, and case folding maps each character on its own,
    so the folded tag is a part of the folded text. (A surrogate pair written as two code points
    is read as one character when hashtags are extracted: such texts are always extracted.)
    """
    if not bares:
        return False
    if not text.isascii() and _SURROGATE.search(text):
        return True
    folded = text.casefold()
    return any(bare in folded for bare in bares)


@lru_cache(maxsize=4096)
def _present(text: str) -> frozenset[str]:
    return frozenset(_bare(tag) for tag in find_hashtags(text))


@lru_cache(maxsize=1024)
def _bares(tags: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_bare(tag) for tag in tags)


def _bare(tag: str) -> str:
    return tag.lstrip("#\uff03").casefold()


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace `{name}` placeholders (the names model.TEMPLATE_FIELDS lists)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def tracked_url(url: str, utm: Mapping[str, str | None], values: Mapping[str, str]) -> str:
    """`url` with `utm_<name>` query parameters from templates; the link's own parameters stay
    as written, except those of the same name, which the campaign's values replace."""
    return Tracking.of(utm).url(url, values)


@dataclass(frozen=True, slots=True)
class Tracking:
    """UTM templates prepared once, then filled for each delivery."""

    templates: tuple[tuple[str, str], ...]
    names: tuple[str, ...]
    """The placeholders the templates use."""

    @classmethod
    def of(cls, utm: Mapping[str, str | None]) -> Tracking:
        templates = tuple((name, t) for name, t in utm.items() if t)
        names = sorted({name for _, t in templates for name in _PLACEHOLDER.findall(t)})
        return cls(templates, tuple(names))

    def url(self, url: str, values: Mapping[str, str]) -> str:
        used = tuple((name, values.get(name, "")) for name in self.names)
        return _tracked(url, self.templates, used)


@lru_cache(maxsize=4096)
def _tracked(
    url: str, templates: tuple[tuple[str, str], ...], used: tuple[tuple[str, str], ...]
) -> str:
    values = dict(used)
    tags = {f"utm_{name}": fill(t, values) for name, t in templates}
    tags = {name: value for name, value in tags.items() if value}
    if not tags:
        return url
    parts = urlsplit(url)
    kept = [
        pair
        for pair in parts.query.split("&")
        if pair and unquote_plus(pair.partition("=")[0]) not in tags
    ]
    added = [f"{name}={quote(value, safe='')}" for name, value in tags.items()]
    return urlunsplit(parts._replace(query="&".join(kept + added)))
