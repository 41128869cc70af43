"""Reading a post's media files when it is published."""

from __future__ import annotations

from connectors.base import MediaFile, Rejected


def read_media(media: MediaFile) -> bytes:
    """The file's bytes. A file that went missing since the plan was checked fails the post
    (Rejected) rather than holding the channel: the operator restores it and retries."""
    try:
        return media.path.read_bytes()
    except OSError as exc:
        raise Rejected(f"cannot read the media file {media.path.name}: {exc.strerror}") from None
