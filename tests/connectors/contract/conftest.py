"""The contract suite runs over every platform of the catalog: a new folder is in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from campaigns.platformrules import MP4, PNG
from connectors.base import Connector, MediaFile
from connectors.catalog import imported, platforms
from connectors.fakes.server import FakePlatform
from connectors.platform import PlatformSpec
from connectors.registry import create
from tests.connectors.social import PNG as PNG_BYTES
from tests.videos import clip


@pytest.fixture(params=list(platforms()))
def spec(request: pytest.FixtureRequest) -> PlatformSpec:
    found: PlatformSpec = platforms()[request.param]
    return found


@pytest.fixture
def fake(spec: PlatformSpec) -> Iterator[FakePlatform]:
    with imported(spec.fake)() as started:
        yield started


@pytest.fixture
def connector(fake: FakePlatform) -> Iterator[Connector]:
    built = create(fake.channel())
    yield built
    built.close()


@pytest.fixture
def required(spec: PlatformSpec, tmp_path: Path) -> tuple[MediaFile, ...]:
    """What a first post must carry on this platform: nothing, or one file it takes (a
    video where it takes videos)."""
    rules = spec.rules
    if not rules.media_required:
        return ()
    if MP4 in rules.media_types:
        return (MediaFile(clip(tmp_path / "required.mp4"), "A short clip", MP4),)
    path = tmp_path / "required.png"
    path.write_bytes(PNG_BYTES)
    return (MediaFile(path, "A card", PNG),)
