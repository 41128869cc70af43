"""How long a post is, measured the way each platform measures it.

Every platform has its own unit, and none of them is Python's `len()`:

* **X** (`counter="twitter"`): twitter-text v3 weighting, the rule of X's own counting library.
  The text is NFC-normalised; every URL twitter-text finds counts 23 (also bare domains such as
  `example.com` with a known top-level domain); every emoji sequence twemoji-parser finds counts
  2; other characters count 1 in the Latin-to-Georgian ranges and a few punctuation ranges, 2
  elsewhere (CJK, most symbols, emoji twemoji does not know). U+FFFE, U+FEFF and U+FFFF make X
  refuse a post at any length (`Length.invalid_characters`). Implemented in
  `campaigns._twitter_text`, a letter-exact port checked against the npm package.
* **Mastodon** (`"mastodon"`): extended grapheme clusters of `spoiler + countable_text`, where
  every URL with a scheme counts 23 and `@user@domain` counts as `@user`; bare domains count
  at their real length (`campaigns._mastodon_text`). The content warning shares the budget.
* **Bluesky** (`"bluesky"`): extended grapheme clusters (as `Intl.Segmenter` counts them, which
  is what the PDS's lexicon validator uses) ≤ 300 **and** UTF-8 bytes ≤ 3000. No URL shortening.
* **Code points** (`"codepoints"`): Telegram (after entity parsing), LinkedIn, Facebook and
  webhooks count Unicode code points. Threads counts UTF-8 bytes: its posts get a byte cap too
  (`max_bytes` in campaigns/platforms.py).
* **UTF-16** (`"utf16"`): JavaScript's `.length`, for platforms that count that way.

Grapheme clusters come from `unicode-segmentation-rs` (the Rust `unicode-segmentation` crate,
Unicode 17), which agrees with V8/ICU's `Intl.Segmenter` on every case we tried, including the
Indic conjunct rule of Unicode 15.1 where the `regex` module's `\\X` does not.

Python strings may hold surrogate code points, which no platform can receive. `measure` never
raises on them: a surrogate pair written as two code points is read as the character it
encodes (as a UTF-16 reader would), and a lone surrogate counts as one character of weight 2 on
X, one grapheme (like U+FFFD), and three UTF-8 bytes (the U+FFFD an encoder would send).

Costs: importing this module compiles nothing large. The X and Mastodon patterns (tens of kB of
top-level-domain lists) are compiled on first use, about 0.1 s, and kept compiled beside the
bytecode (campaigns.patterncache): later processes read them in a few milliseconds. Only the
patterns a text needs are compiled; `warm_up()` compiles them all ahead of time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from campaigns import _grapheme_data, _mastodon_text, _twitter_text
from campaigns.platformrules import PlatformRules

_rust_graphemes: Callable[[str, bool], list[str]] | None
try:
    from unicode_segmentation_rs import graphemes as _rust_graphemes
except ImportError:  # pragma: no cover - only without the dependency; see grapheme_count
    _rust_graphemes = None

__all__ = [
    "UNITS",
    "Length",
    "counted_alike",
    "distinct_hashtags",
    "grapheme_count",
    "hashtags",
    "measure",
    "tags_length",
    "title_of",
    "twitter_urls",
    "warm_up",
]

UNITS: Final[dict[str, str]] = {
    "twitter": "weighted characters",
    "mastodon": "characters",
    "bluesky": "graphemes",
    "codepoints": "characters",
    "utf16": "UTF-16 code units",
}
"""The unit of each counter, in words for a campaign manager."""

BYTES_UNIT: Final = "bytes"

_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Length:
    """A measured post text against its platform's limit."""

    length: int
    """In the platform's own unit (`unit`)."""
    limit: int
    unit: str
    """Human words for the unit: "weighted characters", "characters", "graphemes", ..."""
    byte_length: int | None = None
    """UTF-8 bytes, where the platform also caps those (Bluesky)."""
    byte_limit: int | None = None
    invalid_characters: tuple[str, ...] = ()
    """Characters the platform refuses whatever the length, as "U+FEFF" (X: U+FFFE, U+FEFF,
    U+FFFF)."""

    @property
    def over(self) -> int:
        """How much too long (0 when it fits), in the unit that is exceeded most (`over_unit`)."""
        return self._excess()[0]

    @property
    def over_unit(self) -> str:
        """The unit `over` is given in: `unit`, or "bytes" when the byte cap is exceeded more."""
        return self._excess()[1]

    @property
    def fits(self) -> bool:
        """Within the length limit and, where there is one, the byte limit."""
        return self._excess()[0] == 0

    @property
    def valid(self) -> bool:
        """Fits and holds no character the platform refuses."""
        return not self.invalid_characters and self._excess()[0] == 0

    def _excess(self) -> tuple[int, str]:
        over = max(0, self.length - self.limit)
        if self.byte_length is None or self.byte_limit is None:
            return over, self.unit
        byte_over = max(0, self.byte_length - self.byte_limit)
        # "Exceeded most" compares the excess relative to each limit.
        if byte_over * max(self.limit, 1) > over * max(self.byte_limit, 1):
            return byte_over, BYTES_UNIT
        return over, self.unit


