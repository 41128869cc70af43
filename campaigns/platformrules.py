"""What a platform accepts in a post, as one record that plans and connectors both read.

Each platform's figures live in its own folder (connectors/platforms/NAME/__init__.py) and come
from the platform's documentation, gathered in platform-notes.md; a channel in config.yaml can
raise `max_length` (X Premium, Mastodon instances with larger limits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Counter = Literal["twitter", "mastodon", "bluesky", "codepoints", "utf16"]

PNG, JPEG, GIF, WEBP = "image/png", "image/jpeg", "image/gif", "image/webp"
MP4, MOV = "video/mp4", "video/quicktime"
STILL = frozenset({PNG, JPEG, WEBP})
MEGABYTE = 1_000_000
ThreadStyle = Literal["replies", "comments", "separate"]
CaptionFormat = Literal["srt", "vtt"]


@dataclass(frozen=True, slots=True)
class PlatformRules:
    name: str
    label: str
    counter: Counter
    """How the platform counts text; campaigns.length implements each rule."""
    max_length: int
    max_bytes: int | None = None
    """A second cap in UTF-8 bytes (Bluesky)."""
    caption_length: int | None = None
    """The cap on text sent with media, where it differs (Telegram captions)."""
    max_media: int = 4
    image_max_bytes: int = 5_000_000
    alt_text: bool = True
    alt_max: int | None = None
    media_types: frozenset[str] = STILL | {GIF}
    """What our connector for the platform can post (and the platform accepts)."""
    video_max_bytes: int | None = None
    gif_max_bytes: int | None = None
    """Animated GIFs, where their cap differs from images' (X)."""
    video_alone: bool = False
    """A video or GIF must be the post's only media (X, Mastodon)."""
    max_pixels: int | None = None
    """Width times height of an image (Mastodon's image_matrix_limit)."""
    max_side_sum: int | None = None
    """Width + height of an image (Telegram photos)."""
    max_aspect: float | None = None
    """Longest side / shortest side of an image (Telegram photos)."""
    gif_max_size: tuple[int, int] | None = None
    """Width and height of an animated GIF (X)."""
    video_codecs: frozenset[str] | None = None
    """The video codecs the platform takes, by FFmpeg's names ('h264', 'hevc', 'vp9'); None:
    any that the container holds."""
    audio_codecs: frozenset[str] | None = None
    """The sound codecs it takes, by FFmpeg's names ('aac', 'mp3'); None: any. A video
    without sound is always taken."""
    video_seconds: tuple[float, float | None] | None = None
    """Shortest and longest video, in seconds (None for no longest)."""
    video_max_size: tuple[int, int] | None = None
    """Width and height a video must fit in, either way round (X's 1280x1024 takes 720x1280)."""
    video_min_size: tuple[int, int] | None = None
    """Width and height a video must reach, either way round."""
    video_max_pixels: int | None = None
    """Width times height of a video (Mastodon's video_matrix_limit)."""
    video_aspect: tuple[float, float] | None = None
    """Narrowest and widest width / height of a video (1/3 and 3.0 for 1:3 to 3:1)."""
    video_frame_rate: tuple[float, float] | None = None
    """Lowest and highest frames per second of a video."""
    caption_formats: frozenset[CaptionFormat] = frozenset()
    """The caption files ('srt', 'vtt') the platform takes with a video and our connector
    sends; empty: captions are not sent there (validate warns)."""
    captions_max_bytes: int | None = None
    """The cap on a caption file (Bluesky: 20,000 bytes)."""
    thumbnail_types: frozenset[str] = frozenset()
    """The images (MIME types) the platform takes as a video's cover and our connector sends;
    empty: thumbnails are not sent there. Validate warns where a cover is not sent, of another
    type or too large: the video still goes out, with the platform's own cover."""
    thumbnail_max_bytes: int | None = None
    """The cover image's cap, where it differs from image_max_bytes."""
    thread_style: ThreadStyle = "replies"
    """How a thread's later parts go out: as replies to the part before (X, Mastodon,
    Bluesky, Telegram, Threads), as comments on the first post (LinkedIn, Facebook,
    Instagram, YouTube), or as separate messages (webhooks)."""
    title_length: int | None = None
    """The text's first line is the post's title, of at most this many characters (YouTube)."""
    refused_characters: str = ""
    """Characters the platform refuses in a post's title and text (YouTube: '<' and '>')."""
    tags_length: int | None = None
    """The text's hashtags become the post's tags, of at most this many characters together as
    the platform counts them (campaigns.length.tags_length; YouTube)."""
    media_required: bool = False
    """Every post carries media: the platform takes no text alone (a YouTube post is a video,
    a TikTok post a video or photos). A thread's later parts need none where they go out as
    comments (YouTube), and each needs its own where they go out as separate posts (TikTok)."""
    max_hashtags: int | None = None
    """Hashtags one post may hold (Instagram)."""
    max_mentions: int | None = None
    """@mentions one post may hold (Instagram)."""
    aspect_range: tuple[float, float] | None = None
    """The narrowest and widest image, as width / height (Instagram's feed: 4:5 to 1.91:1)."""
    link_display: int | None = None
    """How many characters of an address (without its scheme) the platform shows before `…`,
    where it shortens links on display (the web view shows posts that way)."""
