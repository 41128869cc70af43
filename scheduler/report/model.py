"""What a campaign report says, as typed values: built by `gather`, written by one module per
format (`table`, `markdown`, `csvfile`, `jsonfile`, `html`).

`Report.as_json()` is the documented, stable document of `clarion report --format json`
(docs/report.md lists its fields): a field is only ever added, and `SCHEMA_VERSION` changes
when one is renamed, removed or changes meaning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from scheduler.moments import utc_iso

SCHEMA_VERSION = 1

FIGURES = ("likes", "reposts", "replies", "quotes", "views", "clicks")
"""The figures every platform's counts are mapped to (`connectors.base.Figures`)."""
RESPONSES = ("likes", "reposts", "replies", "quotes")
"""What adds up to a post's responses; views are its reach, kept apart."""
DIMENSIONS = ("language", "audience", "channel", "platform", "post", "day")
"""What the report breaks sent posts down by."""
STATES = ("planned", "held", "claimed", "sent", "failed", "unknown", "expired", "cancelled")
"""A delivery's state in the report: the ledger's, with `held` for a planned delivery that
waits on a paused campaign or a held channel."""


class Coverage(StrEnum):
    """Whether a sent post has figures, and if not, why: never shown as zeros."""

    COLLECTED = "collected"
    NOT_YET = "not-collected-yet"
    """Figures are expected but none was read yet (collection runs after publishing)."""
    UNSUPPORTED = "unsupported"
    """The platform has no API for them (Telegram, webhooks)."""
    NOT_PERMITTED = "not-permitted"
    """This account may not read them."""
    GONE = "gone"
    """The post was deleted; figures read before are kept."""


COVERAGE_WORDS = {
    Coverage.COLLECTED: "figures collected",
    Coverage.NOT_YET: "not collected yet",
    Coverage.UNSUPPORTED: "the platform offers no figures",
    Coverage.NOT_PERMITTED: "this account may not read its figures",
    Coverage.GONE: "the post was deleted",
}


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One reading of a post's figures; None: the platform does not give that figure."""

    at: datetime
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    views: int | None = None
    clicks: int | None = None

    def figure(self, name: str) -> int | None:
        value: int | None = getattr(self, name)
        return value

    @property
    def values(self) -> tuple[int | None, ...]:
        """The figures in the order of `FIGURES`."""
        return (self.likes, self.reposts, self.replies, self.quotes, self.views, self.clicks)

    @property
    def responses(self) -> int | None:
        present = [
            v for v in (self.likes, self.reposts, self.replies, self.quotes) if v is not None
        ]
        return sum(present) if present else None

    def as_json(self) -> dict[str, Any]:
        return {"at": utc_iso(self.at), **dict(zip(FIGURES, self.values, strict=True))}


@dataclass(frozen=True, slots=True)
class PostResult:
    """One delivery of the period: where and when it went out, and how it was received."""

    key: str
    campaign: str
    post: str
    language: str | None
    audience: str | None
    channel: str
    platform: str
    state: str
    """One of `STATES`."""
    due_utc: datetime
    sent_utc: datetime | None
    url: str | None
    text: str
    coverage: Coverage | None
    """None until the delivery is sent."""
    coverage_note: str | None
    """What the platform said when collection ended (`figure_collection.ended_reason`)."""
    snapshots: tuple[Snapshot, ...] = ()
    """Oldest first."""

    @property
    def late(self) -> timedelta | None:
        return None if self.sent_utc is None else self.sent_utc - self.due_utc

    @property
    def latest(self) -> Snapshot | None:
        return self.snapshots[-1] if self.snapshots else None

    @property
    def responses(self) -> int | None:
        return None if self.latest is None else self.latest.responses

    def figure(self, name: str) -> int | None:
        return None if self.latest is None else self.latest.figure(name)

    def as_json(self) -> dict[str, Any]:
        late = self.late
        return {
            "key": self.key,
            "campaign": self.campaign,
            "post": self.post,
            "language": self.language,
            "audience": self.audience,
            "channel": self.channel,
            "platform": self.platform,
            "state": self.state,
            "due_utc": utc_iso(self.due_utc),
            "sent_utc": utc_iso(self.sent_utc),
            "late_seconds": None if late is None else seconds(late),
            "url": self.url,
            "text": self.text,
            "figures": None if self.coverage is None else self.coverage.value,
            "figures_note": self.coverage_note,
            "latest": None if self.latest is None else self.latest.as_json(),
            "responses": self.responses,
            "snapshots": [s.as_json() for s in self.snapshots],
        }


