"""Loading the campaign files into the ledger, at start-up and on every reload.

A reload is asked for by SIGHUP or by a change in a campaign folder (watched with watchfiles,
debounced). A campaign whose file now has errors keeps its last good plan (docs/design.md
rule 7): it is left out of the sync altogether, so the ledger, which holds the plan as last
synced, keeps running it. Its errors are logged, located. A campaign whose file was deleted is
cancelled (its planned deliveries only: docs/design.md rule 3), but only while every
configured folder is there and holds campaign files: a wrong path in config.yaml or a disk not
mounted cancels nothing.

The blackouts of a file with errors are read and put in force all the same (added to those it
had, never removed: see `Planner._apply_blackouts`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from campaigns.blackouts import Window
from campaigns.delivery import Delivery
from campaigns.problems import Location, Problem
from scheduler.config import Config
from scheduler.ledger.api import Ledger, SyncReport

if TYPE_CHECKING:
    from watchfiles import Change

    from campaigns.loader import Plan

log = logging.getLogger("clarion.reload")


@dataclass(frozen=True, slots=True)
class PlanUpdate:
    report: SyncReport
    problems: list[Problem]
    kept: list[str] = field(default_factory=list)
    """Campaigns with errors now, still running their last good plan."""
    new_edits: list[str] = field(default_factory=list)
    """Of `report.edited_after_sending`, those not reported yet with this content: the rest
    were, at an earlier load (every load finds them again)."""
    new_blackouts: list[tuple[str, Window]] = field(default_factory=list)
    """(campaign, blackout) put in force by this load."""
    blackouts_read: list[str] = field(default_factory=list)
    """Campaigns whose files have errors but whose blackouts were read and applied."""


def canonical(deliveries: list[Delivery]) -> list[Delivery]:
    """The deliveries with their campaign file named by its real path (symbolic links
    resolved), as the ledger stores it: daemons that reach one file by different paths then
    store the same source, and none sees a change in the plan that another made."""
    real: dict[str, str] = {}
    for delivery in deliveries:
        file = delivery.source_file
        if file not in real:
            real[file] = os.path.realpath(file)
    if all(file == path for file, path in real.items()):
        return deliveries
    return [
        d
        if (file := d.source_file) == real[file]
        else replace(d, source=_moved(d.source, real[file]))
        for d in deliveries
    ]


def _moved(source: str, file: str) -> str:
    return str(replace(Location.parse(source), file=file))


class Planner:
    """Loads the plans and syncs them into the ledger; one load at a time."""

    def __init__(self, config: Config, ledger: Ledger, anchor_now: datetime | None = None) -> None:
        self._config = config
        self._ledger = ledger
        self._anchor_now = anchor_now
        """What `now` means in a campaign file loaded for the first time (default: the time
        of that load). It is then kept in the ledger, so that neither a reload nor a restart
        moves the posts anchored on it."""
        self._lock = threading.Lock()
        self._edits: dict[str, str] = {}
        """Deliveries reported as edited after sending, with the content reported."""

    def update(self, now: datetime) -> PlanUpdate | None:
        """Load and sync; None when config.yaml lists no campaigns (the ledger is left as
        it is, rather than every campaign in it cancelled)."""
        from campaigns.loader import LoadOptions, load_plan

        config = self._config
        if not config.campaign_paths:
            return None
        with self._lock:
            policies = config.file.policies
            missing = [p for p in config.campaign_paths if not p.exists()]
            fixed = self._ledger.now_anchors()
            options = LoadOptions(
                channels=config.known_channels(),
                strict_channels=config.explicit,
                now=self._anchor_now or now,
                min_gap=policies.min_gap,
                default_not_after=policies.not_after,
                now_anchors=fixed,
            )
            plan = load_plan([p for p in config.campaign_paths if p not in missing], options)
            problems = self._missing(missing) + list(plan.problems)
            broken_files = {p.where.file for p in problems if p.severity == "error"}
            good = {c.id for c in plan.campaigns if c.file not in broken_files}
            broken = {c.id for c in plan.campaigns} - good
            broken |= self._unreadable(broken_files, good | broken)
            if missing or self._empty(plan.files):
                scope = good  # a campaign not found now may be in the folder not found
            else:
                scope = (set(self._ledger.campaigns()) | good) - broken
            self._ledger.fix_now_anchors(
                {
                    c.id: options.now
                    for c in plan.campaigns
                    if c.id in good and c.id not in fixed and "now" in c.definition.anchors.values()
                }
            )
            added, read = self._apply_blackouts(plan, good)
            deliveries = canonical([d for d in plan.deliveries if d.campaign in good])
            report = self._ledger.sync(deliveries, now, campaigns=scope)
            edits = self._new_edits(report, plan)
            return PlanUpdate(report, problems, sorted(broken), edits, added, read)

    def _apply_blackouts(
        self, plan: Plan, good: Collection[str]
    ) -> tuple[list[tuple[str, Window]], list[str]]:
        """Put each campaign's blackouts in force before its deliveries are synced. Those of
        a file with errors are read all the same and added to the ones in force (never
        removing one: a typo must not lift a blackout); a valid file's replace them."""
        added: list[tuple[str, Window]] = []
        read: list[str] = []
        for campaign, safety in sorted(plan.safety.items()):
            complete = campaign in good
            new = self._ledger.set_blackouts(safety, replace=complete)
            added += [(campaign, window) for window in new]
            if not complete and safety.windows:
                read.append(campaign)
        return added, read

    def _new_edits(self, report: SyncReport, plan: Plan) -> list[str]:
        content = {d.key: d.content_hash for d in plan.deliveries}
        new = [k for k in report.edited_after_sending if self._edits.get(k) != content.get(k)]
        self._edits.update((k, content.get(k, "")) for k in new)
        return new

    def _missing(self, missing: list[Path]) -> list[Problem]:
        return [
            Problem(
                "error",
                f"campaign folder or file not found: {path}",
                self._config.where("campaigns", self._config.campaign_paths.index(path)),
                "correct the path; it is relative to the folder that holds config.yaml",
            )
            for path in missing
        ]

    def _empty(self, files: list[str]) -> bool:
        """Whether a configured folder holds no campaign file (a disk not mounted, a
        checkout half done)."""
        return any(
            folder.is_dir() and not any(Path(f).is_relative_to(folder) for f in files)
            for folder in self._config.campaign_paths
        )

    def _unreadable(self, broken_files: set[str], named: Collection[str]) -> set[str]:
        """Campaigns in the ledger whose file is too broken now to even say its name."""
        broken = broken_files | {os.path.realpath(file) for file in broken_files}
        found = set()
        for campaign in set(self._ledger.campaigns()) - set(named):
            rows = self._ledger.rows(campaign, limit=1)
            if rows and rows[0].source_file in broken:
                found.add(campaign)
        return found


