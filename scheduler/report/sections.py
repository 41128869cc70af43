"""What a report shows a person, as titled tables: the terminal, Markdown and HTML formats lay
out these same sections (in HTML they are also the charts' text alternatives)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from scheduler.moments import span, utc_minute
from scheduler.report.model import (
    COVERAGE_WORDS,
    DIMENSIONS,
    Coverage,
    Group,
    PostResult,
    Report,
    without_figures,
)

MISSING = "n/a"
"""A figure the platform does not give, or a post without figures: never a zero."""


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    url: str


Cell = str | Link


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    """A stable identifier (the HTML's anchors, the chart a table stands for)."""
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    notes: Sequence[str] = field(default_factory=tuple)
    numeric: frozenset[int] = frozenset()
    """Column indexes aligned to the right."""


HEALTH_LABELS = (
    ("planned", "Planned, still to go out"),
    ("held", "Held (campaign paused or channel held)"),
    ("claimed", "Going out now"),
    ("sent_on_time", "Sent on time"),
    ("sent_late", "Sent late"),
    ("failed", "Failed"),
    ("unknown", "Unknown: may or may not have gone out"),
    ("expired", "Expired: too late, not sent"),
    ("cancelled", "Cancelled"),
)
GROUP_TITLES = {
    "language": "By language",
    "audience": "By audience",
    "channel": "By channel",
    "platform": "By platform",
    "post": "By post",
    "day": "By day",
}
GROWTH_SHOWN = 10
"""How many posts the growth section follows (the most answered ones)."""


def heading(report: Report) -> tuple[str, list[str]]:
    """The report's title and the lines under it: scope, period, when it was made."""
    title = f"Campaign report: {report.campaign}" if report.campaign else "Report of every campaign"
    period = "all deliveries"
    if report.start or report.end:
        start = f"from {utc_minute(report.start)}" if report.start else ""
        end = f"until {utc_minute(report.end)} (excluded)" if report.end else ""
        period = "deliveries due " + " ".join(part for part in (start, end) if part)
    lines = [
        f"Period: {period}.",
        f"Made {utc_minute(report.generated_utc)} from the ledger {report.ledger}.",
    ]
    return title, lines


def sections(report: Report) -> list[Section]:
    shown = report.figures_given
    return [
        health(report),
        *([missing] if (missing := figures_missing(report)) else []),
        *(
            group_section(name, report.groups[name], shown)
            for name in DIMENSIONS
            if [g.name for g in report.groups[name]] != ["-"]  # no audiences, or no languages
        ),
        ranked("top", "Most answered posts", report.top, shown),
        ranked("bottom", "Least answered posts", report.bottom, shown),
        growth(report),
        published(report),
    ]


def health(report: Report) -> Section:
    h = report.health
    counts = {**h.states, "sent_on_time": h.on_time, "sent_late": h.late}
    rows: list[list[Cell]] = [[label, f"{counts[name]:,}"] for name, label in HEALTH_LABELS]
    rows.append(["Total", f"{h.total:,}"])
    notes = [f"Late means sent more than {span(h.late_after)} after its time."]
    lateness = h.lateness
    if lateness.median and lateness.p95 and lateness.max:
        notes.append(
            f"The late ones went out {span(lateness.median)} late at the median, "
            f"{span(lateness.p95)} at the 95th percentile, {span(lateness.max)} at most."
        )
    return Section(
        "health", "Delivery health", ["Deliveries", "Count"], rows, notes, frozenset({1})
    )


def figures_missing(report: Report) -> Section | None:
    counts = without_figures(report.posts)
    if not counts:
        return None
    platforms: dict[str, set[str]] = {}
    for post in report.sent:
        if post.latest is None and post.coverage is not None:
            platforms.setdefault(post.coverage.value, set()).add(post.platform)
    rows: list[list[Cell]] = [
        [COVERAGE_WORDS[Coverage(why)], f"{count:,}", ", ".join(sorted(platforms[why]))]
        for why, count in sorted(counts.items())
    ]
    note = "These posts are left out of the figures below, never counted as zero."
    return Section(
        "missing",
        "Sent posts without figures",
        ["Why", "Posts", "Platforms"],
        rows,
        [note],
        frozenset({1}),
    )


def group_section(name: str, groups: Sequence[Group], shown: Sequence[str]) -> Section:
    """`shown`: the figures to give a column (those that some post has)."""
    rows: list[list[Cell]] = [
        [
            g.name,
            f"{g.sent:,}",
            f"{g.measured:,}",
            *(number(g.totals[figure]) for figure in shown),
            number(g.responses),
        ]
        for g in groups
    ]
    columns = [name.capitalize(), "Sent", "With figures", *_titles(shown), "Responses"]
    return Section(
        name, GROUP_TITLES[name], columns, rows, numeric=frozenset(range(1, len(columns)))
    )


def ranked(name: str, title: str, posts: Sequence[PostResult], shown: Sequence[str]) -> Section:
    rows: list[list[Cell]] = [
        [
            post_link(p),
            p.text,
            p.channel,
            variant(p),
            number(p.responses),
            *(number(p.figure(figure)) for figure in shown),
        ]
        for p in posts
    ]
    columns = ["Post", "Text", "Channel", "Language", "Responses", *_titles(shown)]
    notes = [] if rows else ["Too few sent posts have figures yet to rank them."]
    return Section(name, title, columns, rows, notes, frozenset(range(4, len(columns))))


def growth(report: Report) -> Section:
    followed = [p for p in report.top if len(p.snapshots) > 1]
    followed += [
        p
        for p in sorted(report.sent, key=lambda p: (-(p.responses or 0), p.key))
        if len(p.snapshots) > 1 and p not in followed
    ]
    rows: list[list[Cell]] = [
        [
            post_link(p),
            " · ".join(
                f"{span(s.at - p.sent_utc)}: {number(s.responses)}"
                for s in p.snapshots
                if p.sent_utc is not None
            ),
        ]
        for p in followed[:GROWTH_SHOWN]
    ]
    notes = ["Responses at each reading, by time after sending."]
    if not rows:
        notes = ["No post has been read more than once yet."]
    return Section("growth", "How the most answered posts grew", ["Post", "Readings"], rows, notes)


def published(report: Report) -> Section:
    rows: list[list[Cell]] = [
        [
            utc_minute(p.sent_utc),
            post_link(p),
            p.channel,
            variant(p),
            number(p.responses) if p.latest else COVERAGE_WORDS[p.coverage or Coverage.NOT_YET],
        ]
        for p in report.sent
    ]
    columns = ["Sent", "Post", "Channel", "Language", "Responses"]
    notes = [] if rows else ["Nothing was sent in this period."]
    return Section("published", "Every published post", columns, rows, notes)


def _titles(figures: Sequence[str]) -> list[str]:
    return [figure.capitalize() for figure in figures]


def post_link(post: PostResult) -> Cell:
    return Link(post.key, post.url) if post.url else post.key


def variant(post: PostResult) -> str:
    if post.audience:
        return f"{post.language or '-'} ({post.audience})"
    return post.language or "-"


def number(value: int | None) -> str:
    return MISSING if value is None else f"{value:,}"
