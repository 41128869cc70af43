"""The rules of every platform, by name: the one table that plans and connectors both read."""

from __future__ import annotations

from campaigns.platformrules import GIF, JPEG, MEGABYTE, MOV, MP4, PNG, STILL, WEBP, PlatformRules

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
            media_types=frozenset({PNG, JPEG, GIF, MP4}),  # the Images and Videos APIs
            video_max_bytes=500 * MEGABYTE,
            video_alone=True,
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
            media_types=frozenset({PNG, JPEG, GIF, MP4}),  # photos, and videos (resumable upload)
            video_max_bytes=10_000 * MEGABYTE,
            video_alone=True,
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
