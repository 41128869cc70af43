"""What each platform accepts in a post: the one table that plans and connectors both read.

Figures come from the platforms' own documentation, gathered in platform-notes.md; a channel
in config.yaml can raise `max_length` (X Premium, Mastodon instances with larger limits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Counter = Literal["twitter", "mastodon", "bluesky", "codepoints", "utf16"]
ThreadStyle = Literal["replies", "comments", "separate"]


@dataclass(frozen=True, slots=True)
class PlatformRules:
    name: str
    label: str
    counter: Counter
    """How the platform counts text; campaigns.length implements each rule."""
    max_length: int
    max_bytes: int | None = None
    """A second cap in UTF-8 bytes (Bluesky)."""
    caption_length: int | None = None
    """The cap on text sent with media, where it differs (Telegram captions)."""
    max_media: int = 4
    image_max_bytes: int = 5_000_000
    alt_text: bool = True
    alt_max: int | None = None
    thread_style: ThreadStyle = "replies"
    """How a thread's later parts go out: as replies to the part before (X, Mastodon,
    Bluesky, Telegram, Threads), as comments on the first post (LinkedIn, Facebook), or as
    separate messages (webhooks)."""


PLATFORMS: dict[str, PlatformRules] = {
    rules.name: rules
    for rules in (
        PlatformRules(
            "x", "X", "twitter", 280, max_media=4, image_max_bytes=5_000_000, alt_max=1000
        ),
        PlatformRules(
            "mastodon",
            "Mastodon",
            "mastodon",
            500,
            max_media=4,
            image_max_bytes=16_777_216,
            alt_max=1500,
        ),
        PlatformRules(
            "bluesky",
            "Bluesky",
            "bluesky",
            300,
            max_bytes=3000,
            max_media=4,
            image_max_bytes=2_000_000,
            alt_max=2000,
        ),
        PlatformRules(
            "linkedin",
            "LinkedIn",
            "codepoints",
            3000,
            max_media=20,
            image_max_bytes=36_000_000,
            alt_max=4086,
            thread_style="comments",
        ),
        PlatformRules(
            "telegram",
            "Telegram",
            "codepoints",
            4096,
            caption_length=1024,
            max_media=10,
            image_max_bytes=10_000_000,
            alt_text=False,
        ),
        # Threads holds posts to 500 UTF-8 bytes as well as 500 characters: Meta's page says
        # "emojis are counted as the number of UTF-8 bytes", and production rejections
        # (gitroomhq/postiz-app PR #1946) include a 498-character post of 504 bytes.
        PlatformRules(
            "threads",
            "Threads",
            "codepoints",
            500,
            max_bytes=500,
            max_media=20,
            image_max_bytes=8_000_000,
            alt_max=1000,
        ),
        PlatformRules(
            "facebook",
            "Facebook",
            "codepoints",
            63_206,
            max_media=10,
            image_max_bytes=4_000_000,
            alt_max=1000,
            thread_style="comments",
        ),
        PlatformRules(
            "webhook",
            "Webhook",
            "codepoints",
            40_000,
            max_media=10,
            image_max_bytes=25_000_000,
            thread_style="separate",
        ),
    )
}
