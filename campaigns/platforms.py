"""What each platform accepts in a post: the one table that plans and connectors both read.

Figures come from the platforms' own documentation, gathered in platform-notes.md; a channel
in config.yaml can raise `max_length` (X Premium, Mastodon instances with larger limits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Counter = Literal["twitter", "mastodon", "bluesky", "codepoints", "utf16"]

PNG, JPEG, GIF, WEBP = "image/png", "image/jpeg", "image/gif", "image/webp"
MP4, MOV = "video/mp4", "video/quicktime"
STILL = frozenset({PNG, JPEG, WEBP})
MEGABYTE = 1_000_000
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
    media_types: frozenset[str] = STILL | {GIF}
    """What our connector for the platform can post (and the platform accepts)."""
    video_max_bytes: int | None = None
    gif_max_bytes: int | None = None
    """Animated GIFs, where their cap differs from images' (X)."""
    video_alone: bool = False
    """A video or GIF must be the post's only media (X, Mastodon)."""
    max_pixels: int | None = None
    """Width times height of an image (Mastodon's image_matrix_limit)."""
    max_side_sum: int | None = None
    """Width + height of an image (Telegram photos)."""
    max_aspect: float | None = None
    """Longest side / shortest side of an image (Telegram photos)."""
    gif_max_size: tuple[int, int] | None = None
    """Width and height of an animated GIF (X)."""
    thread_style: ThreadStyle = "replies"
    """How a thread's later parts go out: as replies to the part before (X, Mastodon,
    Bluesky, Telegram, Threads), as comments on the first post (LinkedIn, Facebook), or as
    separate messages (webhooks)."""


PLATFORMS: dict[str, PlatformRules] = {
    rules.name: rules
    for rules in (
        # X: up to 4 photos, or 1 GIF, or 1 video; GIF up to 15 MB and 1280x1080; video 512 MB
        PlatformRules(
            "x",
            "X",
            "twitter",
            280,
            max_media=4,
            image_max_bytes=5_000_000,
            alt_max=1000,
            media_types=STILL | {GIF, MP4, MOV},
            video_max_bytes=512 * MEGABYTE,
            gif_max_bytes=15 * MEGABYTE,
            video_alone=True,
            gif_max_size=(1280, 1080),
        ),
        PlatformRules(
            "mastodon",
            "Mastodon",
            "mastodon",
            500,
            max_media=4,
            image_max_bytes=16_777_216,
            alt_max=1500,
            media_types=STILL | {GIF, MP4, MOV},
            video_max_bytes=103_809_024,
            video_alone=True,
            max_pixels=33_177_600,
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
            media_types=STILL,  # the connector posts images only; a GIF would stand still
        ),
        PlatformRules(
            "linkedin",
            "LinkedIn",
            "codepoints",
            3000,
            max_media=20,
            image_max_bytes=36_000_000,
            alt_max=4086,
            media_types=frozenset({PNG, JPEG, GIF}),  # the Images API; no video upload
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
            media_types=frozenset({PNG, JPEG, WEBP, MP4}),  # sendPhoto and sendVideo
            video_max_bytes=50 * MEGABYTE,  # what a bot may upload
            max_side_sum=10_000,
            max_aspect=20.0,
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
            media_types=frozenset({PNG, JPEG, MP4, MOV}),
            video_max_bytes=1000 * MEGABYTE,
        ),
        PlatformRules(
            "facebook",
            "Facebook",
            "codepoints",
            63_206,
            max_media=10,
            image_max_bytes=4_000_000,
            alt_max=1000,
            media_types=frozenset({PNG, JPEG, GIF}),  # the connector posts photos only
            thread_style="comments",
        ),
        PlatformRules(
            "webhook",
            "Webhook",
            "codepoints",
            40_000,
            max_media=10,
            image_max_bytes=25_000_000,
            media_types=STILL | {GIF, MP4, MOV},  # sent as names or addresses, not uploaded
            video_max_bytes=25_000_000,
            thread_style="separate",
        ),
    )
}
