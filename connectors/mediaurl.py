"""Media on a public address, for platforms that fetch images instead of taking uploads
(Threads) and for webhook formats that show images by URL (Discord, Teams).

The operator publishes the campaign's media folder on any static web host and sets
`options.media_base_url`; a file is then expected at that address plus its own name.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from connectors.base import ChannelAccess, MediaFile


def media_base_url(config: ChannelAccess) -> str | None:
    base = config.options.get("media_base_url")
    return str(base).rstrip("/") if base else None


def media_url(base: str, media: MediaFile) -> str:
    return file_url(base, media.path)


def file_url(base: str, path: Path) -> str:
    """The address of a file that goes with a media file (a video's cover image)."""
    return f"{base}/{quote(path.name)}"
