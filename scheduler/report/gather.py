"""Reading a report out of the ledger: the deliveries of a period, their figures' snapshots
(`figures`) and where their collection ended (`figure_collection`, kept by scheduler/collect.py),
in three queries of one read transaction (a campaign of 10,000 posts and 30,000 snapshots is
read in about half a second of CPU time: bench/bench_report.py)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from scheduler.ledger.tables import deliveries, figure_collection, figures
from scheduler.report.model import (
    DIMENSIONS,
    FIGURES,
    RESPONSES,
    STATES,
    Coverage,
    Group,
    Health,
    Lateness,
    PostResult,
    Report,
    Snapshot,
    without_figures,
)

if TYPE_CHECKING:
    from scheduler.ledger.sql import SqlLedger

log = logging.getLogger("clarion.report")

RANKED = 5
"""How many posts the top and the bottom lists hold."""
TEXT_SHOWN = 120
"""How many characters of a post's text the report keeps."""

_D = deliveries.c
_C = figure_collection.c
_ENDED = {c.value: c for c in (Coverage.UNSUPPORTED, Coverage.NOT_PERMITTED, Coverage.GONE)}


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime | None = None
    end: datetime | None = None
    """Deliveries due at or after `start` and before `end`."""


def platform_has_figures(platform: str) -> bool:
    """Whether Clarion's connector for the platform reads figures at all."""
    from connectors.registry import connector_class

    try:
        return connector_class(platform).capabilities.figures
    except ValueError:
        return False


