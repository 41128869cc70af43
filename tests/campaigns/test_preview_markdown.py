from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from campaigns.preview import CampaignInfo, markdown
from tests.campaigns.preview_samples import TITLE, delivery, preview

GFM = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


class Shape(HTMLParser):
    """Counts the elements of rendered HTML and gathers its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}
        self.rows: list[list[str]] = []
        self.text: list[str] = []
        self.in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self.rows[-1].append("")
            self.in_cell = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self.in_cell = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self.in_cell:
            self.rows[-1][-1] += data


def render(**changes: object) -> tuple[str, Shape]:
    out = markdown.render(preview(**changes))
    shape = Shape()
    shape.feed(GFM.render(out))
    return out, shape


def test_summary_and_problems() -> None:
    out, _ = render()
    assert out.startswith("## Clarion preview: #SayNo: Safer Internet Day 2027\n")
    assert "0 errors, 1 warning; 5 deliveries on 3 channels (1 draft)" in out
    assert "First due 2027-02-02 09:00 CET, last due 2027-02-09 15:00 CET" in out
    assert "| x-main | 2 |" in out
    assert "- ⚠️ **warning** sayno-2027.yaml:31:7: 2 posts" in out
    assert "  - hint: space them out, or lower policies.min\\_gap" in out


def test_tables_keep_their_shape() -> None:
    out, shape = render()
    assert "### Tuesday 2 February 2027 (Europe/Brussels)" in out
    assert "### Tuesday 9 February 2027 (Europe/Brussels)" in out
    assert shape.tags["table"] == 3, "channel summary and two days"
    day_rows = [row for row in shape.rows if len(row) == 8]
    assert len(day_rows) == 2 + 5, "headings and one row per delivery"
    texts = {row[6] for row in day_rows}
    assert "Tables | break | here ↵ with `code`, *stars* and…" in texts
    assert any(row[0] == "09:00 EST (New York)" for row in day_rows)
    assert any(row[0] == "00:30 CET" and row[1] == "23:30 UTC (Mon 8 Feb)" for row in day_rows)
    assert any(row[5] == "320/300" and "too long" in row[7] for row in day_rows)
    assert any("📝 draft" in row[7] for row in day_rows)


def test_campaign_text_is_never_markup() -> None:
    _, shape = render()
    for tag in ("b", "code", "em", "ol", "h1", "pre", "a"):
        assert tag not in shape.tags, tag
    assert shape.tags["ul"] == 2, "only the problem and its hint"
    text = "".join(shape.text)
    assert "<b>tags</b>" in text
    assert "- not a list" in text and "# not a heading" in text and "1. not numbered" in text


def test_full_texts_in_details() -> None:
    out, shape = render()
    assert shape.tags["details"] == 2 and shape.tags["summary"] == 2
    assert out.count("<details>") == out.count("</details>") == 2
    text = "".join(shape.text)
    for part in ("قل لا للابتزاز الجنسي عبر الإنترنت #SayNo", "👩‍👩‍👧 family 🇧🇪🇫🇷 flags ✊🏽"):
        assert part in text


def test_mentions_and_issue_numbers_are_defused() -> None:
    out, _ = render()
    assert "@someone" not in out and "#12" not in out
    assert f"@{markdown.WORD_JOINER}someone" in out and f"#{markdown.WORD_JOINER}12" in out
    assert "#SayNo" in out


def test_extra_zone_column() -> None:
    out, shape = render(tz="America/Chicago")
    assert "### Tuesday 2 February 2027 (America/Chicago)" in out
    assert shape.rows[4][:4] == ["Local time", "UTC", "Chicago", "Channel"]
    assert any(row[:3] == ["09:00 CET", "08:00 UTC", "02:00 CST"] for row in shape.rows)


def test_several_campaigns_name_theirs() -> None:
    two = {
        "sayno-2027": CampaignInfo("SayNo", "Europe/Brussels"),
        "other": CampaignInfo("Other", "Europe/Brussels"),
    }
    out, _ = render(campaigns=two)
    assert out.startswith("## Clarion preview: SayNo · Other\n")
    assert "| sayno-2027/countdown |" in out


def test_nothing_to_show() -> None:
    out, shape = render(deliveries=[], problems=[])
    assert "0 errors, 0 warnings; 0 deliveries on 0 channels" in out
    assert "table" not in shape.tags and "###" not in out


@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n|")))
def test_any_text_stays_in_its_cell(text: str) -> None:
    out = markdown.render(preview(deliveries=[delivery(text=text)], problems=[]))
    shape = Shape()
    shape.feed(GFM.render(out))
    rows = [row for row in shape.rows if len(row) == 8]
    assert len(rows) == 2
    assert shape.tags.get("details") == 1
    for tag in ("h1", "h2", "img", "a", "script"):
        assert shape.tags.get(tag, 0) == (1 if tag == "h2" else 0), (tag, out)
    assert not re.search(r"@\w|#\d", "".join(rows[1]))


def test_media_and_what_errors_hold_back() -> None:
    out = markdown.render(preview())
    assert "📎 media/card.png: A card \\| with “quotes”" in out
    held = preview(campaigns={"sayno-2027": CampaignInfo(TITLE, "Europe/Brussels", held=True)})
    assert markdown.render(held).count("⛔ not scheduled: errors in its file") == 5
