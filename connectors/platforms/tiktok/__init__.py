"""TikTok through its Content Posting API: videos, posted directly or sent to the creator's
inbox as drafts, and photo posts fetched from `media_base_url`."""

from __future__ import annotations

from campaigns.platformrules import JPEG, MOV, MP4, WEBP, PlatformRules
from connectors.platform import PlatformSpec

FLAGS = ("comments", "duets", "stitches", "brand_content", "brand_organic")
"""Options that are true or false (YAML's, not the text "true")."""

PLATFORM = PlatformSpec(
    rules=PlatformRules(
        "tiktok",
        "TikTok",
        "utf16",  # "The maximum length is 2200 in UTF-16 runes" (the video's title)
        2200,
        max_media=35,  # photo posts; a video goes alone
        image_max_bytes=20_000_000,
        alt_text=False,
        media_types=frozenset({JPEG, WEBP, MP4, MOV}),
        video_max_bytes=4_000_000_000,
        video_alone=True,
        # The media transfer guide's video restrictions; the longest video is the creator's
        # own (3 to 10 minutes), which the connector asks TikTok before each post.
        video_codecs=frozenset({"h264", "hevc", "vp8", "vp9"}),
        video_seconds=(0.0, 600),
        video_min_size=(360, 360),
        video_max_size=(4096, 4096),
        video_frame_rate=(23, 60),
        thread_style="separate",
        media_required=True,
    ),
    connector="connectors.platforms.tiktok.connector:TikTokConnector",
    fake="connectors.platforms.tiktok.fake:TikTokFake",
    credentials=(("client_key", "client_secret", "refresh_token"),),
    options=(
        (
            "mode",
            "'direct' (posts go out on the account: the app needs TikTok's Direct Post "
            "approval) or 'inbox' (videos land in the creator's TikTok inbox as drafts that "
            "someone must open and post)",
        ),
    ),
    choices=(
        ("mode", ("direct", "inbox")),
        ("privacy", ("public", "friends", "followers", "private")),
        *((flag, (True, False)) for flag in FLAGS),
    ),
    login="connectors.platforms.tiktok.login:login",
    default_channel="tiktok-main",
)
