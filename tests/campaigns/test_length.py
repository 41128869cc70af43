"""campaigns.length: the API, each platform's rule on worked examples, and robustness."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.length import (
    UNITS,
    Length,
    grapheme_count,
    hashtags,
    measure,
    twitter_urls,
)
from campaigns.platformrules import PlatformRules
from campaigns.platforms import PLATFORMS

ROOT = Path(__file__).resolve().parents[2]
X = PLATFORMS["x"]
MASTODON = PLATFORMS["mastodon"]
BLUESKY = PLATFORMS["bluesky"]
TELEGRAM = PLATFORMS["telegram"]
THREADS = PLATFORMS["threads"]
LINKEDIN = PLATFORMS["linkedin"]
UTF16 = PlatformRules("utf16-test", "UTF-16 test", "utf16", 100)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦
FLAG_EE = "\U0001f1ea\U0001f1ea"
THUMBS_MEDIUM = "\U0001f44d\U0001f3fd"
KEYCAP_ONE = "1\ufe0f\u20e3"


# --- Length ------------------------------------------------------------------------------------


def test_length_fits_and_over() -> None:
    assert Length(280, 280, "weighted characters").fits
    assert Length(280, 280, "weighted characters").over == 0
    too_long = Length(290, 280, "weighted characters")
    assert not too_long.fits
    assert too_long.over == 10
    assert too_long.over_unit == "weighted characters"


def test_over_is_in_the_unit_exceeded_most() -> None:
    # 5 graphemes over 300 is 1.7 %; 60 bytes over 3000 is 2 %: bytes are exceeded most
    both = Length(305, 300, "graphemes", byte_length=3060, byte_limit=3000)
    assert (both.over, both.over_unit) == (60, "bytes")
    graphemes = Length(330, 300, "graphemes", byte_length=3010, byte_limit=3000)
    assert (graphemes.over, graphemes.over_unit) == (30, "graphemes")
    only_bytes = Length(100, 300, "graphemes", byte_length=3001, byte_limit=3000)
    assert not only_bytes.fits
    assert (only_bytes.over, only_bytes.over_unit) == (1, "bytes")


def test_length_is_frozen() -> None:
    length = Length(1, 2, "characters")
    with pytest.raises(dataclasses.FrozenInstanceError):
        length.length = 3  # type: ignore[misc]


def test_every_counter_has_a_unit() -> None:
    for rules in PLATFORMS.values():
        assert measure("hello", rules).unit == UNITS[rules.counter]


# --- limits ------------------------------------------------------------------------------------


def test_limit_override_and_caption_limit() -> None:
    assert measure("hi", X).limit == 280
    assert measure("hi", X, limit=25_000).limit == 25_000  # X Premium
    assert measure("hi", MASTODON, limit=1000).limit == 1000  # a generous instance
    assert measure("hi", TELEGRAM).limit == 4096
    assert measure("hi", TELEGRAM, with_media=True).limit == 1024
    assert measure("hi", TELEGRAM, limit=800, with_media=True).limit == 800
    assert measure("hi", X, with_media=True).limit == 280  # no separate caption limit


# --- X -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", 5),
        ("https://example.org/sayno?utm_source=x&utm_medium=social", 23),
        ("see example.com now", 8 + 23),  # a bare domain with a known TLD is a URL too
        ("see example.invalidtld now", 26),  # an unknown TLD is not
        ("日本語", 6),  # CJK weighs 2
        ("é", 1),
        ("e\u0301", 1),  # NFC first: e + combining acute becomes é
        (FAMILY, 2),  # an emoji sequence twemoji knows weighs 2 in total
        (FLAG_EE, 2),
        (THUMBS_MEDIUM, 2),
        (KEYCAP_ONE, 2),
        ("\u00a9", 1),  # © without VS16: Latin-1, weight 1
        ("\u00a9\ufe0f", 2),  # ©️: an emoji
        ("\U0001fae0", 2),  # 🫠 is newer than twemoji 11: one astral code point, weight 2
        ("\u201chi\u201d", 4),  # curly quotes are in a weight-1 range
        ("\u2026", 2),  # the ellipsis is not
    ],
)
def test_x_weighting(text: str, expected: int) -> None:
    assert measure(text, X).length == expected


def test_x_limit_and_invalid_characters() -> None:
    assert measure("a" * 280, X).fits
    assert measure("a" * 281, X).over == 1
    assert measure("\u3042" * 141, X).over == 2
    refused = measure("ok\ufeff", X)
    assert refused.fits
    assert refused.invalid_characters == ("U+FEFF",)
    assert not refused.valid


def test_twitter_urls_are_code_point_spans() -> None:
    text = f"{FAMILY} go to https://example.org and example.com/x {FLAG_EE}"
    spans = twitter_urls(text)
    assert [text[s:e] for s, e in spans] == ["https://example.org", "example.com/x"]


def test_twitter_urls_rules() -> None:
    assert twitter_urls("no links here.") == []
    assert twitter_urls("a.b") == []
    assert [s for s in twitter_urls("t.co/abc bit.ly/x")] == [(0, 8), (9, 17)]
    text = "http://xn--p1ai.ru and ftp://files.example.net"
    # "ftp://" is not a scheme twitter-text knows, and a bare domain after "/" is not a URL
    assert [text[s:e] for s, e in twitter_urls(text)] == ["http://xn--p1ai.ru"]


# --- Mastodon ----------------------------------------------------------------------------------


def test_mastodon_rules() -> None:
    assert measure("https://example.com/a/very/long/path/that/goes/on", MASTODON).length == 23
    assert measure("example.com", MASTODON).length == 11  # no scheme: counted as written
    assert measure("gemini://example.com/capsule", MASTODON).length == 23
    assert measure("@alice@example.social hi", MASTODON).length == len("@alice hi")
    assert measure(FAMILY + FLAG_EE, MASTODON).length == 2
    assert measure("   ", MASTODON).length == 0  # a blank text counts nothing (str.blank?)


def test_mastodon_spoiler_shares_the_budget() -> None:
    text = "x" * 490
    assert measure(text, MASTODON).fits
    with_cw = measure(text, MASTODON, spoiler="Content warning")
    assert with_cw.length == 505
    assert with_cw.over == 5
    # the spoiler is ignored where there is no such thing
    assert measure("hi", X, spoiler="cw").length == 2


# --- Bluesky -----------------------------------------------------------------------------------


def test_bluesky_graphemes_and_bytes() -> None:
    # the values of bluesky-social/atproto packages/api/tests/rich-text.test.ts
    family = measure("\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f467", BLUESKY)
    assert (family.length, family.byte_length) == (1, 25)
    mixed = measure(
        "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f467\U0001f525 good!\u2705",
        BLUESKY,
    )
    assert (mixed.length, mixed.byte_length, mixed.byte_limit) == (9, 38, 3000)
    assert measure("no shortening https://example.org/" + "a" * 40, BLUESKY).length == 74


def test_bluesky_byte_cap_binds_before_the_grapheme_cap() -> None:
    text = FAMILY * 130  # 130 graphemes, 3250 bytes
    length = measure(text, BLUESKY)
    assert length.length == 130
    assert length.byte_length == 3250
    assert not length.fits
    assert (length.over, length.over_unit) == (250, "bytes")


def test_grapheme_count() -> None:
    assert grapheme_count("") == 0
    assert grapheme_count("a\r\nb") == 3
    assert grapheme_count("\u0915\u094d\u0937") == 1  # Indic conjunct (Unicode 15.1, GB9c)
    scotland = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    assert grapheme_count(scotland) == 1
    assert grapheme_count("\u1100\u1161\u11a8") == 1  # Hangul jamo


# --- code points, UTF-16, Threads --------------------------------------------------------------


def test_telegram_counts_code_points() -> None:
    # a live probe accepted 4096 astral emoji and refused 4097 (platform-notes.md, Telegram)
    assert measure("\U0001f600" * 4096, TELEGRAM).fits
    assert measure("\U0001f600" * 4097, TELEGRAM).over == 1
    assert measure(FAMILY, LINKEDIN).length == 7


def test_utf16_counts_code_units() -> None:
    assert measure("\U0001f600a", UTF16).length == 3
    assert measure(FAMILY, UTF16).length == 11


def test_threads_is_held_to_utf8_bytes() -> None:
    # Postiz's rejected post: 498 characters, three of them curly apostrophes, 504 bytes
    text = "a" * 495 + "\u2019" * 3
    length = measure(text, THREADS)
    assert (length.length, length.byte_length, length.byte_limit) == (498, 504, 500)
    assert not length.fits
    assert (length.over, length.over_unit) == (4, "bytes")
    assert measure("a" * 500, THREADS).fits


# --- hashtags ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One week to #SaferInternetDay. #SayNo!", ["SaferInternetDay", "SayNo"]),
        ("#SayNo#Again", []),  # followed by another '#': twitter-text rejects both
        ("tag#inside a word", []),
        ("#123 numbers only", []),
        ("#2027SID", ["2027SID"]),
        ("\uff03全角タグ", ["全角タグ"]),
        ("#Café and #über_alles", ["Café", "über_alles"]),
        ("https://example.org/page#fragment", []),  # a URL fragment is not a hashtag
        ("#\ufe0f\u20e3 keycap", []),
        ("", []),
    ],
)
def test_hashtags(text: str, expected: list[str]) -> None:
    assert hashtags(text) == expected


# --- robustness --------------------------------------------------------------------------------


def test_lone_surrogates_are_counted_not_refused() -> None:
    lone = "a\ud800b"
    assert measure(lone, X).length == 4
    assert measure(lone, TELEGRAM).length == 3
    assert measure(lone, UTF16).length == 3
    bluesky = measure(lone, BLUESKY)
    assert (bluesky.length, bluesky.byte_length) == (3, 5)
    assert measure(lone, MASTODON).length == 3
    # a surrogate pair stored as two code points is the character it encodes
    assert measure("\ud83d\ude00", TELEGRAM).length == 1
    assert measure("\ud83d\ude00", X).length == 2
    assert measure("\ud83d\ude00", BLUESKY).byte_length == 4


any_text = st.text(st.characters(blacklist_categories=()), max_size=300)
fragments = st.sampled_from(
    [
        "https://example.org/a(b)?c=d#e",
        "example.com",
        "@user@example.social",
        "#tag",
        FAMILY,
        FLAG_EE,
        KEYCAP_ONE,
        "\u200f",
        "\u0301",
        "\r\n",
        "\ud800",
        "日本",
    ]
)
mixed_text = st.lists(st.one_of(fragments, any_text), max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(any_text, mixed_text), spoiler=st.one_of(st.just(""), any_text))
def test_measure_never_raises(text: str, spoiler: str) -> None:
    for rules in (*PLATFORMS.values(), UTF16):
        length = measure(text, rules, spoiler=spoiler)
        assert length.length >= 0
        assert length.over >= 0
        assert length.fits == (length.over == 0)
    hashtags(text)
    twitter_urls(text)


@settings(max_examples=200, deadline=None)
@given(text=mixed_text)
def test_twitter_urls_spans_are_inside_the_text(text: str) -> None:
    previous_end = 0
    for start, end in twitter_urls(text):
        assert previous_end <= start < end <= len(text)
        previous_end = end


# --- dependencies, import and speed ------------------------------------------------------------


def test_exact_unicode_dependencies_are_installed() -> None:
    """Exact agreement with V8 needs Unicode 17 segmentation and normalisation."""
    import unicode_segmentation_rs
    import unicodedata2  # type: ignore[import-not-found,unused-ignore]

    assert unicode_segmentation_rs.graphemes("\u0915\u094d\u0937", True) == ["\u0915\u094d\u0937"]
    assert unicodedata2.unidata_version.startswith("17.")


def test_import_compiles_no_large_pattern() -> None:
    """Importing the length modules compiles nothing large: the patterns compile on first use.

    Checked by what is compiled, not by timing (the machines that run this are shared)."""
    code = (
        "import campaigns.length, campaigns._twitter_text as t, campaigns._mastodon_text as m\n"
        "caches = [t._url_patterns, t._emoji_patterns, t._hashtag_patterns, m._patterns]\n"
        "print(sum(c.cache_info().currsize for c in caches))\n"
        "campaigns.length.warm_up()\n"
        "print(sum(c.cache_info().currsize for c in caches))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    assert out == ["0", "4"]


def test_grapheme_shortcuts_agree_with_full_segmentation() -> None:
    """grapheme_count skips segmenting what cannot join; check that against segmenting all."""
    import unicode_segmentation_rs

    for cp in range(0, 0x110000, 13):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        for text in (
            f"a{c}",
            f"{c}a",
            f"{c} {c}\u0301",
            f"x{c}{c}y\r\n{c}",
            f"\u00e9 {c}\U0001f3fd z",
        ):
            expected = len(unicode_segmentation_rs.graphemes(text, True))
            assert grapheme_count(text) == expected, (hex(cp), text)
