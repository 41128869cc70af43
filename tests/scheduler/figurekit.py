"""What the figures tests build on: sent deliveries, a config, a connector with figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from campaigns.platforms import PLATFORMS
from campaigns.yamlsource import SourceMap
from connectors.base import (
    Capabilities,
    ChannelAccess,
    CheckReport,
    Connector,
    Figures,
    PlatformRef,
    Post,
    Published,
)
from scheduler.config import Config, ConfigFile
from scheduler.ledger.api import Sent
from scheduler.ledger.sql import SqlLedger
from tests.scheduler.ledgerkit import LEASE, delivery, ref

Answer = Figures | Exception


class FiguresConnector(Connector):
    """Answers `figures(ref)` from `answers[ref.id]` (a list: one answer per call, the last
    one repeated; an exception is raised); counts every call."""

    platform: ClassVar[str] = "x"
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORMS["x"], idempotency="none", lookup=False, figures=True
    )

    def __init__(self, channel: str = "x-main", **answers: Answer | list[Answer]) -> None:
        super().__init__(ChannelAccess(channel, "x"))
        self.answers: dict[str, list[Answer]] = {
            k: v if isinstance(v, list) else [v] for k, v in answers.items()
        }
        self.asked: list[str] = []

    def publish(self, post: Post) -> Published:
        return Published(ref(f"{post.key}"))

    def check(self) -> CheckReport:
        return CheckReport(ok=True)

    def figures(self, ref: PlatformRef) -> Figures:
        self.asked.append(ref.id)
        queue = self.answers.get(ref.id) or [Figures(likes=len(self.asked))]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


class NoFiguresConnector(FiguresConnector):
    platform: ClassVar[str] = "telegram"
    capabilities: ClassVar[Capabilities] = replace(
        FiguresConnector.capabilities, rules=PLATFORMS["telegram"], figures=False
    )


def sent(
    ledger: SqlLedger,
    at: datetime,
    *posts: str,
    channel: str = "x-main",
    platform: str = "x",
    campaign: str = "sayno",
) -> list[str]:
    """Sync the posts on the channel, due at `at`, and record each as sent then under the
    reference named by its post id; returns their keys."""
    made = [
        delivery(p, channel=channel, platform=platform, campaign=campaign, due=at) for p in posts
    ]
    ledger.sync(made, at, campaigns=[campaign])
    for item in made:
        claim = ledger.claim(channel, "test:1", LEASE, at)
        assert claim is not None and claim.row.key == item.key
        assert ledger.finish(
            claim, Sent(PlatformRef(item.post, f"https://x.example/{item.post}")), at
        )
    return [item.key for item in made]


def config(
    channels: Mapping[str, Mapping[str, Any]] | Sequence[str] = ("x-main",),
    **figures: Any,
) -> Config:
    """A config with these channels (names: on X) and `policies.figures` as given."""
    if not isinstance(channels, Mapping):
        channels = {name: {"platform": "x"} for name in channels}
    data = {"channels": dict(channels), "policies": {"figures": figures}}
    return Config(ConfigFile.model_validate(data), Path("config.yaml"), SourceMap("config.yaml"))
