"""Uploading never holds the video in memory: measured with the fake in a process of its
own, so that what it receives is not counted."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import MediaFile, Post
from connectors.platforms.tiktok.connector import TikTokConnector
from connectors.platforms.tiktok.fake import channel_access
from tests.connectors.platforms.tiktok.videos import video

SIZE = 60_000_000


@pytest.fixture
def served() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "connectors.platforms.tiktok.fake"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_60_mb_video_is_uploaded_with_a_few_mb_of_memory(served: str, tmp_path: Path) -> None:
    clip = video(tmp_path / "clip.mp4", size=SIZE)
    access = channel_access(served, timeout=10.0)
    connector = TikTokConnector(access)
    connector.status_interval = 0.05
    post = Post("k", "#SayNo", datetime.now(UTC), media=(MediaFile(clip, "", "video/mp4"),))
    tracemalloc.start()
    try:
        published = connector.publish(post)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        connector.close()
    assert published.ref.id
    assert peak < 8_000_000, f"peak {peak:,} bytes for a {SIZE:,}-byte video"
