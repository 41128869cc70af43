"""X's counting rules: a port of twitter-text 3.1.0 (parseTweet, extractUrlsWithIndices,
extractHashtags) and of twemoji-parser's emoji matching, to the letter.

JavaScript regular expressions without the /u flag, and twitter-text's loops, work on UTF-16
code units. So does this module: `to_units` spells a text as a str of code units (an astral
character becomes its two surrogates) and the patterns in `_twitter_text_data` (generated from
the npm packages by tests/peers/oracles/gen_twitter_text_data.py) are run on that. Indices,
lengths, negated classes and the weighting loop then behave exactly as in JavaScript.

Speed: the patterns are large (tens of kB, mostly top-level-domain lists), so they are compiled
on first use, not at import, and kept compiled between processes (campaigns.patterncache).
Scans are narrowed to the places a match can start (a '.' before a top-level domain for URLs, a
'#' for hashtags, an emoji-capable unit for emoji); what is then matched is the same as a full
scan. Hashtags are checked against URLs only when a URL could hold one.

Copyright of the ported logic: Twitter, Inc. (Apache License 2.0) and Twitter Inc.
(twemoji-parser, MIT).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import NamedTuple

from campaigns import _twitter_text_data as _data
from campaigns.patterncache import compile_cached

try:  # the Unicode version of the normaliser should match V8's (twitter-text runs text.normalize())
    from unicodedata2 import normalize as _normalize  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - exercised only without the dependency
    _normalize = unicodedata.normalize

__all__ = [
    "MAX_WEIGHTED_LENGTH",
    "TRANSFORMED_URL_LENGTH",
    "TweetLength",
    "compile_all",
    "emoji_spans",
    "extract_hashtags",
    "extract_url_entities",
    "extract_url_spans",
    "parse_tweet",
    "to_units",
    "units_to_text",
]

# config/v3.json
MAX_WEIGHTED_LENGTH = 280
SCALE = 100
DEFAULT_WEIGHT = 200
TRANSFORMED_URL_LENGTH = 23
RANGES = (
    (0x0000, 0x10FF, 100),
    (0x2000, 0x200D, 100),
    (0x2010, 0x201F, 100),
    (0x2032, 0x2037, 100),
)

# Code units weighing DEFAULT_WEIGHT (everything outside the ranges of weight 100, including
# surrogates); a surrogate pair is counted once, see _plain_weight.
_HEAVY = re.compile(r"[^\x00-\u10ff\u2000-\u200d\u2010-\u201f\u2032-\u2037]+")
_PAIR = re.compile(r"[\ud800-\udbff][\udc00-\udfff]")
_ASTRAL = re.compile(r"[\U00010000-\U0010ffff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_INVALID = re.compile(r"[\ufffe\ufeff\uffff]")
_HASH_SIGN = re.compile(r"[#\uff03]")
_KEYCAP_BASES = frozenset("#*0123456789")
_URL_PRECEDING_INVALID = frozenset("-_./")  # invalidUrlWithoutProtocolPrecedingChars /[-_.\/]$/
_NON_ASCII = re.compile(r"[^\x20-\x7e]")  # punycode's regexNonASCII
_IDN_SEPARATORS = re.compile(r"[\u3002\uff0e\uff61]")  # punycode's regexSeparators, minus '.'

MAX_URL_LENGTH = 4096
MAX_TCO_SLUG_LENGTH = 40
MAX_DOMAIN_LABEL_LENGTH = 63
_BEFORE_DOMAIN = len("https://") + 1  # protocol and the one "preceding character"


def _split_astral(m: re.Match[str]) -> str:
    c = ord(m.group()) - 0x10000
    return chr(0xD800 + (c >> 10)) + chr(0xDC00 + (c & 0x3FF))


def to_units(text: str) -> str:
    """The text as UTF-16 code units, one per character of the returned str."""
    if text.isascii():
        return text
    return _ASTRAL.sub(_split_astral, text)


def units_to_text(units: str) -> str:
    """Back from code units to code points (valid surrogate pairs joined)."""
    if units.isascii() or not _SURROGATE.search(units):
        return units
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


# ---------------------------------------------------------------------------------------------
# Patterns, compiled on first use


class _UrlPatterns(NamedTuple):
    extract_url: re.Pattern[str]
    valid_tco_url: re.Pattern[str]
    candidate_dot: re.Pattern[str]
    not_domain_run: re.Pattern[str]


@cache
def _url_patterns() -> _UrlPatterns:
    return _UrlPatterns(
        compile_cached("x-url", _data.EXTRACT_URL),
        re.compile(_data.VALID_TCO_URL),
        re.compile(r"\.(?=" + _data.TLD_START + ")"),
        re.compile(_data.NOT_DOMAIN_RUN),
    )


@cache
def _valid_ascii_domain() -> re.Pattern[str]:
    """Needed only for URLs without a protocol and for punycode domains."""
    return compile_cached("x-ascii-domain", _data.VALID_ASCII_DOMAIN)


class _EmojiPatterns(NamedTuple):
    twemoji: re.Pattern[str]
    start: re.Pattern[str]


@cache
def _emoji_patterns() -> _EmojiPatterns:
    return _EmojiPatterns(compile_cached("x-emoji", _data.TWEMOJI), re.compile(_data.EMOJI_START))


class _HashtagPatterns(NamedTuple):
    valid_hashtag: re.Pattern[str]
    end_hashtag_match: re.Pattern[str]


@cache
def _hashtag_patterns() -> _HashtagPatterns:
    return _HashtagPatterns(
        compile_cached("x-hashtag", _data.VALID_HASHTAG), re.compile(_data.END_HASHTAG_MATCH)
    )


def compile_all() -> None:
    """Compile every pattern now rather than on first use."""
    _url_patterns()
    _valid_ascii_domain()
    _emoji_patterns()
    _hashtag_patterns()


# ---------------------------------------------------------------------------------------------
# URLs: extractUrlsWithIndices(text) with extractUrlsWithoutProtocol


def _punycode_label_length(label: str) -> int:
    """len(punycode.toASCII(label)) as twitter-text's idna.toAscii computes it (label: units)."""
    if not _NON_ASCII.search(label):
        return len(label)
    parts = _IDN_SEPARATORS.sub(".", label).split(".")
    total = len(parts) - 1
    for part in parts:
        if _NON_ASCII.search(part):
            code_points = units_to_text(part)
            total += 4 + len(code_points.encode("punycode"))  # 'xn--' + RFC 3492 encoding
        else:
            total += len(part)
    return total


