"""Mastodon: any instance's REST API, with Idempotency-Key on every post."""

from __future__ import annotations

from campaigns.platformrules import GIF, MOV, MP4, STILL, PlatformRules
from connectors.platform import PlatformSpec

PLATFORM = PlatformSpec(
    rules=PlatformRules(
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
        link_display=30,
        # mastodon.social's /api/v2/instance: video_matrix_limit 8294400 (3840x2160),
        # video_frame_rate_limit 120 [mastodon/mastodon discussion #26709; masto.js
        # InstanceMediaAttachmentsConfiguration]. POST /api/v2/media takes a `thumbnail`
        # image with a video [doc methods/media.md]; no caption file.
        thumbnail_types=STILL,
        video_max_pixels=8_294_400,
        video_frame_rate=(0, 120),
    ),
    connector="connectors.platforms.mastodon.connector:MastodonConnector",
    fake="connectors.platforms.mastodon.fake:MastodonFake",
    credentials=(("access_token",),),
    base_url="the instance's address, such as https://mastodon.social",
    login="connectors.platforms.mastodon.connector:login",
    default_channel="mastodon-main",
    content_warning=True,
)
