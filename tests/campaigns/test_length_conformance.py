"""Conformance of campaigns.length with data nobody on this project wrote.

* twitter-text's own conformance files (tests/conformance/twitter-text, Apache-2.0, copied
  unmodified from twitter/twitter-text `conformance/` and `config/`):
  - validate.yml `WeightedTweetsWithDiscountedEmojiCounterTest` and
    `UnicodeDirectionalMarkerCounterTest`, the sections that use config v3 (X's current rule):
    weightedLength and valid must agree.
  - extract.yml `urls`, `urls_with_indices`, `urls_with_directional_markers` and
    `tco_urls_with_params` (which substrings count 23), and tlds.yml (every top-level domain).
  - extract.yml `hashtags`, `hashtags_from_astral`, `hashtags_with_indices` for `hashtags()`.
  Not run, on purpose: validate.yml `tweets` (the retired 140-character rule),
  `WeightedTweetsCounterTest` (config v2, emoji per code point, no longer X's rule),
  `usernames`/`lists`/`hashtags`/`urls`/`urls_without_protocol` (validators of a lone
  username, list, hashtag or URL string, not detection in text), and extract.yml's mentions,
  replies and cashtags (nothing in X's count depends on them).
* Mastodon lengths measured against a real Mastodon server (Mastodon.py's tests, MIT), in
  tests/conformance/mastodon-py.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from campaigns import _twitter_text
from campaigns.length import hashtags, measure, twitter_urls
from campaigns.platforms import PLATFORMS

CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance"
TWITTER_TEXT = CONFORMANCE / "twitter-text"
X = PLATFORMS["x"]
MASTODON = PLATFORMS["mastodon"]


def _load(name: str) -> dict[str, list[dict[str, Any]]]:
    with (TWITTER_TEXT / name).open(encoding="utf-8") as f:
        tests: dict[str, list[dict[str, Any]]] = yaml.safe_load(f)["tests"]
    return tests


def _cases(name: str, *sections: str) -> list[Any]:
    tests = _load(name)
    return [
        pytest.param(case, id=f"{section}: {case['description']}")
        for section in sections
        for case in tests[section]
    ]


def test_the_weights_are_config_v3() -> None:
    config = json.loads((TWITTER_TEXT / "config" / "v3.json").read_text(encoding="utf-8"))
    assert config["maxWeightedTweetLength"] == X.max_length == _twitter_text.MAX_WEIGHTED_LENGTH
    assert config["scale"] == _twitter_text.SCALE
    assert config["defaultWeight"] == _twitter_text.DEFAULT_WEIGHT
    assert config["transformedURLLength"] == _twitter_text.TRANSFORMED_URL_LENGTH
    assert config["emojiParsingEnabled"] is True
    ranges = tuple((r["start"], r["end"], r["weight"]) for r in config["ranges"])
    assert ranges == _twitter_text.RANGES


@pytest.mark.parametrize(
    "case",
    _cases(
        "validate.yml",
        "WeightedTweetsWithDiscountedEmojiCounterTest",
        "UnicodeDirectionalMarkerCounterTest",
    ),
)
def test_weighted_length(case: dict[str, Any]) -> None:
    measured = measure(case["text"], X)
    expected = case["expected"]
    assert measured.length == expected["weightedLength"]
    # twitter-text's `valid` also requires a non-empty text
    assert (measured.valid and measured.length > 0) == expected["valid"]


@pytest.mark.parametrize(
    "case",
    _cases(
        "extract.yml",
        "urls",
        "urls_with_indices",
        "urls_with_directional_markers",
        "tco_urls_with_params",
    ),
)
def test_url_detection(case: dict[str, Any]) -> None:
    text = case["text"]
    spans = twitter_urls(text)
    expected = case["expected"]
    if expected and isinstance(expected[0], dict):
        assert [(text[s:e], [s, e]) for s, e in spans] == [
            (e["url"], e["indices"]) for e in expected
        ]
    else:
        assert [text[s:e] for s, e in spans] == expected


@pytest.mark.parametrize("case", _cases("tlds.yml", "country", "generic"))
def test_every_top_level_domain(case: dict[str, Any]) -> None:
    text = case["text"]
    assert [text[s:e] for s, e in twitter_urls(text)] == case["expected"]
    # and the URL is what X counts as 23
    assert measure(text, X).length == 23


@pytest.mark.parametrize(
    "case", _cases("extract.yml", "hashtags", "hashtags_from_astral", "hashtags_with_indices")
)
def test_hashtags(case: dict[str, Any]) -> None:
    expected = case["expected"]
    if expected and isinstance(expected[0], dict):
        expected = [e["hashtag"] for e in expected]
    assert hashtags(case["text"]) == expected


def _mastodon_cases() -> list[Any]:
    path = CONFORMANCE / "mastodon-py" / "status_length.py"
    spec = importlib.util.spec_from_file_location("mastodon_status_length", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cases: list[tuple[str, int]] = module.STATUS_LENGTH_CASES
    return [pytest.param(text, expected, id=repr(text)[:60]) for text, expected in cases]


@pytest.mark.parametrize(("text", "expected"), _mastodon_cases())
def test_mastodon_ground_truth(text: str, expected: int) -> None:
    assert measure(text, MASTODON).length == expected
    assert measure(text, MASTODON, spoiler="what").length == expected + 4
