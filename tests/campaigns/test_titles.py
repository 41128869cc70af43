"""A YouTube post's title (its first line), the characters YouTube refuses and the tags its
hashtags become, checked when the plan is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from campaigns.channels import KnownChannel
from campaigns.length import distinct_hashtags, tags_length, title_of
from tests.campaigns.plan_helpers import CHANNELS, campaign, load
from tests.videos import clip, still

YOUTUBE = {**CHANNELS, "youtube-main": KnownChannel("youtube-main", "youtube")}
HEADER = (
    "campaign: test\ntitle: Test\ntimezone: UTC\nanchors: {sid: 2027-02-09}\n"
    "channels: [youtube-main]\n"
)


def problems(tmp_path: Path, text: str, hashtags: str = "[]") -> list[str]:
    clip(tmp_path / "clip.mp4", seconds=1, size=(240, 320))
    post = f"""\
- id: clip
  at: sid 09:00
  hashtags: {hashtags}
  text: {json.dumps(text)}
  media: [{{file: clip.mp4}}]
"""
    plan = load(tmp_path, campaign(post, HEADER), channels=YOUTUBE)
    return [f"{p.severity}: {p.message}" for p in plan.problems]


def test_a_good_title_a_description_and_a_video_pass(tmp_path: Path) -> None:
    assert problems(tmp_path, "Say no\n\nTell someone you trust. #SayNo") == []


def test_a_title_over_100_characters_is_an_error(tmp_path: Path) -> None:
    assert problems(tmp_path, "a" * 101 + "\nThe rest") == [
        "error: the first line of the text is the video's title on youtube-main: it is 101 "
        "characters, and YouTube allows 100"
    ]


def test_angle_brackets_are_refused(tmp_path: Path) -> None:
    assert problems(tmp_path, "Say no\n<3 from all of us") == [
        "error: the text for youtube-main holds '<', which YouTube refuses in a title or "
        "description"
    ]


def test_the_tags_count_as_youtube_counts_them(tmp_path: Path) -> None:
    tags = [f"#Tag{i:03d}{'x' * 40}" for i in range(11)]  # 11 x 46 + 10 commas = 516
    found = problems(tmp_path, "Say no", hashtags="[" + ", ".join(f'"{t}"' for t in tags) + "]")
    assert any(
        "the hashtags for youtube-main become the video's tags, 516 characters with the commas "
        "between them; YouTube allows 475" in p
        for p in found
    )


@pytest.mark.parametrize(
    ("text", "title"), [("\n  Title  \nrest", "Title"), ("One line", "One line"), ("", "")]
)
def test_the_title_is_the_first_line_not_blank(text: str, title: str) -> None:
    assert title_of(text) == title


def test_tags_are_counted_with_commas_and_quoted_spaces() -> None:
    assert tags_length(["Foo-Baz"]) == 7
    assert tags_length(["Foo Baz"]) == 9
    assert tags_length(["a", "b"]) == 3
    assert distinct_hashtags("#SayNo #sayno #Help") == ["SayNo", "Help"]


def test_a_post_without_a_video_is_an_error_on_youtube(tmp_path: Path) -> None:
    post = "- id: words\n  at: sid 09:00\n  text: Say no\n"
    plan = load(tmp_path, campaign(post, HEADER), channels=YOUTUBE)
    assert [(p.severity, "YouTube posts need" in p.message) for p in plan.problems] == [
        ("error", True)
    ]


def test_a_picture_for_youtube_is_refused_with_what_it_takes(tmp_path: Path) -> None:
    still(tmp_path / "card.png")
    post = "- {id: card, at: sid 09:00, text: Say no, media: [{file: card.png, alt: A card}]}"
    plan = load(tmp_path, campaign(post, HEADER), channels=YOUTUBE)
    [problem] = [p for p in plan.problems if "card.png" in p.message]
    assert problem.message == (
        "Clarion cannot post a PNG image ('card.png') to YouTube (youtube-main)"
    )
    assert problem.hint is not None
    assert problem.hint.startswith("YouTube takes only MP4, MOV videos from Clarion;")