# Campaign texts repeat their domains: the facts about each are cached.


@lru_cache(maxsize=4096)
def _idna_ok(domain: str) -> bool:
    """twitter-text's idna.toAscii(domain) is truthy (it returns the domain unchanged)."""
    if domain.startswith("xn--") and not _valid_ascii_domain().search(domain):
        return False
    for label in domain.split("."):
        n = _punycode_label_length(label)
        if n < 1 or n > MAX_DOMAIN_LABEL_LENGTH:
            return False
    return bool(domain)


@lru_cache(maxsize=4096)
def _ascii_domains(domain: str) -> tuple[tuple[int, int], ...]:
    """The spans at which twitter-text locates the ASCII-only domains inside a matched domain
    (see _take_url)."""
    spans = []
    ascii_end = 0
    for am in _valid_ascii_domain().finditer(domain):
        # twitter-text locates each match with domain.indexOf(match, previousEnd), which
        # finds an earlier copy of the same text when there is one: so do we.
        ascii_start = domain.find(am.group(), ascii_end)
        ascii_end = ascii_start + len(am.group())
        spans.append((ascii_start, ascii_end))
    return tuple(spans)


def _run_start(units: str, dot: int, not_domain_run: re.Pattern[str]) -> int:
    """Start of the run of domain characters (labels, '-', '_', '.') that ends at `dot`."""
    if dot == 0:
        return 0
    m = not_domain_run.search(units[dot - 1 :: -1])
    return dot - (m.start() if m else dot)


def extract_url_spans(units: str) -> list[tuple[int, int]]:
    """extractUrlsWithIndices(text): (start, end) in code units of `units`."""
    return [(s, e) for s, e, _ in extract_url_entities(units)]


