from __future__ import annotations

import io
import re

import pytest
from rich.cells import cell_len
from rich.console import Console

from campaigns.preview import CampaignInfo, table
from tests.campaigns.preview_samples import TITLE, preview

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def show(width: int = 120, **changes: object) -> str:
    out = io.StringIO()
    table.render(preview(**changes), Console(file=out, width=width, highlight=False))
    return out.getvalue()


def test_days_times_and_texts() -> None:
    out = show()
    assert not ANSI.search(out), "no colour when not writing to a terminal"
    assert "Tuesday 2 February 2027 · Europe/Brussels" in out
    assert "Tuesday 9 February 2027 · Europe/Brussels" in out
    assert out.index("One week to") < out.index("Tables | break") < out.index("قل لا")
    assert "09:00 EST New York" in out and "15:00 CET" in out and "14:00 UTC" in out
    assert "23:30 UTC (Mon 8 Feb)" in out
    assert "[bold]not markup[/bold] :smile:" in out
    assert "👩‍👩‍👧 family 🇧🇪🇫🇷" in out
    assert out.rstrip().endswith("0 errors, 1 warning; 5 deliveries on 3 channels (1 draft)")


def test_lengths_drafts_and_warnings() -> None:
    out = show()
    assert "72/280" in out and "320/300" in out
    assert "✗ too long for bluesky-main" in out
    assert "DRAFT" in out
    assert "⚠ 2 posts on mastodon-main within 30m" in out
    assert "tips 2/2" in out


def test_extra_zone() -> None:
    out = show(tz="Asia/Tokyo")
    assert "Tuesday 2 February 2027 · Asia/Tokyo" in out
    assert "17:00 JST Tokyo" in out


def test_narrow_terminal_still_shows_every_text() -> None:
    out = show(width=72)
    flat = " ".join(out.split())
    for word in ("coercion", "numbered", "mastodon-main", "DRAFT", "320/300"):
        assert word in flat
    assert max(cell_len(line) for line in out.splitlines()) <= 72


def test_nothing_to_show() -> None:
    out = show(deliveries=[], problems=[])
    assert "No deliveries to show." in out


def test_no_color_is_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=True, highlight=False)
    table.render(preview(), console)
    colours = [code for code in ANSI.findall(out.getvalue()) if re.search(r"\[(3|4|9)\d", code)]
    assert colours == []


def test_media_and_what_errors_hold_back() -> None:
    out = show()
    assert "📎 media/card.png alt: A card | with “quotes”" in out
    assert "NOT SCHEDULED" not in out
    held = show(campaigns={"sayno-2027": CampaignInfo(TITLE, "Europe/Brussels", held=True)})
    assert held.count("NOT SCHEDULED") == 5
    assert held.rstrip().endswith("(1 draft; 5 held back by errors)")