def describe(report: SyncReport) -> str:
    renamed = len(report.went_out_as)
    return (
        f"{len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.cancelled)} cancelled, {len(report.edited_after_sending)} edited after "
        f"sending (not re-posted), {len(report.expired)} already past their deadline, "
        + (f"{renamed} renamed after they went out (not re-posted), " if renamed else "")
        + f"{report.unchanged} unchanged"
    )


def watch_campaigns(
    paths: Collection[Path],
    on_change: Callable[[list[str]], None],
    stop: threading.Event,
    debounce_ms: int = 800,
    recheck_ms: int = 1000,
) -> threading.Thread | None:
    """Call `on_change(changed files)` after each burst of edits to campaign files, and
    `on_change(paths)` when a configured path itself is replaced, moved away or back.

    `paths` are the paths config.yaml names, symbolic links unresolved. What they lead to is
    looked at again every `recheck_ms`: a folder swapped for a copy (`mv plans.new plans`) or
    a symbolic link pointed elsewhere (as deploy tools release) is then watched instead, and
    a reload says what is found there (an error when nothing is). Folders are watched
    recursively; a single file through its folder, since editors save by writing a new file
    and renaming it over the old one.
    """
    if not paths:
        return None
    watch = _FolderWatch(list(paths), on_change, stop, debounce_ms, recheck_ms)
    # What the paths lead to now, before this returns (and the daemon says it runs): a folder
    # moved away while the thread starts is then a change, not where the watch begins.
    known = watch.identity()
    thread = threading.Thread(target=watch.run, args=(known,), name="watch-campaigns", daemon=True)
    thread.start()
    return thread


_Identity = tuple[tuple[str, int, int] | None, ...]


@dataclass
class _FolderWatch:
    paths: list[Path]
    on_change: Callable[[list[str]], None]
    stop: threading.Event
    debounce_ms: int
    recheck_ms: int

    def identity(self) -> _Identity:
        """What each path leads to now: the real path and inode of the folder watched."""
        found: list[tuple[str, int, int] | None] = []
        for path in self.paths:
            try:
                real = path.resolve()
                watched = real if real.is_dir() else real.parent
                info = watched.stat() if real.exists() else None
            except (OSError, RuntimeError):  # RuntimeError: a loop of symbolic links
                info = None
            found.append(None if info is None else (str(real), info.st_dev, info.st_ino))
        return tuple(found)

    def run(self, identity: _Identity) -> None:
        pending: list[str] = []
        failed = False
        while not self.stop.is_set():
            try:
                self._watch(identity, pending)
            except Exception as exc:
                # Often a folder replaced while the watch started: then it starts again.
                if not failed and self.identity() == identity:
                    log.error(
                        "watching the campaign files failed (%s); trying again every %s s, "
                        "and SIGHUP reloads",
                        exc,
                        self.recheck_ms / 1000,
                        exc_info=log.isEnabledFor(logging.DEBUG),
                    )
                    failed = True
                self.stop.wait(self.recheck_ms / 1000)
            else:
                failed = False
            if self.stop.is_set():
                return
            changed = self.identity()
            replaced = [
                str(p) for p, a, b in zip(self.paths, identity, changed, strict=True) if a != b
            ]
            pending = sorted(set(pending) | set(replaced))
            identity = changed

    def _watch(self, identity: _Identity, pending: list[str]) -> None:
        """Watch what `identity` found until it changes; then return. `pending` changes are
        reported once the new watch is in place, so that no edit falls between the two."""
        from watchfiles import watch

        from campaigns.loader import SUFFIXES

        real = [p.resolve() for p, found in zip(self.paths, identity, strict=True) if found]
        folders = {p for p in real if p.is_dir()}
        files = {p for p in real if not p.is_dir()}
        roots = folders | {f.parent for f in files}

        def wanted(_change: Change, name: str) -> bool:
            path = Path(name)
            if path.suffix not in SUFFIXES:
                return False
            return path in files or any(path.is_relative_to(folder) for folder in folders)

        if not roots:  # nothing to watch yet: look again now and then
            self._report(pending)
            while not self.stop.wait(self.recheck_ms / 1000):
                if self.identity() != identity:
                    return
            return
        for changes in watch(
            *roots,
            watch_filter=wanted,
            debounce=self.debounce_ms,
            stop_event=self.stop,
            rust_timeout=self.recheck_ms,
            yield_on_timeout=True,
            raise_interrupt=False,
        ):
            self._report(pending)
            if changes:
                self.on_change(sorted({name for _change, name in changes}))
            if self.identity() != identity:
                return

    def _report(self, pending: list[str]) -> None:
        if pending:
            self.on_change(list(pending))
            pending.clear()
