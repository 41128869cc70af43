"""How the Threads fake prepares a video container: it downloads the video, as Threads does.

Only loopback addresses are fetched (a test serves the media folder on 127.0.0.1); any other
address is taken as served, since tests name made-up hosts. What Threads would then say is
read from the file with PyAV, against Threads' documented limits: up to 5 minutes, 23 to 60
frames a second.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx

from campaigns.video import UnreadableVideo, probe
from connectors.settings import is_loopback

MAX_SECONDS = 300
FRAME_RATES = (23.0, 60.0)


def video_problem(url: str) -> str | None:
    """The `error_message` Threads would give the video at `url`, or None when it is fine."""
    if not is_loopback(httpx.URL(url).host):
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "video"
        try:
            with httpx.stream("GET", url, timeout=5.0) as response, path.open("wb") as out:
                if not response.is_success:
                    return "FAILED_DOWNLOADING_VIDEO"
                for piece in response.iter_bytes():
                    out.write(piece)
        except httpx.HTTPError:
            return "FAILED_DOWNLOADING_VIDEO"
        try:
            info = probe(path)
        except UnreadableVideo:
            return "FAILED_PROCESSING_VIDEO"
    if info.duration > MAX_SECONDS:
        return "INVALID_DURATION"
    if not FRAME_RATES[0] <= info.frame_rate <= FRAME_RATES[1]:
        return "INVALID_FRAME_RATE"
    return None
