"""X (Twitter): posts through the API v2 with tweepy; media through the v2 upload."""

from __future__ import annotations

from campaigns.platformrules import GIF, MEGABYTE, MOV, MP4, STILL, PlatformRules
from connectors.platform import PlatformSpec

# Up to 4 photos, or 1 GIF, or 1 video; GIF up to 15 MB and 1280x1080; video 512 MB.
PLATFORM = PlatformSpec(
    rules=PlatformRules(
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
        link_display=23,
    ),
    connector="connectors.platforms.x.connector:XConnector",
    fake="connectors.platforms.x.fake:XFake",
    credentials=(
        ("consumer_key", "consumer_secret", "access_token", "access_token_secret"),
        ("oauth2_access_token",),
    ),
    login="connectors.platforms.x.connector:login",
    default_channel="x-main",
)
