"""X (Twitter): posts through the API v2 with tweepy; media through the v2 upload."""

from __future__ import annotations

from campaigns.platformrules import GIF, MEGABYTE, MOV, MP4, STILL, PlatformRules
from connectors.platform import PlatformSpec

# Up to 4 photos, or 1 GIF, or 1 video; GIF up to 15 MB and 1280x1080; a video on a post up
# to 8 GB and 20 minutes without X Premium (docs.x.com, media best practices, 2026).
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
        video_max_bytes=8_000 * MEGABYTE,
        gif_max_bytes=15 * MEGABYTE,
        video_alone=True,
        gif_max_size=(1280, 1080),
        link_display=23,
        # videos [doc x-api/media/quickstart/best-practices.mdx]: H.264 and AAC-LC, 32x32
        # to 1280x1024, 1:3 to 3:1, 60 fps or less; on a post 0.5 s to 20 minutes without
        # X Premium (140 s is now the cap of a video in a direct message; X refuses a longer
        # post with a 403 "not allowed to post a video longer than N minutes").
        # X takes SRT subtitles (media/subtitles/create): set caption_formats once sent.
        video_codecs=frozenset({"h264"}),
        audio_codecs=frozenset({"aac"}),
        video_seconds=(0.5, 20 * 60),
        video_max_size=(1280, 1024),
        video_min_size=(32, 32),
        video_aspect=(1 / 3, 3.0),
        video_frame_rate=(0, 60),
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