def build_report(
    ledger: SqlLedger,
    campaign: str | None = None,
    *,
    period: Period = Period(),
    late_after: timedelta = timedelta(minutes=2),
    day_zone: str = "UTC",
    now: datetime | None = None,
    has_figures: Callable[[str], bool] = platform_has_figures,
) -> Report:
    """The report of one campaign (None: all) over a period. `late_after`: a post sent later
    than this past its time counts as late (config.yaml's `policies.alert_lateness`)."""
    now = now or datetime.now(UTC)
    chosen = _chosen(campaign, period)
    with ledger.reading() as connection:
        rows = connection.execute(
            select(
                _D.key,
                _D.campaign,
                _D.post,
                _D.channel,
                _D.platform,
                _D.state,
                _D.due_utc,
                _D.sent_utc,
                _D.platform_url,
                _D.payload["language"].as_string().label("language"),
                _D.payload["audience"].as_string().label("audience"),
                _D.payload["text"].as_string().label("text"),
            )
            .where(*chosen)
            .order_by(_D.due_utc, _D.key)
        ).all()
        keys = select(_D.key).where(*chosen)
        readings = connection.execute(
            select(figures.c.key, figures.c.at, *(figures.c[name] for name in FIGURES))
            .where(figures.c.key.in_(keys))
            .order_by(figures.c.key, figures.c.at, figures.c.id)
        ).all()
        found = connection.execute(
            select(_C.key, _C.ended, _C.ended_reason).where(_C.key.in_(keys), _C.ended.is_not(None))
        )
        ended = {r.key: (r.ended, r.ended_reason) for r in found}
    paused = {c.campaign for c in ledger.controls(now)}
    held_channels = set(ledger.held_channels())
    snapshots = _snapshots(readings)
    supported = {platform: has_figures(platform) for platform in {r.platform for r in rows}}
    posts = []
    for r in rows:
        state = r.state
        if state == "planned" and (
            None in paused or r.campaign in paused or r.channel in held_channels
        ):
            state = "held"
        sent = r.sent_utc if state == "sent" else None
        shots = snapshots.get(r.key, ())
        coverage, note = (None, None)
        if sent is not None:
            coverage, note = _coverage(shots, ended.get(r.key), supported[r.platform])
        posts.append(
            PostResult(
                key=r.key,
                campaign=r.campaign,
                post=r.post,
                language=r.language,
                audience=r.audience,
                channel=r.channel,
                platform=r.platform,
                state=state,
                due_utc=r.due_utc,
                sent_utc=sent,
                url=r.platform_url if sent else None,
                text=_shortened(r.text or ""),
                coverage=coverage,
                coverage_note=note,
                snapshots=shots,
            )
        )
    log.debug("report of %s: %d deliveries, %d snapshots", campaign, len(posts), len(readings))
    sent_posts = [p for p in posts if p.sent_utc is not None]
    zone = ZoneInfo(day_zone)
    answered = [(-n, p.key, p) for p in sent_posts if (n := p.responses) is not None]
    ranked = [p for *_, p in sorted(answered, key=lambda a: a[:2])]
    top = ranked[: min(RANKED, (len(ranked) + 1) // 2)]
    return Report(
        generated_utc=now,
        ledger=ledger.url,
        campaign=campaign,
        start=period.start,
        end=period.end,
        day_zone=day_zone,
        health=_health(posts, late_after),
        posts=posts,
        groups={
            name: _groups(sent_posts, _dimension(name, campaign is None, zone))
            for name in DIMENSIONS
        },
        top=top,
        bottom=list(reversed(ranked[len(top) :]))[:RANKED],
    )


def _chosen(campaign: str | None, period: Period) -> list[Any]:
    chosen = []
    if campaign is not None:
        chosen.append(_D.campaign == campaign)
    if period.start is not None:
        chosen.append(_D.due_utc >= period.start)
    if period.end is not None:
        chosen.append(_D.due_utc < period.end)
    return chosen


def _snapshots(readings: Sequence[Any]) -> dict[str, tuple[Snapshot, ...]]:
    found: dict[str, list[Snapshot]] = defaultdict(list)
    for key, *values in readings:
        found[key].append(Snapshot(*values))
    return {key: tuple(shots) for key, shots in found.items()}


def _coverage(
    shots: tuple[Snapshot, ...], ended: tuple[str | None, str | None] | None, supported: bool
) -> tuple[Coverage, str | None]:
    if ended is not None and ended[0] in _ENDED:
        return _ENDED[ended[0]], ended[1]
    if shots:
        return Coverage.COLLECTED, None
    return (Coverage.NOT_YET if supported else Coverage.UNSUPPORTED), None


def _shortened(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TEXT_SHOWN else line[: TEXT_SHOWN - 1] + "…"


def _health(posts: Sequence[PostResult], late_after: timedelta) -> Health:
    states = dict.fromkeys(STATES, 0)
    for post in posts:
        states[post.state] += 1
    lateness = sorted(p.late for p in posts if p.late is not None and p.late > late_after)
    return Health(
        states=states,
        on_time=states["sent"] - len(lateness),
        late=len(lateness),
        late_after=late_after,
        lateness=Lateness(
            median=_median(lateness),
            p95=lateness[max(0, -(-95 * len(lateness) // 100) - 1)] if lateness else None,
            max=lateness[-1] if lateness else None,
        ),
    )


def _median(ordered: Sequence[timedelta]) -> timedelta | None:
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _dimension(name: str, every_campaign: bool, zone: ZoneInfo) -> Callable[[PostResult], str]:
    def post(p: PostResult) -> str:
        return f"{p.campaign}/{p.post}" if every_campaign else p.post

    def day(p: PostResult) -> str:
        assert p.sent_utc is not None
        return p.sent_utc.astimezone(zone).date().isoformat()

    return {
        "language": lambda p: p.language or "-",
        "audience": lambda p: p.audience or "-",
        "channel": lambda p: p.channel,
        "platform": lambda p: p.platform,
        "post": post,
        "day": day,
    }[name]


def _groups(posts: Iterable[PostResult], name_of: Callable[[PostResult], str]) -> list[Group]:
    grouped: dict[str, list[PostResult]] = defaultdict(list)
    for post in posts:
        grouped[name_of(post)].append(post)
    return [_group(name, grouped[name]) for name in sorted(grouped)]


def _group(name: str, posts: Sequence[PostResult]) -> Group:
    totals: dict[str, int | None] = dict.fromkeys(FIGURES)
    measured = 0
    for post in posts:
        if not post.snapshots:
            continue
        measured += 1
        for figure, value in zip(FIGURES, post.snapshots[-1].values, strict=True):
            if value is not None:
                totals[figure] = (totals[figure] or 0) + value
    responses = [value for figure in RESPONSES if (value := totals[figure]) is not None]
    return Group(
        name=name,
        sent=len(posts),
        measured=measured,
        totals=totals,
        responses=sum(responses) if responses else None,
        without=without_figures(posts),
    )
