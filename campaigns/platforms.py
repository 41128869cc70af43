"""The rules of every platform, by name: the one table that plans and connectors both read."""

from __future__ import annotations

from campaigns.platformrules import GIF, JPEG, MEGABYTE, MOV, MP4, PNG, STILL, WEBP, PlatformRules

PLATFORMS: dict[str, PlatformRules] = {
    rules.name: rules
    for rules in (
        # X: up to 4 photos, or 1 GIF, or 1 video; GIF up to 15 MB and 1280x1080; video 512 MB
        PlatformRules(
            "x",
            "X",
            "twitter",
            280,
            max_media=4,
            image_max_bytes=5_000_000,
            alt_max=1000,
            media_types=STILL | {GIF, MP4, MOV},
            video_max_bytes=512 * MEGABYTE,
            gif_max_bytes=15 * MEGABYTE,
            video_alone=True,
            gif_max_size=(1280, 1080),
            # videos [doc x-api/media/quickstart/best-practices.mdx, platform-notes.md]: H.264
            # and AAC-LC, 0.5 to 140 s, up to 1280x1024; 1:3 to 3:1 and 60 fps or less
            # [3p ayrshare media-guidelines/x-twitter, quoting X's media best practices].
            # Captions: X takes SRT subtitles (media/subtitles/create); not sent yet.
            video_codecs=frozenset({"h264"}),
            audio_codecs=frozenset({"aac"}),
            video_seconds=(0.5, 140),
            video_max_size=(1280, 1024),
            video_min_size=(32, 32),
            video_aspect=(1 / 3, 3.0),
            video_frame_rate=(0, 60),
        ),
        PlatformRules(
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
            # mastodon.social's /api/v2/instance: video_matrix_limit 8294400 (3840x2160),
            # video_frame_rate_limit 120 [mastodon/mastodon discussion #26709; masto.js
            # InstanceMediaAttachmentsConfiguration]. It takes a `thumbnail` image with a
            # video (POST /api/v2/media); no caption files. Not sent yet.
            video_max_pixels=8_294_400,
            video_frame_rate=(0, 120),
        ),
        PlatformRules(
            "bluesky",
            "Bluesky",
            "bluesky",
            300,
            max_bytes=3000,
            max_media=4,
            image_max_bytes=2_000_000,
            alt_max=2000,
            media_types=STILL,  # the connector posts images only; a GIF would stand still
            # app.bsky.embed.video, for when the connector posts video: MP4 up to 3 min and
            # 100 MB [bsky.social blog, March 2025]; 1 s at least, 1:3 to 3:1 [3p ayrshare
            # media-guidelines/bluesky]. Captions: WebVTT files, one per language (the
            # lexicon's `captions`); no cover image.
            video_max_bytes=100 * MEGABYTE,
            video_seconds=(1, 180),
            video_aspect=(1 / 3, 3.0),
        ),
        PlatformRules(
            "linkedin",
            "LinkedIn",
            "codepoints",
            3000,
            max_media=20,
            image_max_bytes=36_000_000,
            alt_max=4086,
            media_types=frozenset({PNG, JPEG, GIF}),  # the Images API; no video upload
            thread_style="comments",
            # the Videos API, for when the connector posts video: MP4, 3 s to 30 min, up to
            # 500 MB, 1:2.4 to 2.4:1 [3p ayrshare media-guidelines/linkedin]; it takes
            # captions (SRT) and a thumbnail with initializeUpload.
            video_max_bytes=500 * MEGABYTE,
            video_seconds=(3, 30 * 60),
            video_aspect=(1 / 2.4, 2.4),
        ),
        PlatformRules(
            "telegram",
            "Telegram",
            "codepoints",
            4096,
            caption_length=1024,
            max_media=10,
            image_max_bytes=10_000_000,
            alt_text=False,
            media_types=frozenset({PNG, JPEG, WEBP, MP4}),  # sendPhoto and sendVideo
            video_max_bytes=50 * MEGABYTE,  # what a bot may upload
            max_side_sum=10_000,
            max_aspect=20.0,
            # sendVideo: "Telegram clients support MPEG4 videos"; its `thumbnail` is a JPEG
            # under 200 kB, at most 320x320 [doc Bot API sendVideo]. Not sent yet.
        ),
        # Threads holds posts to 500 UTF-8 bytes as well as 500 characters: Meta's page says
        # "emojis are counted as the number of UTF-8 bytes", and production rejections
        # (gitroomhq/postiz-app PR #1946) include a 498-character post of 504 bytes.
        PlatformRules(
            "threads",
            "Threads",
            "codepoints",
            500,
            max_bytes=500,
            max_media=20,
            image_max_bytes=8_000_000,
            alt_max=1000,
            media_types=frozenset({PNG, JPEG, MP4, MOV}),
            video_max_bytes=1000 * MEGABYTE,
            # video [3p ayrshare / getlate, platform-notes.md]: MOV or MP4, up to 5 min,
            # 23 to 60 fps, H.264 or HEVC with AAC; no caption files, no cover image
            video_codecs=frozenset({"h264", "hevc"}),
            audio_codecs=frozenset({"aac"}),
            video_seconds=(0, 5 * 60),
            video_frame_rate=(23, 60),
        ),
        PlatformRules(
            "facebook",
            "Facebook",
            "codepoints",
            63_206,
            max_media=10,
            image_max_bytes=4_000_000,
            alt_max=1000,
            media_types=frozenset({PNG, JPEG, GIF}),  # the connector posts photos only
            thread_style="comments",
            # Page videos, for when the connector posts them: MP4 or MOV up to 4 hours and
            # 10 GB [3p ayrshare media-guidelines/facebook_pages]; it takes a `thumb` image
            # and SRT captions named by locale.
            video_max_bytes=10_000 * MEGABYTE,
            video_seconds=(0, 4 * 3600),
        ),
        PlatformRules(
            "webhook",
            "Webhook",
            "codepoints",
            40_000,
            max_media=10,
            image_max_bytes=25_000_000,
            media_types=STILL | {GIF, MP4, MOV},  # sent as names or addresses, not uploaded
            video_max_bytes=25_000_000,
            thread_style="separate",
        ),
    )
}
