"""What the web view shows: the plans, joined with what the ledger says about each delivery.

A `Board` is built per request from a `Source`, which keeps the loaded plans until a campaign
file changes and reads the ledger afresh each time (that is the live part).
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from campaigns.delivery import Delivery
from campaigns.problems import Location, Problem
from scheduler.ledger.api import State

if TYPE_CHECKING:
    from campaigns.loader import Plan
    from campaigns.model import Campaign
    from scheduler.config import Config
    from scheduler.ledger.api import Control
    from scheduler.ledger.sql import SqlLedger

STATES = (
    "planned",
    "late",
    "paused",
    "held",
    "publishing",
    "sent",
    "failed",
    "unknown",
    "expired",
    "cancelled",
    "draft",
    "not-scheduled",
)
"""The states a delivery is shown in, in the order totals list them."""

UNKNOWN_HELP = (
    "It may or may not have gone out. Check the account: if the post is there, resolve it "
    "as sent with its address; if not, resolve it as not sent (it goes out again)."
)


@dataclass(frozen=True, slots=True)
class Live:
    """A delivery's state as shown: the ledger's, refined by pauses, holds and the clock."""

    state: str
    detail: str | None = None
    url: str | None = None
    """The real post, once sent (http and https addresses only)."""
    attempts: int = 0
    ledger_state: str | None = None
    """None when the ledger does not hold the delivery (no ledger, or not loaded yet)."""


@dataclass(frozen=True, slots=True)
class Item:
    delivery: Delivery
    live: Live

    @property
    def key(self) -> str:
        return self.delivery.key


@dataclass(frozen=True, slots=True)
class Window:
    """A blackout: no post of the campaign goes out on its channels in [start, end)."""

    campaign: str
    start: datetime
    end: datetime
    reason: str
    channels: frozenset[str] | None


@dataclass(slots=True)
class PostRow:
    """One post of the overview: every delivery of it, across languages, audiences, channels."""

    campaign: str
    post: str
    source: str
    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def languages(self) -> list[str]:
        return sorted({i.delivery.language for i in self.items if i.delivery.language})

    @property
    def channels(self) -> list[str]:
        return sorted({i.delivery.channel for i in self.items})

    @property
    def audiences(self) -> list[str]:
        return sorted({i.delivery.audience for i in self.items if i.delivery.audience})

    @property
    def states(self) -> list[tuple[str, int]]:
        counts = Counter(i.live.state for i in self.items)
        return [(s, counts[s]) for s in STATES if counts[s]]

    @property
    def warnings(self) -> list[str]:
        return sorted({w for i in self.items for w in i.delivery.warnings})

    def next_due(self, now: datetime) -> datetime | None:
        waiting = [i.delivery.due_utc for i in self.items if i.live.state in WAITING]
        ahead = [due for due in waiting if due >= now]
        return min(ahead or waiting, default=None)


WAITING = frozenset({"planned", "late", "paused", "held"})


@dataclass(frozen=True, slots=True)
class Board:
    now: datetime
    campaigns: Mapping[str, Campaign]
    items: Sequence[Item]
    """In time order."""
    problems: Sequence[Problem]
    posts: Sequence[PostRow]
    blackouts: Sequence[Window]
    controls: Sequence[Control] = ()
    held_channels: Mapping[str, str] = field(default_factory=dict)
    ledger: str | None = None
    """The ledger's address (password hidden), or None when there is none yet."""
    unlinked: Sequence[Problem] = ()
    """Problems of files none of whose posts is shown (a file that failed to load)."""

    @property
    def totals(self) -> list[tuple[str, int]]:
        counts = Counter(i.live.state for i in self.items)
        return [(s, counts[s]) for s in STATES if counts[s]]

    @property
    def channels(self) -> list[str]:
        return sorted({i.delivery.channel for i in self.items})

    @property
    def languages(self) -> list[str]:
        return sorted({i.delivery.language for i in self.items if i.delivery.language})

    @property
    def audiences(self) -> list[str]:
        return sorted({i.delivery.audience for i in self.items if i.delivery.audience})

    @property
    def zones(self) -> list[str]:
        """Campaign zones first, then the audiences' zones, then UTC."""
        campaign = [c.timezone for c in self.campaigns.values()]
        audience = sorted({i.delivery.timezone for i in self.items} - set(campaign))
        return list(dict.fromkeys([*campaign, *audience, "UTC"]))

    @property
    def default_zone(self) -> str:
        zones = {c.timezone for c in self.campaigns.values()}
        return zones.pop() if len(zones) == 1 else "UTC"

    def post(self, campaign: str, post: str) -> PostRow | None:
        return next((p for p in self.posts if p.campaign == campaign and p.post == post), None)

    def paused(self, campaign: str | None) -> Control | None:
        return next((c for c in self.controls if c.campaign == campaign), None)


