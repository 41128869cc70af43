"""The shortcuts taken for speed give what the exact path gives, on any text.

Each test runs the function as it is, then again with its shortcut's test forced to say "take
the exact path" (or runs the slow path the shortcut stands for), and compares."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from campaigns import _twitter_text, delivery, render
from campaigns.delivery import Delivery, DeliveryKey, Media
from campaigns.length import measure
from campaigns.loader import thread_key
from campaigns.platforms import PLATFORMS
from campaigns.preview import CampaignInfo, Preview, common
from campaigns.preview import json as preview_json
from campaigns.preview.common import Projection

# Text made of the pieces that decide these shortcuts: hash signs (also full-width) with and
# without a word before them, dots, URLs with and without a protocol (with a #fragment, a
# path, a domain holding a hash sign), spaces and line breaks of every kind, case variants.
pieces = st.sampled_from(
    [
        "#",
        "\uff03",
        "#SayNo",
        "#sayno",
        "#SAYNO",
        "\uff03SayNo",
        "#Help3",
        "#\u017fayno",  # long s: folds to "s"
        "#İ",
        ".",
        ". ",
        "a.b",
        "a-#tag.com",
        "example.com",
        "example.com/#SayNo",
        "https://example.org/sayno?utm_source=x#SayNo",
        "https://example.org/a(b)?c=d#e",
        "http://t.co/abc",
        "xn--bcher-kva.example",
        "日本.jp",
        " ",
        "\t",
        "\n",
        "\r\n",
        "\x0b",
        "\x0c",
        "\x1c",
        "\xa0",
        "\u3000",
        "&",
        "_",
        "@clarion",
        "\u20e3",
        "\ufe0f",
        "\ud83d\ude00",
        "\U0001f600",
        "\ud800",
    ]
)
texts = st.one_of(
    st.lists(st.one_of(pieces, st.text(max_size=4)), max_size=16).map("".join),
    st.text(max_size=60),
)
tag_lists = st.lists(
    st.sampled_from(["#SayNo", "#sayno", "\uff03SayNo", "#Help3", "#s", "#İ", "#日本"]),
    max_size=3,
)


@settings(max_examples=1500, deadline=None)
@given(text=texts)
def test_hashtags_without_url_extraction_are_the_exact_ones(text: str) -> None:
    fast = _twitter_text.extract_hashtags(text)
    with mock.patch.object(_twitter_text, "_may_be_in_url", return_value=True):
        assert _twitter_text.extract_hashtags(text) == fast


@settings(max_examples=1500, deadline=None)
@given(body=texts, tags=tag_lists, link=st.sampled_from([None, "https://example.org/#SayNo"]))
def test_compose_without_hashtag_extraction_is_the_exact_one(
    body: str, tags: list[str], link: str | None
) -> None:
    fast = render.compose(body, tags, link, first=True)
    render._present.cache_clear()
    with mock.patch.object(render, "_may_hold", return_value=True):
        assert render.compose(body, tags, link, first=True) == fast


zones = st.sampled_from(["UTC", "Europe/Brussels", "America/New_York", "Asia/Kolkata"])
instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


def on_a_clock(moment: datetime) -> bool:
    """Whether a local time is one its zone's clocks show (not one skipped when they go
    forward, which names no instant of its own to format)."""
    shown = moment.astimezone(UTC).astimezone(moment.tzinfo)
    return shown.replace(tzinfo=None) == moment.replace(tzinfo=None)


@settings(max_examples=500, deadline=None)
@given(instant=instants, zone=zones, fold=st.sampled_from([0, 1]), view=zones)
@example(  # an hour later is 02:00 on the night New York's clocks skip from 02:00 to 03:00
    instant=datetime(2072, 3, 13, 6, tzinfo=UTC),
    zone="America/New_York",
    fold=0,
    view="America/New_York",
)
def test_cached_time_stamps_are_the_formatted_ones(
    instant: datetime, zone: str, fold: int, view: str
) -> None:
    local = instant.astimezone(ZoneInfo(zone)).replace(fold=fold)
    for moment in filter(on_a_clock, (instant, local, local + timedelta(hours=1))):
        assert common.iso_utc(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        expected = moment.astimezone(ZoneInfo(view)).isoformat(timespec="seconds")
        assert common.iso_local(moment, view) == expected


links = st.one_of(
    st.sampled_from(
        [
            "https://example.org/sayno?utm_source=x&utm_medium=social",
            "https://example.org/a(b)?c=d",
            "example.com/path",
            "https://t.co/abc",
            "http://xn--bcher-kva.example/",
            "@clarion",
            "&",
            "_",
            "https://example.org/#SayNo",
            "https://example.org/ #SayNo",
            "go/#SayNo",  # a hashtag inside a link that is no URL
        ]
    ),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30),
    st.text(max_size=12),
)
bodies = st.lists(
    st.one_of(pieces, st.just("{link}"), st.just(" {link} "), st.text(max_size=4)), max_size=16
).map("".join)


@settings(max_examples=2000, deadline=None)
@given(body=bodies, tags=tag_lists, link=links)
def test_hashtags_looked_for_around_the_placeholder_are_those_of_the_text(
    body: str, tags: list[str], link: str
) -> None:
    fast = render.compose(body, tags, link, first=True)
    render._present.cache_clear()
    with mock.patch.object(render, "_link_stands_alone", return_value=False):
        assert render.compose(body, tags, link, first=True) == fast


maybe_texts = st.one_of(st.none(), texts)
media_items = st.builds(
    Media,
    file=texts,
    path=st.just("/nonexistent/card.png"),
    alt=texts,
    mime=st.sampled_from(["image/png", "video/mp4"]),  # an unreadable video has no facts
)
deliveries = st.builds(
    Delivery,
    key=texts,
    campaign=st.sampled_from(["c1", "c2", "c\u00e9"]),
    post=texts,
    channel=st.sampled_from(["x-main", "mastodon-main"]),
    platform=texts,
    language=maybe_texts,
    audience=maybe_texts,
    due_utc=instants,
    timezone=zones,
    deadline_utc=st.one_of(st.none(), instants),
    text=texts,
    thread_index=st.integers(0, 30),
    thread_size=st.integers(1, 30),
    parent_key=maybe_texts,
    media=st.lists(media_items, max_size=2).map(tuple),
    link=maybe_texts,
    status=st.sampled_from(["approved", "draft"]),
    length=st.integers(-5, 10**6),
    limit=st.integers(0, 10**6),
    source=texts,
    warnings=st.lists(texts, max_size=2).map(tuple),
)
projections = st.builds(Projection, due_utc=instants, reason=texts, expires=st.booleans())


@settings(max_examples=1000, deadline=None)
@given(
    delivery=deliveries,
    held=st.booleans(),
    warning=st.sampled_from(["", "CW: abuse", "\ud800"]),
    moved=st.one_of(st.none(), projections),
)
def test_json_lines_written_directly_are_those_of_json_dumps(
    delivery: Delivery, held: bool, warning: str, moved: Projection | None
) -> None:
    view = Preview(
        [delivery],
        {"c1": CampaignInfo("One", "UTC", held=held)},
        content_warnings={"x-main": warning},
        projected={delivery.key: moved} if moved else {},
    )
    exact = preview_json.as_json(delivery, view.scheduled(delivery), view)
    assert preview_json.line(delivery, view) == json.dumps(exact, ensure_ascii=False)


# Keys of 3 to 6 parts, each made of what decides the parsing: '@' (occurrences), digits
# (also non-ASCII ones), words, nothing.
key_segments = st.lists(
    st.sampled_from(["@", "1", "12", "0", "\u00b2", "\u0661", "a", "sayno-2027", "x-main", ""]),
    max_size=3,
).map("".join)
keys = st.lists(key_segments, min_size=3, max_size=6).map("/".join)


@settings(max_examples=2000, deadline=None)
@given(key=keys)
def test_thread_keys_cut_from_the_key_are_the_parsed_ones(key: str) -> None:
    try:
        exact = str(DeliveryKey.parse(key).thread)
    except ValueError:
        exact = None
    try:
        assert thread_key(key) == exact
    except ValueError:
        assert exact is None


plain_values = st.text(st.sampled_from("aZ09._~%=&-"), max_size=12)
query_values = st.one_of(  # mostly what both platforms take in a URL's query
    plain_values,
    plain_values,
    plain_values,
    st.text(st.sampled_from("aZ09._~%=&-!?*'();:+$/#[],|@ é"), max_size=12),
)
plain_links = st.builds(
    lambda scheme, domain, path, query: f"{scheme}://{domain}{path}?{query}",
    st.sampled_from(["http", "https", "https", "HTTPS"]),
    st.sampled_from(
        ["example.org", "t.co", "xn--bcher-kva.example", "a-b.example.com", "example.c", "x"]
    ),
    st.sampled_from(["", "/", "/sayno", "/a/b-c_d.html", "/~x/"]),
    st.lists(
        st.builds(lambda name, value: f"utm_{name}={value}", st.sampled_from("sc"), query_values),
        min_size=1,
        max_size=3,
    ).map("&".join),
)
breaks = st.sampled_from([" ", "\n", "\n\n", "\t", "\r\n", "\x0b"])
around = st.one_of(  # mostly spaces and line breaks, around which links are counted alike
    breaks,
    breaks,
    breaks,
    st.sampled_from(["", ".", ",", "(", ")", "\u3000", "\xa0", "\x1c", "a", "é"]),
)


@settings(max_examples=2000, deadline=None)
@given(
    before=st.one_of(st.just(""), texts.map(lambda text: text + " "), texts),
    left=around,
    link=st.one_of(plain_links, plain_links, links),
    right=around,
    after=st.one_of(st.just(""), texts),
    twice=st.booleans(),
    spoiler=st.sampled_from(["", "CW"]),
)
def test_links_counted_alike_count_as_the_exact_ones(
    before: str, left: str, link: str, right: str, after: str, twice: bool, spoiler: str
) -> None:
    text = before + left + link + right + after + (f" {link}" if twice else "")
    for platform in ("x", "mastodon"):
        rules = PLATFORMS[platform]
        exact = measure(text, rules, spoiler=spoiler)
        assert measure(text, rules, spoiler=spoiler, link=link) == exact


hashed_media: st.SearchStrategy[tuple[Media, ...]] = st.lists(
    st.builds(
        Media,
        st.text(max_size=8),
        st.just("/abs/card.png"),
        st.text(max_size=8),
        st.just("image/png"),
        st.none() | st.just("/abs/en.vtt"),
        st.none() | st.just("/abs/cover.jpg"),
    ),
    max_size=2,
).map(lambda items: tuple(items))


@settings(max_examples=1000, deadline=None)
@given(
    text=st.text(max_size=40),
    media=hashed_media,
    link=st.none() | st.text(max_size=20),
    language=st.none() | st.text(max_size=5),
)
def test_content_hashes_are_those_of_each_field_written_with_its_length(
    text: str, media: tuple[Media, ...], link: str | None, language: str | None
) -> None:
    """Each field written as its length, ':' and itself ('-' for none), then each media item:
    the payload content hashes have always been made of."""
    payload = "".join("-" if f is None else f"{len(f)}:{f}" for f in (text, link, language))
    payload += "".join(delivery._content(m) for m in media)
    expected = hashlib.blake2b(payload.encode("utf-8", "surrogatepass"), digest_size=16)
    assert delivery.hash_content(text, media, link, language) == expected.hexdigest()
