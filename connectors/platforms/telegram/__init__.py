"""Telegram: a bot posting in a channel through the Bot API."""

from __future__ import annotations

from campaigns.platformrules import JPEG, MEGABYTE, MP4, PNG, WEBP, PlatformRules
from connectors.platform import PlatformSpec

PLATFORM = PlatformSpec(
    rules=PlatformRules(
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
        # sendVideo: "Telegram clients support MPEG4 videos"; its `thumbnail` is a JPEG
        # under 200 kB, at most 320x320 [doc Bot API sendVideo]. No caption files.
        thumbnail_types=frozenset({JPEG}),
        thumbnail_max_bytes=200_000,
    ),
    connector="connectors.platforms.telegram.connector:TelegramConnector",
    fake="connectors.platforms.telegram.fake:TelegramFake",
    credentials=(("bot_token",),),
    options=(("chat_id", "the channel to post in: '@channelname' or its numeric id"),),
    default_channel="telegram-news",
)
