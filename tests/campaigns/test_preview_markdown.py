from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from campaigns.preview import CampaignInfo, markdown
from tests.campaigns.preview_samples import TEXTS, TITLE, delivery, preview

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
    assert "#### Tuesday 2 February 2027 (Europe/Brussels)" in out
    assert "#### Tuesday 9 February 2027 (Europe/Brussels)" in out
    assert shape.tags["table"] == 4, "channel summary, posts and two days"
    day_rows = [row for row in shape.rows if len(row) == 9]
    assert len(day_rows) == 2 + 5, "headings and one row per delivery"
    texts = {row[7] for row in day_rows}
    assert "Tables | break | here ↵ with `code`, *stars* and…" in texts
    assert any(row[0] == "09:00 EST (New York)" for row in day_rows)
    assert any(row[0] == "00:30 CET" and row[1] == "23:30 UTC (Mon 8 Feb)" for row in day_rows)
    assert any(row[6] == "320/300" and "too long" in row[8] for row in day_rows)
    assert any("📝 draft" in row[8] for row in day_rows)
    post_rows = [row for row in shape.rows if len(row) == 6]
    assert post_rows[0] == ["First due", "Post", "Channels", "For", "Deliveries", "Notes"]
    assert len(post_rows) == 1 + len({d.post for d in preview().deliveries})


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
    assert shape.tags["details"] == 3 and shape.tags["summary"] == 3, "all, then each day's"
    assert out.count("<details>") == out.count("</details>") == 3
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
    assert "#### Tuesday 2 February 2027 (America/Chicago)" in out
    headings = next(row for row in shape.rows if row[0] == "Local time")
    assert headings[:4] == ["Local time", "UTC", "Chicago", "Channel"]
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
    rows = [row for row in shape.rows if len(row) == 9]
    assert len(rows) == 2
    assert shape.tags.get("details") == 2
    for tag in ("h1", "h2", "img", "script"):
        assert shape.tags.get(tag, 0) == (1 if tag == "h2" else 0), (tag, out)
    if "http" not in text:  # web addresses are links, where GitHub mentions no one
        assert "a" not in shape.tags
        assert not re.search(r"@\w|#\d", "".join(rows[1]))


def test_media_and_what_errors_hold_back() -> None:
    out = markdown.render(preview())
    assert "📎 media/card.png: A card \\| with “quotes”" in out
    held = preview(campaigns={"sayno-2027": CampaignInfo(TITLE, "Europe/Brussels", held=True)})
    posts = len({d.post for d in preview().deliveries})
    assert markdown.render(held).count("⛔ not scheduled: errors in its file") == 5 + posts


def test_links_stay_links() -> None:
    """A web address is not escaped into a broken one: GitHub takes `<…>` literally."""
    url = "https://example.org/say_no?utm_source=x&utm_campaign=say_no_2027#top"
    out, _shape = render(deliveries=[delivery(text=f"Read more: {url}. Thanks")], problems=[])
    assert f"<{url}>" in out
    html = GFM.render(out)
    assert html.count(f'href="{url.replace("&", "&amp;")}"') == 1, "in the full text"
    assert html.count("href=") == 1, "the excerpt cuts the address short: no broken link"


def test_rows_show_the_audience() -> None:
    _out, shape = render(deliveries=[delivery(audience="be-fr", language="fr")], problems=[])
    headings = next(row for row in shape.rows if row[0] == "Local time")
    row = next(row for row in shape.rows if row[0] == "09:00 CET")
    assert row[headings.index("Audience")] == "be-fr"


def test_a_large_plan_fits_in_a_comment() -> None:
    """Summary by post first; the full list stops before GitHub's 65,536 characters."""
    many = [
        delivery(
            key=f"sayno-2027/p{i % 40}/en/x-main@{i}",
            post=f"p{i % 40}",
            due_utc=datetime(2027, 2, 2, 8, 0, tzinfo=UTC) + timedelta(minutes=17 * i),
            text=f"{TEXTS['plain']} {i} " + "x" * 150,
        )
        for i in range(3000)
    ]
    out, _shape = render(deliveries=many, problems=[])
    assert len(out) < markdown.LIMIT
    assert "### Posts (40)" in out
    assert out.count("<details>") == out.count("</details>")
    assert "more deliveries not shown" in out
    assert out.index("### Posts") < out.index("<details>")


def test_thousands_of_posts_fit_in_a_comment() -> None:
    many = [
        delivery(key=f"sayno-2027/post-{i}/en/x-main", post=f"post-{i}", text=f"Post {i}")
        for i in range(5000)
    ]
    out, _shape = render(deliveries=many, problems=[])
    assert len(out) < markdown.LIMIT
    assert "more posts." in out
    assert out.count("<details>") == out.count("</details>")