def extract_url_entities(units: str) -> list[tuple[int, int, int]]:
    """extractUrlsWithIndices(text) as (start, end, len(entity.url)), in code units.

    parseTweet skips len(entity.url) units after a URL's start, which is not always end -
    start: for a URL without protocol whose domain holds more than an ASCII domain, the url
    is the last ASCII domain plus the path while the indices cover the whole match.
    """
    if "." not in units:
        return []
    p = _url_patterns()
    dots = [m.start() for m in p.candidate_dot.finditer(units)]
    out: list[tuple[int, int, int]] = []
    pos = 0
    di = 0
    n_dots = len(dots)
    while True:
        # Every match ends its domain with '.' + TLD (a candidate dot) and starts at most
        # _BEFORE_DOMAIN units before the run of domain characters holding that dot: no
        # match can start earlier, so searching from there finds JavaScript's next match.
        while di < n_dots and dots[di] < pos:
            di += 1
        if di == n_dots:
            break
        start_at = max(pos, _run_start(units, dots[di], p.not_domain_run) - _BEFORE_DOMAIN)
        m = p.extract_url.search(units, start_at)
        if m is None:
            break
        pos = m.end()
        _take_url(m, p, out)
    return out


def _take_url(m: re.Match[str], p: _UrlPatterns, out: list[tuple[int, int, int]]) -> None:
    before = m.group(2) or ""
    url = m.group(3)
    protocol = m.group(4)
    domain = m.group(5) or ""
    path = m.group(7)
    end = m.end()
    start = end - len(url)
    if len(protocol or "https://") + len(url) > MAX_URL_LENGTH or not _idna_ok(domain):
        return
    if not protocol:
        if before and before[-1] in _URL_PRECEDING_INVALID:
            return
        ascii_domains = _ascii_domains(domain)
        if not ascii_domains:
            return
        spans = [[start + a, start + b, b - a] for a, b in ascii_domains]
        if path:  # the last one takes the path: url.replace(domain, lastUrl.url)
            last = spans[-1]
            last[2] = len(url) - len(domain) + last[2]
            last[1] = end
        out.extend((a, b, n) for a, b, n in spans)
        return
    tco = p.valid_tco_url.match(url)
    if tco is not None:
        slug = tco.group(1)
        if slug and len(slug) > MAX_TCO_SLUG_LENGTH:
            return
        end = start + len(tco.group(0))
    out.append((start, end, end - start))


# ---------------------------------------------------------------------------------------------
# Emoji: twemoji-parser's parse(text)


def emoji_spans(units: str) -> list[tuple[int, int]]:
    """twemoji-parser parse(text) indices, in code units."""
    if units.isascii():  # keycaps need U+20E3; every other twemoji starts outside ASCII
        return []
    p = _emoji_patterns()
    out: list[tuple[int, int]] = []
    pos = 0
    search = p.start.search
    match = p.twemoji.match
    while (c := search(units, pos)) is not None:
        at = c.start()
        m = None
        # A keycap ([#*0-9] FE0F? 20E3) starts one unit before its FE0F or 20E3.
        if at > pos and units[at] in "\ufe0f\u20e3" and units[at - 1] in _KEYCAP_BASES:
            m = match(units, at - 1)
        if m is None:
            m = match(units, at)
        if m is None:
            pos = at + 1
            continue
        out.append((m.start(), m.end()))
        pos = m.end()
    return out


# ---------------------------------------------------------------------------------------------
# parseTweet


@dataclass(frozen=True, slots=True)
class TweetLength:
    weighted_length: int
    """In characters: URLs count 23, emoji sequences 2, CJK and most symbols 2."""
    invalid_characters: tuple[str, ...]
    """Characters that make X reject the text whatever its length (U+FFFE, U+FEFF, U+FFFF)."""

    @property
    def valid(self) -> bool:
        """twitter-text's `valid`: not empty, within 280, no invalid character."""
        return not self.invalid_characters and 0 < self.weighted_length <= MAX_WEIGHTED_LENGTH


def _plain_weight(units: str, surrogates: bool = True) -> int:
    """Weight (x SCALE) of text outside entities, stepping as twitter-text's loop does."""
    n = len(units)
    if units.isascii():
        return n * 100
    heavy = sum(map(len, _HEAVY.findall(units)))
    if heavy and surrogates:
        # every surrogate is "heavy"; a valid pair is one step of weight 200, not two
        heavy -= 2 * len(_PAIR.findall(units))
    return (n + heavy) * 100


