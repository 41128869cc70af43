"""Whether an uploaded file is a video the platform could process, as its servers find out
after the upload: fakes read it with the same FFmpeg (PyAV) that `clarion validate` uses."""

from __future__ import annotations

import tempfile
from pathlib import Path

from campaigns.video import UnreadableVideo, probe


def unplayable(content: bytes, suffix: str = ".mp4") -> str | None:
    """Why FFmpeg cannot read this as a video, or None when it can."""
    with tempfile.TemporaryDirectory(prefix="clarion-fake-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(content)
        try:
            probe(path)
        except UnreadableVideo as exc:
            return str(exc)
    return None