@dataclass(frozen=True, slots=True)
class Filters:
    """What the calendar shows; every field is a URL parameter of the same name."""

    campaign: str = ""
    channel: str = ""
    language: str = ""
    audience: str = ""
    state: str = ""
    start: date | None = None
    """Inclusive, a day on the viewer's clock."""
    end: date | None = None
    """Inclusive, a day on the viewer's clock."""

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> Filters:
        return cls(
            campaign=args.get("campaign", ""),
            channel=args.get("channel", ""),
            language=args.get("language", ""),
            audience=args.get("audience", ""),
            state=args.get("state", ""),
            start=_day(args.get("from", "")),
            end=_day(args.get("until", "")),
        )

    def params(self) -> dict[str, str]:
        values = {
            "campaign": self.campaign,
            "channel": self.channel,
            "language": self.language,
            "audience": self.audience,
            "state": self.state,
            "from": self.start.isoformat() if self.start else "",
            "until": self.end.isoformat() if self.end else "",
        }
        return {name: value for name, value in values.items() if value}

    def apply(self, items: Iterable[Item], zone: str) -> list[Item]:
        from campaigns.preview.common import local_day

        return [
            i
            for i in items
            if (not self.campaign or i.delivery.campaign == self.campaign)
            and (not self.channel or i.delivery.channel == self.channel)
            and (not self.language or i.delivery.language == self.language)
            and (not self.audience or i.delivery.audience == self.audience)
            and (not self.state or i.live.state == self.state)
            and (self.start is None or local_day(i.delivery.due_utc, zone) >= self.start)
            and (self.end is None or local_day(i.delivery.due_utc, zone) <= self.end)
        ]


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """What the pages need of a ledger row (read without decoding its payload: a plan of
    10,000 deliveries is read every few seconds)."""

    campaign: str
    channel: str
    state: State
    due_utc: datetime
    attempts: int
    next_attempt_utc: datetime | None
    last_error: str | None
    lease_owner: str | None
    url: str | None


def read_rows(ledger: SqlLedger) -> dict[str, LedgerRow]:
    from sqlalchemy import select

    from scheduler.ledger.tables import deliveries as table

    columns = [table.c[name] for name in ("key", *LedgerRow.__slots__) if name != "url"]
    with ledger.engine.connect() as connection:
        result = connection.execute(select(*columns, table.c.platform_url))
        return {
            r.key: LedgerRow(
                r.campaign,
                r.channel,
                State(r.state),
                r.due_utc,
                r.attempts,
                r.next_attempt_utc,
                r.last_error,
                r.lease_owner,
                r.platform_url,
            )
            for r in result
        }


def live_state(
    delivery: Delivery,
    row: LedgerRow | None,
    *,
    held_file: bool,
    paused: Mapping[str | None, Control],
    held_channels: Mapping[str, str],
    now: datetime,
) -> Live:
    if row is None:
        if held_file:
            return Live("not-scheduled", "its campaign file has errors: fix them to schedule it")
        if delivery.status == "draft":
            return Live("draft", "a draft: approve it in the campaign file to schedule it")
        return Live("planned")
    state = row.state.value

    def live(shown: str, detail: str | None, url: str | None = None) -> Live:
        return Live(shown, detail, url, row.attempts, state)

    if state == "planned":
        control = paused.get(row.campaign) or paused.get(None)
        if control is not None:
            why = f": {control.reason}" if control.reason else ""
            return live("paused", f"paused by {control.by}{why}")
        if row.channel in held_channels:
            return live("held", f"channel held: {held_channels[row.channel]}")
        if row.due_utc <= now:
            wait = row.next_attempt_utc
            detail = row.last_error or "due: goes out at the daemon's next sweep"
            if wait is not None and wait > now:
                detail = f"next try at {wait:%H:%M:%S} UTC: {detail}"
            return live("late", detail)
        return live("planned", row.last_error)
    if state == "claimed":
        return live("publishing", f"being published by {row.lease_owner}")
    if state == "sent":
        url = row.url if row.url and _web_address(row.url) else None
        return live("sent", None, url)
    if state == "unknown":
        return live("unknown", f"{row.last_error or 'outcome unknown'}. {UNKNOWN_HELP}")
    return live(state, row.last_error)


