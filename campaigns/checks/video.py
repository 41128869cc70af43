"""A video of one post on one channel against what the platform takes (its codecs, length,
size, shape and frame rate, read from the file), and the captions and cover image that go
with it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from campaigns.captions import FORMAT_NAMES
from campaigns.channels import KnownChannel
from campaigns.problems import Location, Severity
from campaigns.scope import Scope
from campaigns.video import VideoInfo
from campaigns.wording import duration_words as duration
from campaigns.wording import size_words

if TYPE_CHECKING:
    from campaigns.checks.media import MediaUse

CODEC_NAMES = {
    "h264": "H.264",
    "hevc": "H.265 (HEVC)",
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
    "mpeg4": "MPEG-4 Part 2",
    "prores": "ProRes",
    "gif": "GIF",
    "aac": "AAC",
    "mp3": "MP3",
    "opus": "Opus",
    "vorbis": "Vorbis",
    "ac3": "Dolby Digital (AC-3)",
    "pcm_s16le": "uncompressed PCM",
}
"""FFmpeg's codec names, as people know them."""


def check_video(
    scope: Scope,
    spec: KnownChannel,
    use: MediaUse,
    video: VideoInfo,
    where: Location,
    severity: Severity,
) -> None:
    """Each limit the platform sets that the video breaks, in words: what the file is, what
    the platform takes."""
    rules = spec.rules
    name, label = use.item.file, rules.label
    found: list[tuple[str, str]] = []
    if rules.video_codecs is not None and video.video_codec not in rules.video_codecs:
        found.append(
            (
                f"'{name}' is {_codec(video.video_codec)} video; {label} takes "
                f"{_codecs(rules.video_codecs)} video",
                f"export it again as {_codecs(rules.video_codecs)}",
            )
        )
    if (
        rules.audio_codecs is not None
        and video.audio_codec is not None
        and video.audio_codec not in rules.audio_codecs
    ):
        found.append(
            (
                f"the sound of '{name}' is {_codec(video.audio_codec)}; {label} takes "
                f"{_codecs(rules.audio_codecs)} sound",
                f"export it again with {_codecs(rules.audio_codecs)} sound",
            )
        )
    if rules.video_seconds is not None:
        shortest, longest = rules.video_seconds
        if longest is not None and video.duration > longest:
            found.append(
                (
                    f"'{name}' is {duration(video.duration)} long; {label} takes videos up to "
                    f"{duration(longest)}",
                    "cut it shorter",
                )
            )
        elif video.duration < shortest:
            found.append(
                (
                    f"'{name}' is {duration(video.duration)} long; {label} takes videos of at "
                    f"least {duration(shortest)}",
                    "use a longer clip",
                )
            )
    found += _shape(use, video, spec)
    if rules.video_frame_rate is not None and video.frame_rate:
        low, high = rules.video_frame_rate
        if not low <= video.frame_rate <= high:
            found.append(
                (
                    f"'{name}' has {video.frame_rate:g} frames per second; {label} takes "
                    + (f"{low:g} to {high:g}" if low else f"up to {high:g}"),
                    f"export it again at {min(max(video.frame_rate, low), high):g} frames per "
                    "second",
                )
            )
    for message, hint in found:
        scope.report(severity, where, f"{message} ({spec.name})", hint)


def _shape(use: MediaUse, video: VideoInfo, spec: KnownChannel) -> list[tuple[str, str]]:
    """The video's dimensions and aspect ratio against the platform's."""
    rules = spec.rules
    name, label = use.item.file, rules.label
    width, height = video.width, video.height
    is_size = f"'{name}' is {width}x{height}"
    found = []
    long, short = max(width, height), min(width, height)
    if rules.video_max_size is not None:
        max_w, max_h = rules.video_max_size
        if long > max(max_w, max_h) or short > min(max_w, max_h):
            found.append(
                (f"{is_size}; {label} takes videos up to {max_w}x{max_h}", "make it smaller")
            )
    if rules.video_min_size is not None:
        min_w, min_h = rules.video_min_size
        if long < max(min_w, min_h) or short < min(min_w, min_h):
            found.append(
                (f"{is_size}; {label} takes videos of at least {min_w}x{min_h}", "make it larger")
            )
    if rules.video_max_pixels is not None and width * height > rules.video_max_pixels:
        found.append(
            (
                f"{is_size} ({width * height:,} pixels); {label} takes videos of up to "
                f"{rules.video_max_pixels:,} pixels",
                "make it smaller",
            )
        )
    if rules.video_aspect is not None and height:
        narrowest, widest = rules.video_aspect
        if not narrowest <= width / height <= widest:
            found.append(
                (
                    f"{is_size}; {label} takes videos from {_ratio(narrowest)} (tall) to "
                    f"{_ratio(widest)} (wide)",
                    "crop it, or add bars to bring it within those proportions",
                )
            )
    return found


