"""Bluesky: the AT Protocol's XRPC on the account's PDS."""

from __future__ import annotations

from campaigns.platformrules import MEGABYTE, MP4, STILL, PlatformRules
from connectors.platform import PlatformSpec

PLATFORM = PlatformSpec(
    rules=PlatformRules(
        "bluesky",
        "Bluesky",
        "bluesky",
        300,
        max_bytes=3000,
        max_media=4,
        image_max_bytes=2_000_000,
        alt_max=2000,
        # a GIF would stand still; video: app.bsky.embed.video takes MP4 up to 300 MB (its
        # lexicon and the Bluesky app), one per post and nothing beside it
        media_types=STILL | {MP4},
        video_max_bytes=300 * MEGABYTE,
        video_alone=True,
        link_display=27,
        # videos up to 10 min and 300 MB (social-app src/lib/constants.ts, VIDEO_MAX_DURATION_MS
        # and VIDEO_MAX_SIZE; 3 min before, bsky.social blog, March 2025); 1 s at least, 1:3 to
        # 3:1 [3p ayrshare media-guidelines/bluesky]. Captions: WebVTT files, one per language
        # (the lexicon's `captions`, up to 20,000 bytes each; the connector turns SRT into
        # WebVTT); no cover image.
        video_seconds=(1, 600),
        captions_max_bytes=20_000,
        video_aspect=(1 / 3, 3.0),
        caption_formats=frozenset({"srt", "vtt"}),
    ),
    connector="connectors.platforms.bluesky.connector:BlueskyConnector",
    fake="connectors.platforms.bluesky.fake:FakeBluesky",
    credentials=(("identifier", "app_password"),),
    login="connectors.platforms.bluesky.connector:login",
    default_channel="bluesky-main",
)
