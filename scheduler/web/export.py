"""`clarion preview --format html OUT`: the web view's pages as static files that open from
disk or any static host, with no server and no network: the overview, the problems, every
post in each of its languages and audiences, and the calendar month by month in each zone."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import timedelta
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from flask import url_for

from scheduler.web.app import create_app, month_range
from scheduler.web.board import Source
from scheduler.web.links import file_name

if TYPE_CHECKING:
    from campaigns.loader import PlanSet
    from scheduler.config import Config

STATIC = ("clarion.css", "clarion.js")


def export(source: Source, out: Path) -> int:
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
    for tz in data.zones:
        first, last = month_range(data, tz)
        month = first
        while month <= last:
            pages.append(("calendar", {"tz": tz, "date": month.isoformat(), "view": "month"}))
            month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
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


def write_site(paths: Sequence[Path], config: Config, out: Path | None) -> PlanSet:
    """`clarion preview --format html --output OUT`; returns the plans for the exit status."""
    import click

    from scheduler.commands import echo_problems

    if out is None:
        raise click.UsageError("--format html writes a folder of pages: name it with --output DIR")
    source = Source(config, paths, ledger=False)
    plan = source.plan()
    echo_problems(plan.problems, err=True)
    count = export(source, out)
    click.echo(f"Wrote {count} files to {out}; open {out / 'index.html'} in a browser.")
    return plan
