"""Threads: Meta's Threads API, a media container then its publication."""

from __future__ import annotations

from campaigns.platformrules import JPEG, MEGABYTE, MOV, MP4, PNG, PlatformRules
from connectors.platform import PlatformSpec

# Threads holds posts to 500 UTF-8 bytes as well as 500 characters: Meta's page says
# "emojis are counted as the number of UTF-8 bytes", and production rejections
# (gitroomhq/postiz-app PR #1946) include a 498-character post of 504 bytes.
PLATFORM = PlatformSpec(
    rules=PlatformRules(
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
        link_display=30,
        # video [3p ayrshare / getlate, platform-notes.md]: MOV or MP4, up to 5 min,
        # 23 to 60 fps, H.264 or HEVC with AAC; no caption files, no cover image
        video_codecs=frozenset({"h264", "hevc"}),
        audio_codecs=frozenset({"aac"}),
        video_seconds=(0, 5 * 60),
        video_frame_rate=(23, 60),
    ),
    connector="connectors.platforms.threads.connector:ThreadsConnector",
    fake="connectors.platforms.threads.fake:ThreadsFake",
    credentials=(("access_token",),),
    options=(("user_id", "the Threads user id that posts"),),
    default_channel="threads-main",
)
