"""The plan checks that Instagram's rules call for: media in every post, hashtags and
@mentions counted, the images' aspect ratio."""

from __future__ import annotations

from pathlib import Path

from campaigns import KnownChannel
from tests.videos import clip, still

from .plan_helpers import OPTIONS, campaign, load, located

HEADER = """\
campaign: test
title: Test
timezone: Europe/Brussels
anchors: {sid: 2027-02-09}
channels: [instagram-main]
"""
CHANNELS = {**OPTIONS.channels, "instagram-main": KnownChannel("instagram-main", "instagram")}


def problems(tmp_path: Path, posts: str) -> list[str]:
    plan = load(tmp_path, campaign(posts, HEADER), channels=CHANNELS)
    return located(plan)


def test_a_post_without_media_is_an_error(tmp_path: Path) -> None:
    assert problems(tmp_path, "- {id: a, at: sid 09:00, text: Hi}") == [
        "7:5 error: Instagram posts need a video or photos, and this post has none (instagram-main)"
    ]


def test_six_hashtags_are_one_too_many(tmp_path: Path) -> None:
    still(tmp_path / "card.jpg", size=(1080, 1080))
    tags = " ".join(f"#tag{i}" for i in range(6))
    found = problems(
        tmp_path,
        f"- {{id: a, at: sid 09:00, text: '{tags}', media: [{{file: card.jpg, alt: A card}}]}}",
    )
    assert found == [
        "7:34 error: text for instagram-main has 6 hashtags; Instagram allows 5 in a post"
    ]


def test_twenty_one_mentions_are_one_too_many(tmp_path: Path) -> None:
    still(tmp_path / "card.jpg", size=(1080, 1080))
    names = " ".join(f"@friend.{i}" for i in range(21))
    found = problems(
        tmp_path,
        f"- {{id: a, at: sid 09:00, text: '{names} write@example.org', "
        "media: [{file: card.jpg, alt: A card}]}",
    )
    assert [p.split(": ", 1)[1] for p in found] == [
        "text for instagram-main has 21 @mentions; Instagram allows 20 in a post"
    ]


def test_an_image_taller_than_four_by_five_is_refused(tmp_path: Path) -> None:
    still(tmp_path / "story.jpg", size=(1080, 1920))
    still(tmp_path / "square.jpg", size=(1080, 1080))
    found = problems(
        tmp_path,
        "- {id: a, at: sid 09:00, text: Hi, media: "
        "[{file: story.jpg, alt: Tall}, {file: square.jpg, alt: Square}]}",
    )
    assert [p.split(": ", 1)[1] for p in found] == [
        "'story.jpg' is 1080x1920, 0.56 times as wide as high; Instagram accepts images from "
        "0.80 (portrait) to 1.91 (landscape) (instagram-main)"
    ]


def test_a_png_is_not_posted_to_instagram(tmp_path: Path) -> None:
    (tmp_path / "card.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    found = problems(
        tmp_path, "- {id: a, at: sid 09:00, text: Hi, media: [{file: card.png, alt: A card}]}"
    )
    assert any("Clarion cannot post a PNG image ('card.png') to Instagram" in p for p in found)


def test_a_reel_shorter_than_three_seconds_is_refused(tmp_path: Path) -> None:
    clip(tmp_path / "short.mp4", seconds=2, size=(360, 640))
    found = problems(
        tmp_path, "- {id: a, at: sid 09:00, text: Hi, media: [{file: short.mp4, alt: A clip}]}"
    )
    assert found == [
        "7:53 error: 'short.mp4' is 2 s long; Instagram takes videos of at least 3 s "
        "(instagram-main)"
    ]
