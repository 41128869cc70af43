"""The media of one rendered post on one channel: files that exist, of a kind, size and shape
the platform takes, with the alt text it needs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from campaigns.captions import FORMAT_NAMES, BadCaptions, Captions, read_captions
from campaigns.channels import KnownChannel
from campaigns.checks.video import check_attached, check_video
from campaigns.model import MediaItem
from campaigns.platformrules import GIF, CaptionFormat
from campaigns.problems import Location, Severity
from campaigns.scope import Scope
from campaigns.video import ISO_MEDIA, UnreadableVideo, VideoInfo, probe
from campaigns.wording import closest
from campaigns.yamlsource import PathKey


@dataclass(frozen=True, slots=True)
class MediaFile:
    """What a media file is, read once however many posts use it."""

    path: Path
    """Resolved, when the name allows it."""
    mime: str | None
    """From the file's suffix; None for a kind Clarion cannot post."""
    size: int | None
    """None when the file cannot be read."""
    dimensions: tuple[int, int] | None = None
    """Width and height of an image, when its header can be read."""
    video: VideoInfo | None = None
    """What a video really holds, read from it."""
    problem: str | None = None
    """Why a video cannot be posted (unreadable, cut short, another kind of file)."""


@dataclass(frozen=True, slots=True)
class CaptionFile:
    """A video's captions file, read once however many posts use it."""

    path: Path
    captions: Captions | None
    """None when the file is missing or is not captions."""
    problem: str | None = None
    """Why the captions cannot be sent; None with no captions: the file is not there."""
    size: int = 0
    """Bytes."""


@dataclass(frozen=True, slots=True)
class MediaUse:
    """One media item of a post, in the language of a delivery."""

    item: MediaItem
    where: PathKey
    alt: str | None
    file: MediaFile
    captions: CaptionFile | None = None
    """The captions of the delivery's language, and where they are written."""
    captions_where: PathKey = ()
    thumbnail: MediaFile | None = None


IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


VIDEO_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime"}


def check_media(
    scope: Scope,
    spec: KnownChannel,
    language: str | None,
    uses: Sequence[MediaUse],
    list_where: PathKey,
    severity: Severity,
) -> None:
    rules = spec.rules
    fewer = f"give {spec.platform} fewer media under 'overrides'"
    if len(uses) > rules.max_media:
        scope.report(
            severity,
            scope.at(*list_where),
            f"{len(uses)} media items, but {rules.label} allows {rules.max_media} per post "
            f"({spec.name})",
            f"keep {rules.max_media}, or {fewer}",
        )
    moving = [
        u.file.mime for u in uses if u.file.mime in rules.media_types and _moving(u.file.mime)
    ]
    if rules.video_alone and moving and len(uses) > 1:
        first = next(u for u in uses if u.file.mime == moving[0])
        scope.report(
            severity,
            scope.at(*list_where),
            f"'{first.item.file}' is {_a(_kind(moving[0]))}: {rules.label} takes a video "
            f"or GIF as the only media of a post, not with {len(uses) - 1} other file(s) "
            f"({spec.name})",
            f"post it on its own, or {fewer}",
        )
    for use in uses:
        file_where = scope.at(*use.where, "file")
        if use.file.size is None:
            looked = _shown(use.file.path)
            scope.report(
                severity,
                file_where,
                f"media file '{use.item.file}' not found"
                + (f" (looked for {looked})" if looked != use.item.file else ""),
                _nearby(use),
            )
            continue
        if use.file.mime is None:
            scope.report(
                severity,
                file_where,
                f"'{use.item.file}' is not a kind of file Clarion can post",
                "use PNG, JPEG, GIF or WebP images, or MP4 or MOV videos",
            )
            continue
        if use.file.mime not in rules.media_types:
            scope.report(
                severity,
                file_where,
                f"Clarion cannot post {_a(_kind(use.file.mime))} ('{use.item.file}') to "
                f"{rules.label} ({spec.name})",
                f"{rules.label} takes {_types(rules.media_types)} from Clarion; give "
                f"{spec.platform} other media under 'overrides', or 'media: []' there",
            )
            continue
        if use.file.problem:
            scope.report(
                severity,
                file_where,
                f"'{use.item.file}' cannot be posted: {use.file.problem}",
                "export the video again, as MP4 (H.264 video, AAC sound)",
            )
            continue
        _check_size(scope, spec, use, file_where, severity)
        check_attached(scope, spec, use, severity)
        if use.file.video is not None:
            check_video(scope, spec, use, use.file.video, file_where, severity)
        if not rules.alt_text:
            continue
        if not use.alt:
            lang = f" in {language}" if language else ""
            has_alt = use.item.alt is not None
            scope.report(
                severity,
                scope.at(*use.where, "alt") if has_alt else scope.at(*use.where),
                f"'{use.item.file}' has no alt text{lang}",
                f"add '{language}: ...' to its 'alt:'"
                if has_alt
                else "describe the image for people who use screen readers: add 'alt:'"
                + (f" with a {language} version" if language else ""),
            )
        elif rules.alt_max and len(use.alt) > rules.alt_max:
            scope.report(
                severity,
                scope.at(*use.where, "alt"),
                f"the alt text of '{use.item.file}'{f' ({language})' if language else ''} is "
                f"{len(use.alt)} characters; {rules.label} allows {rules.alt_max}",
                "shorten the description",
            )


