"""YouTube through the Data API v3: one video per post, uploaded with the resumable protocol.

The figures come from the API reference (videos resource, videos.insert) and YouTube Help:
a title of at most 100 characters and a description of at most 5,000 bytes, neither with
'<' or '>'; tags of at most 500 characters together; files of up to 256 GB. The post's
first line is the video's title and the whole text its description (docs/platforms/youtube.md).
"""

from __future__ import annotations

from campaigns.platformrules import MOV, MP4, PlatformRules
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
