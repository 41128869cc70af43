"""Facebook Pages: the Graph API's feed, photos and videos of one Page."""

from __future__ import annotations

from campaigns.platformrules import GIF, JPEG, MEGABYTE, MP4, PNG, PlatformRules
from connectors.platform import PlatformSpec

PLATFORM = PlatformSpec(
    rules=PlatformRules(
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
        # Page videos up to 4 hours [3p ayrshare media-guidelines/facebook_pages]; the Graph
        # API takes a `thumb` image and SRT captions named by locale: set thumbnail_types and
        # caption_formats once sent.
        video_seconds=(0, 4 * 3600),
    ),
    connector="connectors.platforms.facebook.connector:FacebookConnector",
    fake="connectors.platforms.facebook.fake:FacebookFake",
    credentials=(("page_access_token",),),
    options=(("page_id", "the numeric id of the Page"),),
    default_channel="facebook-main",
)
