"""`clarion preview --format html OUT`: the web view's pages as static files that open from
disk or any static host, with no server and no network: the overview, the problems, every
post in each of its languages and audiences, and the calendar month by month in each zone."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from flask import url_for

from scheduler.web.app import create_app, export_range
from scheduler.web.board import Board, Source, days_between
from scheduler.web.links import file_name

if TYPE_CHECKING:
    from campaigns.loader import Plan
    from scheduler.config import Config

STATIC = ("clarion.css", "clarion.js", "calendar.js")


class Snapshot(Source):
    """The plans at one instant, so that every exported page shows the same moment."""

    def __init__(self, config: Config, paths: Sequence[Path]) -> None:
        super().__init__(config, paths, ledger=False)
        self._board: Board | None = None

    def board(self, now: datetime | None = None) -> Board:
        if self._board is None:
            self._board = super().board(now)
        return self._board


def export(source: Snapshot, out: Path) -> int:
    """Write the pages into `out` (created when missing); returns how many files."""
    app = create_app(source, export=True)
    data = source.board()
    pages: list[tuple[str, dict[str, str]]] = [("overview", {}), ("problems", {})]
    for row in data.posts:
        pages.append(("post", {"campaign": row.campaign, "post": row.post}))
        variants = {i.delivery.audience or i.delivery.language or "-" for i in row.items}
        pages += [
            ("post", {"campaign": row.campaign, "post": row.post, "variant": v}) for v in variants
        ]
    first, last = export_range(data)
    days = days_between(first, last)
    for tz in data.zones:
        for view, starts in (
            ("month", [d for d in days if d.day == 1]),
            ("week", sorted({d - timedelta(days=d.weekday()) for d in days})),
            ("day", days),
        ):
            pages += [("calendar", {"tz": tz, "view": view, "date": d.isoformat()}) for d in starts]
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    with app.test_client() as client:
        for endpoint, params in pages:
            with app.test_request_context():
                url = url_for(endpoint, **params)  # type: ignore[arg-type]
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"exporting {url} answered {response.status_code}")
            target = out / file_name(endpoint, params)
            target.write_bytes(response.data)
            written += 1
    (out / "static").mkdir(exist_ok=True)
    static = files("scheduler.web") / "static"
    for name in STATIC:
        (out / "static" / name).write_bytes((static / name).read_bytes())
        written += 1
    media = out / "media"
    for item in data.items:
        for n, file in enumerate(item.delivery.media):
            target = out / file_name("media", {"key": item.key, "n": str(n)})
            if not target.exists() and Path(file.path).is_file():
                media.mkdir(exist_ok=True)
                shutil.copyfile(file.path, target)
                written += 1
    return written


def write_site(paths: Sequence[Path], config: Config, out: Path | None) -> Plan:
    """`clarion preview --format html --output OUT`; returns the plans for the exit status."""
    import click

    from scheduler.commands import echo_problems

    if out is None:
        raise click.UsageError("--format html writes a folder of pages: name it with --output DIR")
    source = Snapshot(config, paths)
    plan = source.plan()
    echo_problems(plan.problems, err=True)
    count = export(source, out)
    click.echo(f"Wrote {count} files to {out}; open {out / 'index.html'} in a browser.")
    return plan