@dataclass(frozen=True, slots=True)
class Group:
    """The sent posts of one language, audience, channel, platform, post or day, added up."""

    name: str
    sent: int
    measured: int
    """How many of them have figures."""
    totals: Mapping[str, int | None]
    """Each figure summed over the measured posts; None when none of them gives it."""
    responses: int | None
    without: Mapping[str, int]
    """How many posts lack figures, by `Coverage` value."""

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sent": self.sent,
            "measured": self.measured,
            **{name: self.totals[name] for name in FIGURES},
            "responses": self.responses,
            "without_figures": dict(self.without),
        }


@dataclass(frozen=True, slots=True)
class Lateness:
    """How late the late posts went out (None when none was late)."""

    median: timedelta | None
    p95: timedelta | None
    max: timedelta | None

    def as_json(self) -> dict[str, float | None]:
        return {
            name: None if value is None else seconds(value)
            for name, value in (("median", self.median), ("p95", self.p95), ("max", self.max))
        }


@dataclass(frozen=True, slots=True)
class Health:
    """Whether the campaign went out as planned."""

    states: Mapping[str, int]
    """Deliveries by state (`STATES`)."""
    on_time: int
    late: int
    """Sent later than `late_after` past their time."""
    late_after: timedelta
    lateness: Lateness

    @property
    def total(self) -> int:
        return sum(self.states.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            **{state: self.states[state] for state in STATES},
            "sent_on_time": self.on_time,
            "sent_late": self.late,
            "late_after_seconds": seconds(self.late_after),
            "lateness_seconds": self.lateness.as_json(),
        }


@dataclass(frozen=True, slots=True)
class Report:
    generated_utc: datetime
    ledger: str
    """The ledger's address, password hidden."""
    campaign: str | None
    """None: every campaign in the ledger."""
    start: datetime | None
    end: datetime | None
    """The period: deliveries due at or after `start` and before `end`."""
    day_zone: str
    """The zone whose calendar days `groups["day"]` counts."""
    health: Health
    posts: Sequence[PostResult]
    """Every delivery of the period, in time order."""
    groups: Mapping[str, Sequence[Group]]
    """By each of `DIMENSIONS`."""
    top: Sequence[PostResult]
    bottom: Sequence[PostResult]
    """The measured posts with the most and the fewest responses (at most five each; with
    fewer than ten measured posts, the better half and the rest)."""

    @property
    def sent(self) -> list[PostResult]:
        return [p for p in self.posts if p.sent_utc is not None]

    @property
    def figures_given(self) -> list[str]:
        """The figures that at least one post of the report has."""
        return [f for f in FIGURES if any(p.figure(f) is not None for p in self.posts)]

    def as_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "generated_utc": utc_iso(self.generated_utc),
            "ledger": self.ledger,
            "campaign": self.campaign,
            "from_utc": utc_iso(self.start),
            "until_utc": utc_iso(self.end),
            "day_zone": self.day_zone,
            "health": self.health.as_json(),
            "without_figures": without_figures(self.posts),
            "groups": {name: [g.as_json() for g in self.groups[name]] for name in DIMENSIONS},
            "top": [p.key for p in self.top],
            "bottom": [p.key for p in self.bottom],
            "posts": [p.as_json() for p in self.posts],
        }


def without_figures(posts: Iterable[PostResult]) -> dict[str, int]:
    """Sent posts without figures, by why (`Coverage` value)."""
    counts: dict[str, int] = {}
    for post in posts:
        if post.latest is None and post.coverage is not None:
            counts[post.coverage.value] = counts.get(post.coverage.value, 0) + 1
    return counts


def seconds(delta: timedelta) -> float:
    return round(delta.total_seconds(), 3)
