"""Instagram: professional (business or creator) accounts, through the Instagram Graph API's
content publishing (Facebook Login). Data only: see docs/platforms/instagram.md."""

from __future__ import annotations

from campaigns.platformrules import JPEG, MEGABYTE, MOV, MP4, PlatformRules
from connectors.platform import PlatformSpec

PLATFORM = PlatformSpec(
    rules=PlatformRules(
        "instagram",
        "Instagram",
        # Meta does not say how a caption is counted: UTF-16 units never count fewer
        # characters than Instagram's apps do.
        "utf16",
        2200,
        max_media=10,
        image_max_bytes=8 * MEGABYTE,
        alt_max=1000,
        media_types=frozenset({JPEG, MP4, MOV}),
        video_max_bytes=300 * MEGABYTE,
        # Reels, as IG User Media's specifications say: MOV or MP4, H.264 or HEVC with AAC,
        # 3 s to 15 min, 23 to 60 fps, 0.01:1 to 10:1; the thumbnail goes as the reel's
        # cover_url, a JPEG up to 8 MB; no caption files
        video_codecs=frozenset({"h264", "hevc"}),
        audio_codecs=frozenset({"aac"}),
        video_seconds=(3, 15 * 60),
        video_aspect=(0.01, 10.0),
        video_frame_rate=(23, 60),
        thumbnail_types=frozenset({JPEG}),
        thumbnail_max_bytes=8 * MEGABYTE,
        thread_style="comments",
        media_required=True,
        # The API reference still says 30; Instagram has allowed five per post since
        # December 2025.
        max_hashtags=5,
        max_mentions=20,
        aspect_range=(4 / 5, 1.91),
    ),
    connector="connectors.platforms.instagram.connector:InstagramConnector",
    fake="connectors.platforms.instagram.fake:InstagramFake",
    credentials=(("access_token",),),
    options=(
        (
            "user_id",
            "the id of the Instagram professional account that posts (clarion login shows it)",
        ),
        (
            "media_base_url",
            "the public address where Instagram downloads the campaign's media files",
        ),
    ),
    login="connectors.platforms.instagram.login:login",
    default_channel="instagram-main",
)
