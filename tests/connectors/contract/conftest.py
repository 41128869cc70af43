"""The contract suite runs over every platform of the catalog, so a new folder is in it: each
test taking `platform` runs once per platform, each taking `kind` once per media type the
platform's rules accept."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from campaigns.platformrules import MP4, PNG
from connectors.base import Connector, MediaFile
from connectors.catalog import imported, platforms
from connectors.fakes.server import FakePlatform
from connectors.platform import PlatformSpec
from connectors.registry import create
from tests.connectors.contract.samples import KINDS, sample, stills
from tests.connectors.social import IMPATIENT


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "kind" in metafunc.fixturenames:
        pairs = [
            pytest.param(name, kind, id=f"{name}-{kind}")
            for name, spec in platforms().items()
            for kind in KINDS
            if kind in spec.rules.media_types
        ]
        metafunc.parametrize(("platform", "kind"), pairs)
    elif "pictures" in metafunc.fixturenames:
        counts = [
            pytest.param(name, min(spec.rules.max_media, 4), id=name)
            for name, spec in platforms().items()
            if spec.rules.max_media > 1 and stills(spec)
        ]
        metafunc.parametrize(("platform", "pictures"), counts)
    elif "platform" in metafunc.fixturenames:
        metafunc.parametrize("platform", list(platforms()))


@pytest.fixture
def spec(platform: str) -> PlatformSpec:
    return platforms()[platform]


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
def impatient(fake: FakePlatform) -> Iterator[Connector]:
    """The channel's connector with a short time-out (IMPATIENT), for the time-out cases."""
    built = create(replace(fake.channel(), timeout=IMPATIENT))
    yield built
    built.close()


@pytest.fixture
def required(spec: PlatformSpec, tmp_path: Path) -> tuple[MediaFile, ...]:
    """What a first post must carry on this platform: nothing, or one file it takes (a
    video where it takes videos)."""
    rules = spec.rules
    if not rules.media_required:
        return ()
    return (sample(MP4 if MP4 in rules.media_types else PNG, tmp_path, "required"),)


@pytest.fixture
def uploaded(
    spec: PlatformSpec, tmp_path: Path, required: tuple[MediaFile, ...]
) -> tuple[MediaFile, ...]:
    """A post's media that the platform receives before the post itself, where it has any:
    what the post must carry, else a video (uploaded first nearly everywhere), else a
    picture."""
    if required:
        return required
    kinds = [kind for kind in (MP4, PNG) if kind in spec.rules.media_types]
    return (sample(kinds[0], tmp_path, "uploaded"),) if kinds else ()
