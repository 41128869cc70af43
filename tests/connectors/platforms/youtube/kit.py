"""What the YouTube tests share: the fake, a connector on it, and video files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from connectors.base import MediaFile
from connectors.platforms.youtube.connector import GRANULE, YouTubeConnector
from connectors.platforms.youtube.fake import YouTubeFake


def connector(fake: YouTubeFake, state: Path | None = None, **options: Any) -> YouTubeConnector:
    channel = fake.channel()
    given = {**channel.options, **options}
    if state is not None:
        given["state_dir"] = str(state)
    return YouTubeConnector(
        type(channel)(
            channel.name,
            channel.platform,
            credentials=channel.credentials,
            base_url=channel.base_url,
            options={k: v for k, v in given.items() if v is not None},
            timeout=channel.timeout,
        )
    )


def video(tmp_path: Path, size: int = 3 * GRANULE + 1000, **extra: Path) -> MediaFile:
    """A file of `size` bytes of noise, sent as an MP4: the fake keeps and plays nothing."""
    path = tmp_path / "clip.mp4"
    path.write_bytes(os.urandom(size))
    return MediaFile(path, "", "video/mp4", **extra)