def check_attached(scope: Scope, spec: KnownChannel, use: MediaUse, severity: Severity) -> None:
    """The captions and cover image of a video: there, readable, of a kind the platform takes;
    a warning where the platform does not take them at all."""
    rules = spec.rules
    name, label = use.item.file, rules.label
    video = use.file.video is not None
    if use.captions is not None:
        where = scope.at(*use.captions_where)
        written = use.item.captions if isinstance(use.item.captions, str) else None
        shown = written or use.captions.path.name
        if not video:
            scope.report(
                severity,
                where,
                f"'{name}' is not a video: captions go with videos",
                "remove 'captions:' from this image",
            )
        elif use.captions.captions is None:
            scope.report(
                severity,
                where,
                f"captions file '{shown}' "
                + (
                    f"cannot be used: {use.captions.problem}"
                    if use.captions.problem
                    else "not found"
                ),
                "give an SRT or WebVTT file, with its path relative to the campaign file",
            )
        elif not rules.caption_formats:
            scope.problems.warning(
                where,
                f"Clarion does not send caption files to {label}: '{name}' goes out there "
                f"without its captions ({spec.name})",
                f"burn the subtitles into the video for {label}, if its viewers need them",
            )
        elif use.captions.captions.format not in rules.caption_formats:
            holds = FORMAT_NAMES[use.captions.captions.format]
            takes = " or ".join(FORMAT_NAMES[f] for f in sorted(rules.caption_formats))
            scope.report(
                severity,
                where,
                f"'{shown}' is {holds}; {label} takes captions as {takes} ({spec.name})",
                f"convert it to {takes}",
            )
        elif rules.captions_max_bytes and use.captions.size > rules.captions_max_bytes:
            scope.report(
                severity,
                where,
                f"'{shown}' is {use.captions.size:,} bytes; {label} takes caption files of up "
                f"to {rules.captions_max_bytes:,} bytes ({spec.name})",
                "split the video, or shorten the captions",
            )
    if use.thumbnail is not None:
        _check_thumbnail(scope, spec, use, video, severity)


def _check_thumbnail(
    scope: Scope, spec: KnownChannel, use: MediaUse, video: bool, severity: Severity
) -> None:
    rules = spec.rules
    thumbnail = use.thumbnail
    assert thumbnail is not None
    where = scope.at(*use.where, "thumbnail")
    shown = use.item.thumbnail
    if not video:
        scope.report(
            severity,
            where,
            f"'{use.item.file}' is not a video: a thumbnail is a video's cover image",
            "remove 'thumbnail:' from this image",
        )
    elif thumbnail.size is None:
        scope.report(
            severity,
            where,
            f"thumbnail '{shown}' not found",
            "paths are relative to the folder that holds the campaign file",
        )
    elif thumbnail.mime is None or not thumbnail.mime.startswith("image/"):
        scope.report(
            severity, where, f"thumbnail '{shown}' is not an image", "use a PNG or JPEG image"
        )
    else:
        cap = rules.thumbnail_max_bytes or rules.image_max_bytes
        if not rules.thumbnail_types:
            why = f"Clarion does not send cover images to {rules.label}"
        elif thumbnail.mime not in rules.thumbnail_types:
            why = f"{rules.label} takes {_types(rules.thumbnail_types)} covers"
        elif thumbnail.size > cap:
            why = f"{rules.label} takes covers up to {size_words(cap)}, and '{shown}' is " + (
                size_words(thumbnail.size)
            )
        else:
            return
        scope.problems.warning(
            where,
            f"{why}: '{use.item.file}' goes out there with the platform's own cover ({spec.name})",
            "nothing to do, unless the cover matters there",
        )


def _types(mimes: frozenset[str]) -> str:
    return " or ".join(sorted(m.removeprefix("image/").upper() for m in mimes))


def _codec(name: str) -> str:
    return CODEC_NAMES.get(name, name)


def _codecs(names: frozenset[str]) -> str:
    return " or ".join(_codec(n) for n in sorted(names))


def _ratio(value: float) -> str:
    """1/3 as '1:3', 3.0 as '3:1', 0.4167 as '1:2.4'."""
    if value >= 1:
        return f"{value:g}:1"
    return f"1:{1 / value:.3g}"
