"""YouTube through the Data API v3: one video per post, uploaded with the resumable protocol.

The figures come from the API reference (videos resource, videos.insert) and YouTube Help:
a title of at most 100 characters and a description of at most 5,000 bytes, neither with
'<' or '>'; tags of at most 500 characters together; files of up to 256 GB. The post's
first line is the video's title and the whole text its description (docs/platforms/youtube.md).
"""

from __future__ import annotations

from campaigns.platformrules import JPEG, MEGABYTE, MOV, MP4, PNG, PlatformRules
from connectors.platform import PlatformSpec

PLATFORM = PlatformSpec(
    rules=PlatformRules(
        "youtube",
        "YouTube",
        "codepoints",
        5000,
        max_bytes=5000,
        max_media=1,
        alt_text=False,  # a video has captions, not alt text
        media_types=frozenset({MP4, MOV}),
        video_max_bytes=256 * 1_000_000_000,
        video_alone=True,
        media_required=True,
        thread_style="comments",
        # up to 12 hours [YouTube Help, "Upload videos longer than 15 minutes"]; captions.insert
        # reads SRT and WebVTT among others; thumbnails.set takes JPEG or PNG up to 2 MB
        # [Data API reference, thumbnails.set]
        video_seconds=(0, 12 * 3600),
        caption_formats=frozenset({"srt", "vtt"}),
        thumbnail_types=frozenset({JPEG, PNG}),
        thumbnail_max_bytes=2 * MEGABYTE,
    ),
    connector="connectors.platforms.youtube.connector:YouTubeConnector",
    fake="connectors.platforms.youtube.fake:YouTubeFake",
    credentials=(("client_id", "client_secret", "refresh_token"),),
    options=(
        (
            "made_for_kids",
            "true or false: whether this channel's videos are made for children. The law "
            "(COPPA in the US, and YouTube's terms everywhere) requires saying it for every "
            "video, and Clarion never guesses it",
        ),
    ),
    choices=(
        ("made_for_kids", (True, False)),
        ("privacy", ("public", "unlisted", "private")),
    ),
    login="connectors.platforms.youtube.login:login",
    default_channel="youtube-main",
)