def nfc(text: str) -> str:
    if text.isascii():
        return text
    return str(_normalize("NFC", text))


def parse_tweet(text: str) -> TweetLength:
    """parseTweet(text) with the v3 configuration (X's current rule)."""
    surrogates = False
    if text.isascii():
        units = text
    else:
        if _SURROGATE.search(text):
            text = units_to_text(text)
        normalized = nfc(text)
        units = _ASTRAL.sub(_split_astral, normalized)
        surrogates = len(units) != len(normalized) or _SURROGATE.search(units) is not None
    urls = extract_url_entities(units)
    emoji = emoji_spans(units)
    weight = 0
    if not urls and not emoji:
        weight = _plain_weight(units, surrogates)
    else:
        # The loop visits entity starts in order; one starting inside an earlier entity is
        # never visited. A URL wins over an emoji starting at the same unit.
        entities: dict[int, tuple[int, int]] = {s: (e, DEFAULT_WEIGHT) for s, e in emoji}
        for s, _, n in urls:
            entities[s] = (s + n, TRANSFORMED_URL_LENGTH * SCALE)
        pos = 0
        for s in sorted(entities):
            if s < pos:
                continue
            e, w = entities[s]
            weight += _plain_weight(units[pos:s], surrogates) + w
            pos = e
        weight += _plain_weight(units[pos:], surrogates)
    invalid: tuple[str, ...] = ()
    if not units.isascii() and _INVALID.search(units):
        invalid = tuple(dict.fromkeys(_INVALID.findall(units)))
    return TweetLength(weight // SCALE, invalid)


# ---------------------------------------------------------------------------------------------
# Hashtags: extractHashtags(text) (checkUrlOverlap: true)

# A URL's span never holds an ASCII space or line break (its domain excludes them and its path
# and query allow only listed printable characters) and always holds a '.' (before its TLD).
_BREAKS = frozenset("\t\n\x0b\x0c\r ")
_WORD = re.compile(r"[^\t-\r ]*")


def _may_be_in_url(units: str, tags: list[tuple[int, int, str]]) -> bool:
    """Whether a URL could hold the start of one of the hashtags, and so remove it. When each
    starts a word (after a space, a line break or nothing) that holds no '.', none can: the
    URLs need not be extracted."""
    if "." not in units:
        return False
    for start, _, _ in tags:
        if start and units[start - 1] not in _BREAKS:
            return True
        word = _WORD.match(units, start)
        if word is None or "." in word.group():
            return True
    return False


def extract_hashtags(text: str) -> list[str]:
    """twitter-text's extractHashtags(text): the hashtags, without '#', as written."""
    if not _HASH_SIGN.search(text):
        return []
    units = to_units(text)
    p = _hashtag_patterns()
    match = p.valid_hashtag.match
    end_match = p.end_hashtag_match.match
    tags: list[tuple[int, int, str]] = []
    pos = 0
    for h in _HASH_SIGN.finditer(units):
        # A match starts at its "preceding character" (none, one unit or a surrogate pair)
        # and goes on with the hash sign: at h-2, h-1 or h for a hash sign at h. Trying those
        # in order, from where the previous match ended, finds what a full scan finds.
        at = h.start()
        for s in (at - 2, at - 1, at):
            if s < pos or s < 0:
                continue
            m = match(units, s)
            if m is None:
                continue
            pos = m.end()
            if not end_match(units[pos : pos + 3]):  # anchored at `after`
                start = m.start(2)
                hashtag = m.group(3)
                tags.append((start, start + len(hashtag) + 1, hashtag))
            break
    if not tags:
        return []
    urls = extract_url_spans(units) if _may_be_in_url(units, tags) else []
    if urls:
        # removeOverlappingEntities on tags + urls: a stable sort by start, then drop any
        # entity that starts before the previous kept one ends.
        entities: list[tuple[int, int, str | None]] = sorted(
            [*tags, *((s, e, None) for s, e in urls)], key=lambda t: t[0]
        )
        kept: list[tuple[int, int, str | None]] = [entities[0]]
        for ent in entities[1:]:
            if kept[-1][1] > ent[0]:
                continue
            kept.append(ent)
        return [units_to_text(t) for _, _, t in kept if t is not None]
    return [units_to_text(t) for _, _, t in tags]
