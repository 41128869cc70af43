from __future__ import annotations

import pytest

from campaigns.render import compose, tracked_url

TAGS = ["#SayNo", "#SaferInternetDay"]
VALUES = {
    "campaign": "sayno-2027",
    "post": "tips",
    "channel": "x-main",
    "platform": "x",
    "language": "pt-BR",
}


def test_missing_hashtags_and_the_link_are_appended() -> None:
    composed = compose("Be safe online. ", TAGS, "https://example.org", first=True)
    assert composed.text == "Be safe online.\n\n#SayNo #SaferInternetDay\nhttps://example.org"
    assert composed.added_hashtags == ("#SayNo", "#SaferInternetDay")
    assert composed.link_appended


@pytest.mark.parametrize(
    "text", ["#sayno and #SAFERINTERNETDAY", "Say no! #SayNo, #saferinternetday."]
)
def test_hashtags_present_in_any_case_are_never_doubled(text: str) -> None:
    composed = compose(text, TAGS, None, first=True)
    assert composed.text == text
    assert composed.added_hashtags == ()


def test_a_hashtag_required_twice_is_added_once() -> None:
    composed = compose("Hi", ["#SayNo", "#sayno", "#Other"], None, first=True)
    assert composed.text == "Hi\n\n#SayNo #Other"


def test_a_hashtag_inside_a_word_or_url_does_not_count() -> None:
    composed = compose("See https://example.org/#SayNo", ["#SayNo"], None, first=True)
    assert composed.added_hashtags == ("#SayNo",)


def test_link_placeholder_is_substituted_and_not_appended() -> None:
    composed = compose("Read {link} now", [], "https://example.org/a", first=True)
    assert composed.text == "Read https://example.org/a now"
    assert not composed.link_appended


def test_later_thread_parts_get_neither_hashtags_nor_link() -> None:
    composed = compose("2/ more", TAGS, "https://example.org", first=False)
    assert composed.text == "2/ more"
    assert (
        compose("2/ see {link}", TAGS, "https://e.org", first=False).text == "2/ see https://e.org"
    )


def test_utm_templates_are_filled_and_encoded() -> None:
    url = tracked_url(
        "https://example.org/sayno",
        {"source": "{platform}", "medium": "social media", "content": "{post}/{language}"},
        VALUES,
    )
    assert url == (
        "https://example.org/sayno?utm_source=x&utm_medium=social%20media&utm_content=tips%2Fpt-BR"
    )


def test_utm_merges_with_the_links_own_query_and_keeps_the_fragment() -> None:
    url = tracked_url(
        "https://example.org/p?lang=fr&utm_source=old&q=a%20b#top",
        {"source": "{channel}", "campaign": "{campaign}", "term": None, "content": ""},
        VALUES,
    )
    assert url == (
        "https://example.org/p?lang=fr&q=a%20b&utm_source=x-main&utm_campaign=sayno-2027#top"
    )


def test_empty_utm_leaves_the_link_alone() -> None:
    assert tracked_url("https://example.org/x?a=1", {"term": "{language}"}, {"language": ""}) == (
        "https://example.org/x?a=1"
    )
