"""Mastodon's countable text: what StatusLengthValidator measures before counting graphemes.

Mastodon (app/validators/status_length_validator.rb) counts
`(spoiler_text + countable_text(text)).each_grapheme_cluster.size`, where countable_text
replaces every URL found by `Extractor.extract_urls_with_indices(text,
extract_url_without_protocol: false)` by 23 characters and every `@user@domain` mention by
`@user` (overlaps removed, mentions from `Account::MENTION_RE`). The URL extractor is the Ruby
twitter-text gem's, with the regexes Mastodon redefines in config/initializers/twitter_regex.rb
(more schemes, wider path characters). This module ports those Ruby regexes to Python.

Differences from Ruby that remain, all at the edges: Onigmo's /i case folding is approximated
by Python's IGNORECASE; `\\p{Cyrillic}`, `\\p{Pd}`, `[[:word:]]` and White_Space are spelled
out from Unicode 17; and the query-string characters are the gem's ASCII ones, which is what
the counts measured on a real server (Mastodon.py's tests/test_status_length.py) show.

Ported logic: Copyright 2018 Twitter, Inc. (twitter-text, Apache License 2.0) and Mastodon
gGmbH (AGPL-3.0; only the rules are reimplemented here, no code is copied).
"""

from __future__ import annotations

import re
import stringprep
import sys
from functools import cache, lru_cache
from typing import TYPE_CHECKING, NamedTuple

from campaigns import _twitter_text_data as _data
from campaigns.patterncache import compile_built

if TYPE_CHECKING:
    import regex

URL_LENGTH = 23  # StatusLengthValidator::URL_PLACEHOLDER_CHARS
MAX_URL_LENGTH = 4096
MAX_TCO_SLUG_LENGTH = 40
MAX_DOMAIN_LENGTH = 253  # Extractor::MAX_DOMAIN_LENGTH (mentions)

