"""Facets are found exactly where the official Bluesky app finds them.

The vectors are those of @atproto/api's own tests (tests/connectors/data/atproto/
rich-text-detection.json, MIT/Apache-2.0); the differential test runs the official code.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.platforms.bluesky.richtext import Facet, detect_facets
from tests.connectors.platforms.bluesky.peer import official_facets

VECTORS = json.loads(
    (Path(__file__).parent / "data" / "atproto" / "rich-text-detection.json").read_text()
)


def segments(text: str, facets: list[Facet]) -> list[list[str]]:
    """The text cut at the facets, as @atproto/api's RichText.segments() yields it; a facet
    segment carries its value (a mention's DID is faked as upstream does: did:fake:HANDLE)."""
    data = text.encode()
    found: list[list[str]] = []
    cursor = 0
    for facet in facets:
        if facet.start > cursor:
            found.append([data[cursor : facet.start].decode()])
        value = f"did:fake:{facet.value}" if facet.kind == "mention" else facet.value
        found.append([data[facet.start : facet.end].decode(), value])
        cursor = facet.end
    if cursor < len(data):
        found.append([data[cursor:].decode()])
    return found


@pytest.mark.parametrize(
    "case", VECTORS["segments"], ids=[case["text"][:40] for case in VECTORS["segments"]]
)
def test_mentions_and_links_match_upstream_vectors(case: dict[str, Any]) -> None:
    assert segments(case["text"], detect_facets(case["text"])) == case["segments"]


@pytest.mark.parametrize(
    "case", VECTORS["tags"], ids=[ascii(case["text"])[:40] for case in VECTORS["tags"]]
)
def test_hashtags_match_upstream_vectors(case: dict[str, Any]) -> None:
    facets = detect_facets(case["text"])
    assert [f.value for f in facets if f.kind == "tag"] == case["tags"]
    assert [{"byteStart": f.start, "byteEnd": f.end} for f in facets] == case["indices"]


def test_offsets_are_utf8_bytes() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f467"  # 25 bytes
    text = f"{family} #SayNo https://example.org/é ok"
    tag, link = detect_facets(text)
    assert (tag.start, tag.end, tag.value) == (26, 32, "SayNo")
    assert (link.start, link.end) == (33, 33 + len("https://example.org/é".encode()))
    assert text.encode()[link.start : link.end].decode() == link.value


def test_cashtags_are_tags_in_upper_case() -> None:
    assert detect_facets("buy $abc, not $12 (or $TOOLONG)") == [Facet(4, 8, "tag", "$ABC")]


def test_facet_json_is_the_lexicon_shape() -> None:
    assert Facet(0, 4, "mention", "did:plc:abc").as_json() == {
        "$type": "app.bsky.richtext.facet",
        "index": {"byteStart": 0, "byteEnd": 4},
        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:abc"}],
    }


@given(
    st.text(
        alphabet=st.sampled_from(list("#\uff03@$.:/()-_ a1éß🦋\u200b\ufe0f\u20e3\n"))
        | st.characters(exclude_categories=["Cs"])  # a lone surrogate is refused before this
    )
)
def test_facets_always_fall_on_character_boundaries_in_order(text: str) -> None:
    data = text.encode()
    facets = detect_facets(text)
    assert [f.start for f in facets] == sorted(f.start for f in facets)
    for facet in facets:
        assert 0 <= facet.start < facet.end <= len(data)
        data[facet.start : facet.end].decode()  # whole characters only


PIECES = [
    "#SayNo",
    "#SaferInternetDay",
    "\uff03tag",
    "#1",
    "#a1",
    "##x",
    "#\ufe0f\u20e3",
    "#t\u200bag",
    "@alice.test",
    "@bob.bsky.social",
    "@not_a.handle",
    "(@carol.test)",
    "https://example.org/sayno?utm_source=bsky",
    "example.org",
    "example.org/path.",
    "file.jpg",
    "e.g.",
    "(https://x.com/a_(b))",
    "$SAYNO",
    "$x1",
    "é",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f467",
    "🦋",
    "\n",
    " ",
    "  ",
    ".",
    ",",
    "!",
    "?",
    ")",
    "(",
    ":",
    "word",
    "Mot",
    "ß",
    "日本語",
    "\u00a0",
    "\u3000",
    "#日本",
    "#тег",
    "HTTPS://EXAMPLE.COM",
    "bsky.app:",
]


@pytest.mark.node
def test_same_facets_as_the_official_code_on_mixed_texts() -> None:
    rng = random.Random(20270209)
    texts = [c["text"] for c in VECTORS["segments"] + VECTORS["tags"]]
    texts += ["".join(rng.choices(PIECES, k=rng.randint(1, 12))) for _ in range(400)]
    expected = official_facets(texts)
    for text, official in zip(texts, expected, strict=True):
        assert [f.as_json() for f in detect_facets(text)] == [
            {"$type": "app.bsky.richtext.facet", **facet} for facet in _typed(official)
        ], text


def _typed(facets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Upstream leaves `$type` off some facets; compare everything else."""
    return [{k: v for k, v in facet.items() if k != "$type"} for facet in facets]
