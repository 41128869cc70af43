"""Whether uploaded bytes are a video, as a platform's processing finds out."""

from __future__ import annotations

import tempfile
from pathlib import Path

from campaigns.video import UnreadableVideo, probe


def playable(content: bytes) -> bool:
    """Read with PyAV, as `clarion validate` reads a plan's videos."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.mp4"
        path.write_bytes(content)
        try:
            probe(path)
        except UnreadableVideo:
            return False
    return True