_WHITE_SPACE = "\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
_CYRILLIC = (
    "\\u0400-\\u0484\\u0487-\\u052f\\u1c80-\\u1c8a\\u1d2b\\u1d78\\u2de0-\\u2dff\\ua640-\\ua69f"
    "\\ufe2e\\ufe2f\\U0001e030-\\U0001e06d\\U0001e08f"
)
_DASH_PUNCTUATION = (
    "\\-\\u058a\\u05be\\u1400\\u1806\\u2010-\\u2015\\u2e17\\u2e1a\\u2e3a\\u2e3b\\u2e40\\u2e5d"
    "\\u301c\\u3030\\u30a0\\ufe31\\ufe32\\ufe58\\ufe63\\uff0d\\U00010d6e\\U00010ead"
)
_LATIN_ACCENTS = (
    "\\xc0-\\xd6\\xd8-\\xf6\\xf8-\\xff\\u0100-\\u024f\\u0253\\u0254\\u0256\\u0257\\u0259\\u025b"
    "\\u0263\\u0268\\u026f\\u0272\\u0289\\u028b\\u02bb\\u0300-\\u036f\\u1e00-\\u1eff"
)
_DIRECTIONAL = "\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069"
_INVALID = "\\ufffe\\ufeff\\uffff"
_UNICODE_SPACES = (
    "\\t-\\r \\x85\\xa0\\u1680\\u180e\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
_PUNCTUATION = "!\"#$%&'()*+,\\-./:;<=>?@\\[\\]^_`{|}~"
_CTRL = "\\x00-\\x1f\\x7f"
# [[:word:]] in Onigmo: Letter, Mark, Decimal_Number, Connector_Punctuation.
_WORD = "\\p{L}\\p{M}\\p{Nd}\\p{Pc}"

_PROTOCOLS = "(?:https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini)://"


def _trie(words: tuple[str, ...]) -> str:
    """`w1|w2|...` as a trie, which Python's engine scans much faster than the alternation.

    Among words that can match at one place (one a prefix of another) the trie tries the
    longest first; the gem's list is reverse-sorted, so that is also the order Ruby tries."""
    root: dict[str, dict[str, object]] = {}
    for word in words:
        node: dict[str, object] = root  # type: ignore[assignment]
        for ch in word:
            node = node.setdefault(ch, {})  # type: ignore[assignment]
        node[""] = {}

    def emit(node: dict[str, object]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in node.items() if ch]  # type: ignore[arg-type]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(root)  # type: ignore[arg-type]


def _tld_alternation(words: tuple[str, ...]) -> str:
    return "(?:(?:" + _trie(words) + ")(?=[^0-9a-z@+\\-]|\\Z))"


_NOT_DOMAIN = f"{_DIRECTIONAL}{re.escape(_PUNCTUATION)}{_CTRL}{_INVALID}{_UNICODE_SPACES}"
# Not in a domain: neither a label character, nor '-' or '_' inside a label, nor a dot.
_RUN_PUNCTUATION = re.escape(_PUNCTUATION.replace("-", "").replace("_", "").replace(".", ""))
_NOT_DOMAIN_RUN = f"[{_DIRECTIONAL}{_RUN_PUNCTUATION}{_CTRL}{_INVALID}{_UNICODE_SPACES}]"
_BEFORE_DOMAIN = len("gopher://") + 1  # the longest scheme, and the preceding character


def _url_pattern() -> str:
    domain_char = f"[^{_NOT_DOMAIN}]"
    # (?:D(?:[_-]|D)*)?D\. can match only the longest run before the dot: no backtracking.
    subdomain = f"(?={domain_char})(?:{domain_char}|[_\\-])*+(?<={domain_char})\\."
    domain_name = f"(?={domain_char})(?:{domain_char}|\\-)*+(?<={domain_char})\\."
    tld = (
        f"(?:{_tld_alternation(_data.TLDS_GENERIC)}|{_tld_alternation(_data.TLDS_COUNTRY)}"
        "|(?:xn--[0-9a-z]+))"
    )
    domain = f"(?:(?:{subdomain})*{domain_name}{tld})"
    preceding = f"(?:[^A-Z0-9@\\uff20$#\\uff03{_INVALID}]|[{_DIRECTIONAL}]|^)"
    # The gem's path characters (still used by the balanced parentheses inside Mastodon's
    # valid_url_path_ending_chars, which was defined before the parentheses were redefined).
    gem_path = f"[a-z{_CYRILLIC}0-9!*';:=+,.$/%#\\[\\]{_DASH_PUNCTUATION}_~&|@{_LATIN_ACCENTS}]"
    path_char = f"[^{_WHITE_SPACE}<>()?]"

    def parens(g: str) -> str:
        return f"\\((?:{g}+|(?:{g}*\\({g}+\\){g}*))\\)"

    path_end = (
        f"(?:[^{_WHITE_SPACE}()?!*\"'\u300c\u300d<>;:=,.$%\\[\\]~&|@]|(?:{parens(gem_path)}))"
    )
    path = f"(?:(?:{path_char}*(?:{parens(path_char)}{path_char}*)*{path_end})|(?:{path_char}+/))"
    query = "[a-z0-9!?*'();:&=+$/%#\\[\\]\\-_.,~|@]"
    query_end = "[a-z0-9_&=#/\\-]"
    return (
        f"(({preceding})(({_PROTOCOLS})?({domain})(?::([0-9]+))?(/{path}*)?"
        f"(\\?{query}*{query_end})?))"
    )


class _Patterns(NamedTuple):
    url: re.Pattern[str]
    candidate_dot: re.Pattern[str]
    not_domain_run: re.Pattern[str]
    tco: re.Pattern[str]
    end_mention: re.Pattern[str]


@cache
def _patterns() -> _Patterns:
    tld_start = {w[0] for w in (*_data.TLDS_GENERIC, *_data.TLDS_COUNTRY)} | {"x"}
    return _Patterns(
        # Written from this module's code and the top-level domains of _data.
        compile_built("mastodon-url", _url_pattern, re.IGNORECASE, (sys.modules[__name__], _data)),
        re.compile("\\.(?=[" + re.escape("".join(sorted(tld_start))) + "])", re.IGNORECASE),
        re.compile(_NOT_DOMAIN_RUN),
        re.compile("https?://t\\.co/([a-z0-9]+)", re.IGNORECASE),
        re.compile(f"(?:[@\\uff20]|[{_LATIN_ACCENTS}]+|://)", re.IGNORECASE),
    )


@cache
def _mention() -> regex.Pattern[str]:
    """A pattern of the `regex` module (a lookbehind of any width), imported only for texts
    with an at sign: its import is about 10 ms of a command's start-up."""
    import regex

    username = "[a-z0-9_]+(?:[a-z0-9_.\\-]+[a-z0-9_]+)?"
    mention = f"(?<![=/{_WORD}])@(({username})(?:@[{_WORD}.\\-]+[{_WORD}]+)?)"
    return regex.compile(mention, regex.IGNORECASE | regex.VERSION0)


def compile_all() -> None:
    _patterns()
    _mention()


@lru_cache(maxsize=4096)
def _valid_domain(url_length: int, domain: str) -> bool:
    """The gem's is_valid_domain: IDN::Idna.toASCII(domain) (libidn, IDNA 2003) succeeds."""
    try:
        for label in re.split("[.\u3002\uff0e\uff61]", domain):
            if any(stringprep.in_table_a1(c) for c in label):
                return False  # libidn refuses code points unassigned in Unicode 3.2
        encoded = domain.encode("idna")
    except (UnicodeError, ValueError):
        return False
    if len(encoded) > len(domain):
        url_length += len(encoded) - len(domain)
    return url_length <= MAX_URL_LENGTH


def url_spans(text: str) -> list[tuple[int, int]]:
    """extract_urls_with_indices(text, extract_url_without_protocol: false)."""
    if ":" not in text:
        return []
    p = _patterns()
    dots = [m.start() for m in p.candidate_dot.finditer(text)]
    out: list[tuple[int, int]] = []
    pos = 0
    di = 0
    while True:
        # As in campaigns._twitter_text.extract_url_entities: a match (with or without a
        # scheme: those without still use up text) ends its domain with '.' + TLD and starts
        # at most _BEFORE_DOMAIN characters before the run of domain characters holding it.
        while di < len(dots) and dots[di] < pos:
            di += 1
        if di == len(dots):
            break
        dot = dots[di]
        m_run = p.not_domain_run.search(text[dot - 1 :: -1]) if dot else None
        run_start = dot - (m_run.start() if m_run else dot)
        m = p.url.search(text, max(pos, run_start - _BEFORE_DOMAIN))
        if m is None:
            break
        pos = m.end()
        if not m.group(4):
            continue
        url = m.group(3)
        start, end = m.start(3), m.end(3)
        tco = p.tco.match(url)
        if tco is not None:
            if len(tco.group(1)) > MAX_TCO_SLUG_LENGTH:
                continue
            url = tco.group(0)
            end = start + len(url)
        if not _valid_domain(len(url), m.group(5)):
            continue
        out.append((start, end))
    return out


def mention_spans(text: str) -> list[tuple[int, int, str]]:
    """Extractor.extract_mentions_or_lists_with_indices: (start, end, counted as)."""
    if "@" not in text and "\uff20" not in text:  # Twitter::TwitterText::Regex[:at_signs]
        return []
    end_mention = _patterns().end_mention
    out: list[tuple[int, int, str]] = []
    for m in _mention().finditer(text):
        if end_mention.match(text, m.end()):
            continue
        screen_name = m.group(1)
        _, _, domain = screen_name.partition("@")
        if domain and len(domain) > MAX_DOMAIN_LENGTH:
            continue
        out.append((m.start(1) - 1, m.end(1), "@" + screen_name.split("@")[0]))
    return out


_BLANK = re.compile(f"[{_WHITE_SPACE}]*")


def countable_text(text: str) -> str:
    """StatusLengthValidator#countable_text."""
    if _BLANK.fullmatch(text):  # str.blank?
        return ""
    entities: list[tuple[int, int, str]] = [(s, e, "x" * URL_LENGTH) for s, e in url_spans(text)]
    entities += mention_spans(text)
    if not entities:
        return text
    entities.sort(key=lambda t: t[0])
    kept: list[tuple[int, int, str]] = []
    for ent in entities:  # remove_overlapping_entities
        if kept and kept[-1][1] > ent[0]:
            continue
        kept.append(ent)
    parts: list[str] = []
    pos = 0
    for s, e, replacement in kept:
        parts.append(text[pos:s])
        parts.append(replacement)
        pos = e
    parts.append(text[pos:])
    return "".join(parts)
