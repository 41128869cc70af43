"""The YouTube fake for each test, and small upload chunks so that a small file takes several."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.platforms.youtube.connector import GRANULE, YouTubeConnector
from connectors.platforms.youtube.fake import YouTubeFake


@pytest.fixture
def fake() -> Iterator[YouTubeFake]:
    with YouTubeFake() as fake:
        yield fake


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """One granule (256 KiB) per request: several requests for a file of a megabyte."""
    monkeypatch.setattr(YouTubeConnector, "chunk", GRANULE)
