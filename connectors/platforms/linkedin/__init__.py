"""LinkedIn: the versioned Posts and Images APIs, for an organisation or a member."""

from __future__ import annotations

from campaigns.platformrules import GIF, JPEG, MEGABYTE, MP4, PNG, PlatformRules
from connectors.platform import PlatformSpec

PLATFORM = PlatformSpec(
    rules=PlatformRules(
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
        # videos: MP4, 3 s to 30 min, 1:2.4 to 2.4:1 [3p ayrshare media-guidelines/linkedin];
        # the Videos API takes captions (SRT) and a thumbnail with initializeUpload: set
        # caption_formats and thumbnail_types once sent.
        video_seconds=(3, 30 * 60),
        video_aspect=(1 / 2.4, 2.4),
    ),
    connector="connectors.platforms.linkedin.connector:LinkedInConnector",
    fake="connectors.platforms.linkedin.fake:LinkedInFake",
    credentials=(("access_token",),),
    options=(("author", "who posts: 'urn:li:organization:…' or 'urn:li:person:…'"),),
    default_channel="linkedin-main",
)