_NAMES = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "video/mp4": "MP4",
    "video/quicktime": "MOV",
}


def _moving(mime: str | None) -> bool:
    if mime is None:
        return False
    return mime.startswith("video/") or mime == "image/gif"


def _kind(mime: str) -> str:
    if mime.startswith("video/"):
        return f"{_NAMES.get(mime, mime)} video"
    return "GIF" if mime == "image/gif" else f"{_NAMES.get(mime, mime)} image"


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "AEFHILMNORSX" else "a ") + noun


def _types(mimes: Iterable[str]) -> str:
    images = [_NAMES[m] for m in _NAMES if m in mimes and m.startswith("image/")]
    videos = [_NAMES[m] for m in _NAMES if m in mimes and m.startswith("video/")]
    if not images:
        return f"only {', '.join(videos)} videos"
    return f"{', '.join(images)} images" + (
        f" and {', '.join(videos)} videos" if videos else " (no video)"
    )


def _check_size(
    scope: Scope, spec: KnownChannel, use: MediaUse, where: Location, severity: Severity
) -> None:
    """File size and image dimensions against what the platform accepts."""
    rules = spec.rules
    file = use.file
    assert file.mime is not None and file.size is not None
    kinds = "videos" if file.mime.startswith("video/") else "GIFs" if file.mime == GIF else "images"
    if file.mime.startswith("video/"):
        cap = rules.video_max_bytes
    elif file.mime == GIF and rules.gif_max_bytes:
        cap = rules.gif_max_bytes
    else:
        cap = rules.image_max_bytes
    if cap is not None and file.size > cap:
        scope.report(
            severity,
            where,
            f"'{use.item.file}' is {_megabytes(file.size)}; {rules.label} accepts {kinds} up to "
            f"{_megabytes(cap)} ({spec.name})",
            "compress it" + ("" if file.mime.startswith("video/") else " or make it smaller"),
        )
    if file.mime.startswith("video/"):
        return
    if file.dimensions is None:
        return
    width, height = file.dimensions
    too_big: str | None = None
    if rules.max_pixels and width * height > rules.max_pixels:
        too_big = f"{width * height:,} pixels; {rules.label} accepts {rules.max_pixels:,}"
    if rules.max_side_sum and width + height > rules.max_side_sum:
        too_big = f"width + height {width + height:,}; {rules.label} accepts {rules.max_side_sum:,}"
    if (
        rules.max_aspect
        and min(width, height)
        and max(width, height) / min(width, height) > (rules.max_aspect)
    ):
        too_big = f"{max(width, height) / min(width, height):.0f} times longer than wide; " + (
            f"{rules.label} accepts {rules.max_aspect:.0f}"
        )
    if file.mime == "image/gif" and rules.gif_max_size:
        max_w, max_h = rules.gif_max_size
        if width > max_w or height > max_h:
            too_big = f"{rules.label} accepts GIFs up to {max_w}x{max_h}"
    if too_big:
        scope.report(
            severity,
            where,
            f"'{use.item.file}' is {width}x{height} ({too_big}) ({spec.name})",
            "resize the image",
        )
    if rules.aspect_range and not rules.aspect_range[0] <= width / height <= rules.aspect_range[1]:
        low, high = rules.aspect_range
        scope.report(
            severity,
            where,
            f"'{use.item.file}' is {width}x{height}, {width / height:.2f} times as wide as high; "
            f"{rules.label} accepts images from {low:.2f} (portrait) to {high:.2f} (landscape) "
            f"({spec.name})",
            "crop the image",
        )


