"""Shared by the plan tests: channels, options and a loader for campaign text."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from campaigns import KnownChannel, LoadOptions, Plan, Problem, load_plan

NOW = datetime(2027, 1, 1, tzinfo=UTC)
CHANNELS = {
    name: KnownChannel(name, platform)
    for name, platform in {
        "x-main": "x",
        "mastodon-main": "mastodon",
        "bluesky-main": "bluesky",
        "linkedin-main": "linkedin",
        "telegram-news": "telegram",
    }.items()
}
OPTIONS = LoadOptions(CHANNELS, strict_channels=True, now=NOW)
EXAMPLES = Path(__file__).resolve().parents[2] / "campaigns" / "examples"

HEADER = """\
campaign: test
title: Test
timezone: Europe/Brussels
anchors: {sid: 2027-02-09}
channels: [x-main, mastodon-main]
"""


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """An instant in UTC."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def options(**changes: Any) -> LoadOptions:
    return replace(OPTIONS, **changes)


def load(tmp_path: Path, text: str, name: str = "c.yaml", **changes: Any) -> Plan:
    """Write `text` (dedented) to tmp_path/name and load it."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_plan([path], options(**changes))


def campaign(posts: str, header: str = HEADER) -> str:
    """A campaign file: `header`, then `posts:` with the given (dedented) post list."""
    return header + "posts:\n" + textwrap.indent(textwrap.dedent(posts), "  ")


def located(plan: Plan) -> list[str]:
    """Each problem as 'line:col severity: message' (file name left out)."""
    return [f"{p.where.line}:{p.where.col} {p.severity}: {p.message}" for p in plan.problems]


def only(plan: Plan, words: str) -> Problem:
    """The one problem whose message contains `words`."""
    found = [p for p in plan.problems if words in p.message]
    assert len(found) == 1, located(plan)
    return found[0]


def keys(plan: Plan) -> list[str]:
    return [d.key for d in plan.deliveries]
