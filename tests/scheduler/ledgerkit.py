"""What the ledger and dispatch tests build on: deliveries, a clock, scripted connectors."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from campaigns.delivery import Delivery, DeliveryKey, Media, Status
from campaigns.platforms import PLATFORMS
from connectors.base import (
    Capabilities,
    ChannelAccess,
    CheckReport,
    Connector,
    PlatformRef,
    Post,
    Published,
)

NOW = datetime(2027, 2, 9, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def delivery(
    post: str = "p1",
    *,
    campaign: str = "sayno",
    channel: str = "x-main",
    platform: str = "x",
    language: str = "en",
    due: datetime = NOW,
    deadline: datetime | None = None,
    text: str | None = None,
    part: int | None = None,
    size: int = 1,
    status: Status = "approved",
    media: tuple[Media, ...] = (),
    source: str = "sayno.yaml:3:5",
) -> Delivery:
    """A delivery as the plan expander makes it; thread parts reply to the previous part."""
    base = DeliveryKey(campaign, post, None, language, channel)
    return Delivery(
        key=str(replace(base, part=part or None)),
        campaign=campaign,
        post=post,
        channel=channel,
        platform=platform,
        language=language,
        audience=None,
        due_utc=due,
        timezone="Europe/Brussels",
        deadline_utc=deadline,
        text=text if text is not None else f"{post} in {language}",
        thread_index=(part or 1) - 1,
        thread_size=size if part else 1,
        parent_key=str(replace(base, part=part - 1)) if part and part > 1 else None,
        media=media,
        link=None,
        status=status,
        length=10,
        limit=280,
        source=source,
    )


def thread(
    post: str, parts: int, *, due: datetime = NOW, deadline: datetime | None = None
) -> list[Delivery]:
    return [
        delivery(post, part=n, size=parts, due=due, deadline=deadline) for n in range(1, parts + 1)
    ]


def ref(n: int | str) -> PlatformRef:
    return PlatformRef(str(n), f"https://x.example/status/{n}")


class Clock:
    """Time that moves only when told: `wait` moves it instead of sleeping."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now
        self.waits: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += timedelta(seconds=seconds)
        return stop.is_set()


Step = Published | Exception


class ScriptedConnector(Connector):
    """Answers each publish with the next scripted step (an exception is raised); published
    by default. `lookup` answers from `found`; `check` from `healthy`."""

    platform: ClassVar[str] = "x"
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORMS["x"], idempotency="none", lookup=True
    )

    def __init__(self, channel: str = "x-main", *steps: Step) -> None:
        super().__init__(ChannelAccess(channel, "x"))
        self.steps = list(steps)
        self.posts: list[Post] = []
        self.found: dict[str, PlatformRef] = {}
        self.healthy = True

    def publish(self, post: Post) -> Published:
        self.posts.append(post)
        step = self.steps.pop(0) if self.steps else Published(ref(len(self.posts)))
        if isinstance(step, Exception):
            raise step
        return step

    def lookup(self, post: Post) -> PlatformRef | None:
        return self.found.get(post.key)

    def check(self) -> CheckReport:
        return CheckReport(ok=self.healthy)
