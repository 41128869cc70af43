"""A TikTok fake per test, and connectors to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from connectors.platforms.tiktok.connector import TikTokConnector
from connectors.platforms.tiktok.fake import TikTokFake

Connect = Callable[..., TikTokConnector]


@pytest.fixture
def fake() -> Iterator[TikTokFake]:
    with TikTokFake() as server:
        yield server


@pytest.fixture
def connect(fake: TikTokFake, tmp_path: Path) -> Iterator[Connect]:
    """A connector to the fake, its state under tmp_path unless `state_dir=None`; options
    given replace the fake channel's."""
    made: list[TikTokConnector] = []

    def make(state: Path | None = tmp_path / "state", **options: Any) -> TikTokConnector:
        access = fake.channel()
        chosen = {**access.options, **options}
        if state is not None:
            chosen["state_dir"] = str(state)
        connector = TikTokConnector(replace(access, options=chosen))
        connector.status_interval = 0.0
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()
