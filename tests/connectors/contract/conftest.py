"""The contract suite runs over every platform of the catalog: a new folder is in it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.base import Connector
from connectors.catalog import imported, platforms
from connectors.fakes.server import FakePlatform
from connectors.platform import PlatformSpec
from connectors.registry import create


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