def _join_surrogates(text: str) -> str:
    """Read surrogate pairs stored as two code points as the characters they encode."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


_CRLF = "\r\n"


_BMP_JOINER = re.compile(f"[{_grapheme_data.BMP_JOINERS}]")
_MAY_JOIN = re.compile(f"[{_grapheme_data.BMP_JOINERS}]|[\\U00010000-\\U0010ffff]")
_PREPEND = re.compile(f"[{_grapheme_data.PREPEND}]")
_NON_ASCII_TAIL = re.compile(r"[^\x00-\x7f]*\Z")
_ASCII = re.compile(r"[\x00-\x7f]")


def grapheme_count(text: str) -> int:
    """Extended grapheme clusters, as `Intl.Segmenter` (V8/ICU, Unicode 17) counts them."""
    if text.isascii():
        return len(text) - text.count(_CRLF)  # CR LF is the only ASCII cluster of two
    text = _join_surrogates(text)
    if _SURROGATE.search(text):
        # ICU segments a lone surrogate like U+FFFD (it can take combining marks).
        text = _SURROGATE.sub("\ufffd", text)
    # Without a character that may join a neighbour (Extend, ZWJ, SpacingMark, Prepend,
    # regional indicators, Hangul jamo; astral characters are all treated as such), every
    # code point is a cluster, CR LF aside.
    count = len(text) - text.count(_CRLF)
    joiner = _MAY_JOIN.search(text)
    if joiner is None:
        return count
    if _PREPEND.search(text):
        return _segment(text)
    # Without Prepend, there is a cluster boundary before every ASCII character but LF: so
    # only the runs of non-ASCII characters that hold a joiner need segmenting, each with the
    # printable ASCII character before it (which a combining mark may attach to).
    done = 0
    while joiner is not None:
        at = joiner.start()
        tail = _NON_ASCII_TAIL.search(text, done, at)
        start = tail.start() if tail is not None else at
        if start > 0 and "\x20" <= text[start - 1] <= "\x7e":
            start -= 1
        after = _ASCII.search(text, at)
        end = after.start() if after is not None else len(text)
        count += _segment(text[start:end]) - (end - start)
        done = end
        joiner = _MAY_JOIN.search(text, end)
    return count


def _segment(text: str) -> int:
    if _rust_graphemes is not None:
        return len(_rust_graphemes(text, True))
    return _regex_grapheme_count(text)  # pragma: no cover


def _regex_grapheme_count(text: str) -> int:  # pragma: no cover - fallback
    import regex

    return len(regex.findall(r"\X", text))


def _utf8_length(text: str) -> int:
    if text.isascii():
        return len(text)
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return len(_join_surrogates(text).encode("utf-8", "surrogatepass"))


def _limit_for(rules: PlatformRules, limit: int | None, with_media: bool) -> int:
    base = rules.max_length if limit is None else limit
    if with_media and rules.caption_length is not None:
        return min(base, rules.caption_length)
    return base


def measure(
    text: str,
    rules: PlatformRules,
    *,
    limit: int | None = None,
    with_media: bool = False,
    spoiler: str = "",
    link: str | None = None,
) -> Length:
    """Measure `text` as the platform of `rules` counts it.

    `limit` overrides `rules.max_length` (a channel's configured limit, e.g. a Mastodon instance
    allowing 1000 or X Premium). With `with_media`, the caption limit applies where the platform
    has one (Telegram: 1024), capped by `limit` when that is lower. `spoiler` is Mastodon's
    content warning, counted in the same budget; the other platforms have none and ignore it.
    `link` is the link the text holds, if any: X and Mastodon count a link as 23 characters
    whatever its query, so texts that differ only by their link's UTM tags (one per audience,
    say) are counted once (`counted_alike`).
    """
    cap = _limit_for(rules, limit, with_media)
    counter = rules.counter
    unit = UNITS[counter]
    if counter == "twitter":
        weighted, invalid = _x_count(counted_alike(text, link))
        return Length(weighted, cap, unit, invalid_characters=invalid)
    if counter == "mastodon":
        return Length(_mastodon_count(counted_alike(text, link), spoiler), cap, unit)
    if counter == "bluesky":
        return Length(
            _grapheme_count_cached(text),
            cap,
            unit,
            byte_length=_utf8_length(text),
            byte_limit=rules.max_bytes,
        )
    if counter == "codepoints":
        return Length(len(_join_surrogates(text)), cap, unit, *_bytes(text, rules))
    if counter == "utf16":
        units = len(text) if text.isascii() else len(_twitter_text.to_units(text))
        return Length(units, cap, unit, *_bytes(text, rules))
    raise ValueError(f"unknown counter {counter!r} for platform {rules.name!r}")


# A campaign measures the same texts again and again (recurrences, audiences, thread parts on
# several channels): the costly counts are cached.

_PLAIN_LINK = re.compile(
    r"https?://[A-Za-z0-9.-]+(?:/[A-Za-z0-9._~/-]*)?\?([A-Za-z0-9._~%=&-]*[A-Za-z0-9_&=/-])"
)
_QUERY_LETTERS = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "a" * 62
)
_BREAK = frozenset("\t\n\x0b\x0c\r ")


def counted_alike(text: str, link: str | None) -> str:
    """`text` with `link` written with an 'a' for each letter and digit of its query, where
    X and Mastodon count the two alike: texts whose links differ only there are then counted
    once.

    They do when the link is a plain `http(s)://` address (ASCII letters, digits, '.', '-' in
    its domain; no port) whose path and query hold only characters both platforms take in a
    URL, its query ends with one they may end a URL with, and each time it is in the text it
    stands between spaces or line breaks (or the text's ends): both then read the whole link
    as one URL, and count it as 23 characters, whatever its query says. Otherwise `text`.
    """
    if link is None or link not in text:
        return text
    alike = _alike(link)
    if alike is None:
        return text
    at = text.find(link)
    while at >= 0:
        end = at + len(link)
        if (at and text[at - 1] not in _BREAK) or (end < len(text) and text[end] not in _BREAK):
            return text
        at = text.find(link, end)
    return text.replace(link, alike)


@lru_cache(maxsize=4096)
def _alike(link: str) -> str | None:
    """The link with an 'a' for each letter and digit of its query, if it is a plain one."""
    plain = _PLAIN_LINK.fullmatch(link)
    if plain is None or plain.group(1).translate(_QUERY_LETTERS) == plain.group(1):
        return None
    return link[: plain.start(1)] + plain.group(1).translate(_QUERY_LETTERS)


@lru_cache(maxsize=16384)
def _x_count(text: str) -> tuple[int, tuple[str, ...]]:
    parsed = _twitter_text.parse_tweet(text)
    return parsed.weighted_length, tuple(f"U+{ord(c):04X}" for c in parsed.invalid_characters)


@lru_cache(maxsize=16384)
def _mastodon_count(text: str, spoiler: str) -> int:
    return grapheme_count(spoiler + _mastodon_text.countable_text(_join_surrogates(text)))


@lru_cache(maxsize=16384)
def _grapheme_count_cached(text: str) -> int:
    return grapheme_count(text)


def _bytes(text: str, rules: PlatformRules) -> tuple[int | None, int | None]:
    if rules.max_bytes is None:
        return None, None
    return _utf8_length(text), rules.max_bytes


def hashtags(text: str) -> list[str]:
    """The hashtags in `text`, without '#' and as written, by twitter-text's rules.

    This is twitter-text's `extractHashtags` exactly: a '#' (or the full-width U+FF03) preceded
    by the start of the text or by a character that is not a letter, digit, '_' or '&', followed by
    letters, marks, digits, '_' and a few joiners (ZWNJ, ZWJ, middle dots, ...), with at
    least one letter or mark; not followed by another '#' or by '://'; '#' followed by
    U+FE0F or U+20E3 is a keycap emoji, not a hashtag; a hashtag inside a URL (a #fragment)
    is not one. Mastodon's and Bluesky's rules differ in detail (Bluesky allows any non-space
    characters up to 64 graphemes, Mastodon allows digits-only tags); twitter-text's rule is the
    strictest common ground, so a tag it finds is a tag on every platform.
    """
    return _twitter_text.extract_hashtags(text)


def twitter_urls(text: str) -> list[tuple[int, int]]:
    """(start, end) code-point spans of the URLs twitter-text extracts from `text`.

    The text is taken as written (parseTweet measures the NFC form; for NFC text the two agree).
    """
    units = _twitter_text.to_units(text)
    spans = _twitter_text.extract_url_spans(units)
    if units is text or not spans:
        return spans
    # Code units to code points: each astral character before an index shifts it by one.
    astral_starts: list[int] = []
    offset = 0
    for cp, ch in enumerate(text):
        if ch > "\uffff":
            astral_starts.append(cp + offset)
            offset += 1

    def to_cp(u: int) -> int:
        return u - sum(1 for a in astral_starts if a < u - 1)

    return [(to_cp(s), to_cp(e)) for s, e in spans]


def title_of(text: str) -> str:
    """The title of a post whose first line is one (YouTube): its first line not blank."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def distinct_hashtags(text: str) -> list[str]:
    """The text's hashtags, each once (as first written), whatever their case."""
    found: dict[str, str] = {}
    for tag in hashtags(text):
        found.setdefault(tag.casefold(), tag)
    return list(found.values())


def tags_length(tags: Sequence[str]) -> int:
    """A list of tags as YouTube counts it against its 500 characters: the commas between tags
    count, and a tag with a space counts as if it were in quotation marks."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)


def warm_up() -> None:
    """Compile the X and Mastodon patterns now (about 0.1 s) instead of on first use."""
    _twitter_text.compile_all()
    _mastodon_text.compile_all()