def _web_address(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def link_problems(problems: Sequence[Problem], posts: Sequence[PostRow]) -> list[Problem]:
    """Adds each problem to its posts: the post whose entry in the file holds the problem's
    line, or every post of the file for a problem above the first post (the campaign's
    settings). Returns the problems of files that have no post shown."""
    by_file: dict[str, list[tuple[int, PostRow]]] = defaultdict(list)
    for row in posts:
        file, line = _file_line(row.source)
        by_file[file].append((line, row))
    for rows in by_file.values():
        rows.sort(key=lambda entry: entry[0])
    unlinked: list[Problem] = []
    for problem in problems:
        rows = by_file.get(problem.where.file, [])
        if not rows:
            unlinked.append(problem)
            continue
        at = bisect.bisect_right([line for line, _ in rows], problem.where.line)
        touched = [rows[at - 1][1]] if at else [row for _, row in rows]
        for row in touched:
            row.problems.append(problem)
    return unlinked


def _file_line(source: str) -> tuple[str, int]:
    where = Location.parse(source)
    return where.file, where.line


def blackout_windows(campaigns: Iterable[Campaign], now: datetime) -> list[Window]:
    """The campaigns' blackouts as instants; one that cannot be resolved is left out (the
    campaign's problems already say why)."""
    from campaigns.timeexpr import resolve

    windows = []
    for campaign in campaigns:
        definition = campaign.definition
        anchors = {name: now if v == "now" else v for name, v in definition.anchors.items()}
        for blackout in definition.blackouts:
            try:
                start = resolve(blackout.start, anchors, definition.timezone).utc
                end = resolve(blackout.until, anchors, definition.timezone, end=True).utc
            except (KeyError, ValueError):
                continue
            channels = frozenset(blackout.channels) if blackout.channels is not None else None
            windows.append(Window(campaign.id, start, end, blackout.reason, channels))
    return windows


class Source:
    """Where the pages' data comes from: the campaign files and, when there is one, the
    ledger. Thread-safe: the web server answers requests in several threads."""

    def __init__(self, config: Config, paths: Sequence[Path] = (), *, ledger: bool = True) -> None:
        """`ledger=False`: the plans alone (a static export shows no live state)."""
        self.config = config
        self.paths = list(paths)
        self._use_ledger = ledger
        self._lock = threading.Lock()
        self._plan: Plan | None = None
        self._signature: tuple[tuple[str, int], ...] = ()
        self._loaded_at = datetime.now(UTC)
        self._ledger: SqlLedger | None = None

    def plan(self) -> Plan:
        """The plans, loaded again when a campaign file changed."""
        from scheduler.commands.plan import _load

        signature = self._files_signature()
        with self._lock:
            if self._plan is None or signature != self._signature:
                self._loaded_at = datetime.now(UTC)
                self._plan = _load(self.paths, self.config, self._loaded_at)
                self._signature = signature
            return self._plan

    def _files_signature(self) -> tuple[tuple[str, int], ...]:
        roots = self.paths or self.config.campaign_paths
        found: list[tuple[str, int]] = []
        for root in roots:
            files = sorted(root.rglob("*.y*ml")) if root.is_dir() else [root]
            for file in files:
                try:
                    found.append((str(file), file.stat().st_mtime_ns))
                except OSError:
                    continue
        return tuple(found)

    def ledger(self) -> SqlLedger | None:
        """The configured ledger, or None while it does not exist (opened once it does)."""
        from scheduler.ledger import open_ledger
        from scheduler.ledger.api import LedgerError

        if not self._use_ledger:
            return None
        with self._lock:
            if self._ledger is None:
                try:
                    self._ledger = open_ledger(
                        self.config.ledger_url, create=False, process=_process()
                    )
                except LedgerError:
                    return None
            return self._ledger

    def board(self, now: datetime | None = None) -> Board:
        from scheduler.commands.plan import _merged

        now = now or datetime.now(UTC)
        plan = self.plan()
        ledger = self.ledger()
        rows: dict[str, LedgerRow] = {}
        controls: list[Control] = []
        held: dict[str, str] = {}
        if ledger is not None:
            rows = read_rows(ledger)
            controls = ledger.controls()
            held = ledger.held_channels()
        return build_board(plan, _merged(plan), rows, controls, held, now, ledger)

    def close(self) -> None:
        with self._lock:
            if self._ledger is not None:
                self._ledger.close()
                self._ledger = None


def build_board(
    plan: Plan,
    deliveries: Sequence[Delivery],
    rows: Mapping[str, LedgerRow],
    controls: Sequence[Control],
    held_channels: Mapping[str, str],
    now: datetime,
    ledger: SqlLedger | None,
) -> Board:
    failed_files = {p.where.file for p in plan.problems if p.severity == "error"}
    campaigns = {c.id: c for c in plan.campaigns}
    held_files = {c.id for c in plan.campaigns if c.file in failed_files}
    paused = {c.campaign: c for c in controls}
    items = [
        Item(
            d,
            live_state(
                d,
                rows.get(d.key),
                held_file=d.campaign in held_files,
                paused=paused,
                held_channels=held_channels,
                now=now,
            ),
        )
        for d in deliveries
    ]
    posts: dict[tuple[str, str], PostRow] = {}
    for item in items:
        d = item.delivery
        row = posts.get((d.campaign, d.post))
        if row is None:
            row = posts[(d.campaign, d.post)] = PostRow(d.campaign, d.post, d.source)
        row.items.append(item)
    post_rows = list(posts.values())
    unlinked = link_problems(plan.problems, post_rows)
    return Board(
        now=now,
        campaigns=campaigns,
        items=items,
        problems=plan.problems,
        posts=post_rows,
        blackouts=blackout_windows(plan.campaigns, now),
        controls=controls,
        held_channels=held_channels,
        ledger=ledger.url if ledger is not None else None,
        unlinked=unlinked,
    )


def _process() -> str:
    import os
    import socket

    return f"web@{socket.gethostname()}:{os.getpid()}"


def day_start(day: date, zone: str) -> datetime:
    from campaigns.preview.common import zone as zone_info

    return datetime.combine(day, time(), tzinfo=zone_info(zone)).astimezone(UTC)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