def read_media_file(path: Path) -> MediaFile:
    suffix = path.suffix.lower()
    mime = IMAGE_TYPES.get(suffix) or VIDEO_TYPES.get(suffix)
    try:
        path = path.resolve()
        size: int | None = path.stat().st_size if path.is_file() else None
    except (OSError, ValueError):  # unreadable, or a name no file system accepts
        size = None
    if size is None or mime is None:
        return MediaFile(path, mime, size)
    if mime.startswith("image/"):
        return MediaFile(path, mime, size, image_size(path))
    try:
        video = probe(path)
    except (UnreadableVideo, OSError) as error:
        return MediaFile(path, mime, size, problem=str(error) or "the file cannot be read")
    if video.container != ISO_MEDIA:
        really = _container_name(video.container)
        problem = f"it is really {really}, not {_a(_kind(mime))}"
        return MediaFile(path, mime, size, video=video, problem=problem)
    return MediaFile(path, mime, size, (video.width, video.height), video)


CONTAINER_NAMES = {
    "gif": "a GIF image (name it .gif)",
    "matroska,webm": "a WebM or Matroska video",
    "avi": "an AVI video",
    "mpegts": "an MPEG transport stream",
    "flv": "a Flash video",
    "asf": "a Windows Media video",
}
"""How to call what a file named .mp4 or .mov really is, by FFmpeg's name of its format."""


def _container_name(container: str) -> str:
    if container in CONTAINER_NAMES:
        return CONTAINER_NAMES[container]
    if container.endswith("_pipe"):  # FFmpeg reads single images as png_pipe, jpeg_pipe, ...
        image = container.removesuffix("_pipe")
        return f"a {image.upper()} image"
    return f"a '{container}' file"


def read_caption_file(path: Path) -> CaptionFile:
    try:
        path = path.resolve()
        if not path.is_file():
            return CaptionFile(path, None)
        if path.suffix.lower() not in (".srt", ".vtt"):
            return CaptionFile(path, None, "captions are SRT (.srt) or WebVTT (.vtt) files")
        captions = read_captions(path)
    except BadCaptions as error:
        return CaptionFile(path, None, str(error))
    except (OSError, ValueError) as error:  # unreadable, or a name no file system accepts
        return CaptionFile(path, None, f"it cannot be read ({error})")
    named: CaptionFormat = "srt" if path.suffix.lower() == ".srt" else "vtt"
    if named != captions.format:
        holds, name = FORMAT_NAMES[captions.format], FORMAT_NAMES[named]
        return CaptionFile(path, None, f"it holds {holds}, not {name}: name it .{captions.format}")
    return CaptionFile(path, captions, size=path.stat().st_size)


def image_size(path: Path) -> tuple[int, int] | None:
    """Width and height read from the file's header; None when it cannot be read."""
    import imagesize

    try:
        width, height = imagesize.get(path)
    except (OSError, ValueError):
        return None
    return (int(width), int(height)) if width > 0 and height > 0 else None


def _shown(path: Path) -> str:
    """`path` relative to the current folder when it is inside it, as the user would type it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _nearby(use: MediaUse) -> str:
    """A hint for a media file not found: a file of a close name, else where paths start."""
    folder = use.file.path.parent
    try:
        names = [p.name for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    except OSError:
        names = []
    close = closest(use.file.path.name, names)
    if close:
        written = use.item.file.replace("\\", "/")
        return f"did you mean '{written[: len(written) - len(use.file.path.name)]}{close}'?"
    return "paths are relative to the folder that holds the campaign file; check the spelling"


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
