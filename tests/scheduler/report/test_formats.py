"""Each format of the seeded report, on both ledgers: the CSV columns and the JSON fields are
pinned (docs/report.md documents them; a change is a new schema_version), hostile campaign
text stays text."""

from __future__ import annotations

import csv
import io
import json
import re

from scheduler.report import FORMATS, SCHEMA_VERSION, Report
from scheduler.report.csvfile import COLUMNS
from tests.scheduler.report.reportkit import HOSTILE

CSV_COLUMNS = (
    "schema_version,campaign,key,post,language,audience,channel,platform,state,due_utc,"
    "sent_utc,late_seconds,url,text,figures,figures_at,likes,reposts,replies,quotes,views,"
    "clicks,responses,readings"
)
JSON_FIELDS = [
    "schema_version",
    "generated_utc",
    "ledger",
    "campaign",
    "from_utc",
    "until_utc",
    "day_zone",
    "health",
    "without_figures",
    "groups",
    "top",
    "bottom",
    "posts",
]
HEALTH_FIELDS = [
    "total",
    "planned",
    "held",
    "claimed",
    "sent",
    "failed",
    "unknown",
    "expired",
    "cancelled",
    "sent_on_time",
    "sent_late",
    "late_after_seconds",
    "lateness_seconds",
]
POST_FIELDS = [
    "key",
    "campaign",
    "post",
    "language",
    "audience",
    "channel",
    "platform",
    "state",
    "due_utc",
    "sent_utc",
    "late_seconds",
    "url",
    "text",
    "figures",
    "figures_note",
    "latest",
    "responses",
    "snapshots",
]
GROUP_FIELDS = [
    "name",
    "sent",
    "measured",
    "likes",
    "reposts",
    "replies",
    "quotes",
    "views",
    "clicks",
    "responses",
    "without_figures",
]
SNAPSHOT_FIELDS = ["at", "likes", "reposts", "replies", "quotes", "views", "clicks"]


def test_the_csv_columns_are_stable(report: Report) -> None:
    assert ",".join(COLUMNS) == CSV_COLUMNS
    rows = list(csv.DictReader(io.StringIO(FORMATS["csv"](report))))
    assert list(rows[0]) == CSV_COLUMNS.split(",")
    assert len(rows) == report.health.total
    launch = next(r for r in rows if r["key"] == "sayno/launch/en/mastodon-main")
    expected = {
        "schema_version": str(SCHEMA_VERSION),
        "state": "sent",
        "due_utc": "2027-02-09T08:00:00Z",
        "sent_utc": "2027-02-09T08:00:00Z",
        "late_seconds": "0.0",
        "figures": "collected",
        "figures_at": "2027-02-16T08:00:00Z",
        "likes": "12",
        "reposts": "5",
        "replies": "2",
        "quotes": "",
        "views": "",
        "responses": "19",
        "readings": "3",
    }
    assert {name: launch[name] for name in expected} == expected
    telegram = next(r for r in rows if r["channel"] == "telegram-news")
    assert (telegram["figures"], telegram["likes"], telegram["responses"]) == (
        "unsupported",
        "",
        "",
    )


def test_csv_text_never_runs_as_a_spreadsheet_formula(report: Report) -> None:
    from dataclasses import replace

    post = replace(report.posts[0], text='=HYPERLINK("https://evil.example")')
    rows = list(csv.reader(io.StringIO(FORMATS["csv"](replace(report, posts=[post])))))
    assert rows[1][COLUMNS.index("text")] == '\'=HYPERLINK("https://evil.example")'


def test_the_json_document_is_stable(report: Report) -> None:
    document = json.loads(FORMATS["json"](report))
    assert list(document) == JSON_FIELDS
    assert document["schema_version"] == SCHEMA_VERSION
    assert list(document["health"]) == HEALTH_FIELDS
    assert list(document["health"]["lateness_seconds"]) == ["median", "p95", "max"]
    assert list(document["groups"]) == [
        "language",
        "audience",
        "channel",
        "platform",
        "post",
        "day",
    ]
    assert list(document["groups"]["language"][0]) == GROUP_FIELDS
    assert list(document["posts"][0]) == POST_FIELDS
    launch = next(p for p in document["posts"] if p["key"] == "sayno/launch/en/mastodon-main")
    assert list(launch["snapshots"][0]) == SNAPSHOT_FIELDS
    assert launch["latest"] == {"at": "2027-02-16T08:00:00Z", "likes": 12, "reposts": 5} | {
        "replies": 2,
        "quotes": None,
        "views": None,
        "clicks": None,
    }
    assert document["without_figures"] == {"gone": 1, "unsupported": 1}
    assert document["health"]["lateness_seconds"] == {
        "median": 1260.0,
        "p95": 1800.0,
        "max": 1800.0,
    }
    hostile = next(p for p in document["posts"] if p["post"] == "hostile")
    assert hostile["text"] == " ".join(HOSTILE.split())


def test_the_table_says_why_figures_are_missing(report: Report) -> None:
    text = FORMATS["table"](report)
    assert "Campaign report: sayno" in text
    assert "the platform offers no figures      1  telegram" in text
    assert re.search(r"telegram-news\s+1\s+0\s+n/a", text)
    assert "https://mastodon-main.example/sayno/launch/en" in text
    assert "1h 0m: 4 · 1d 0h: 16 · 7d 0h: 19" in text


def test_markdown_keeps_hostile_text_inert(report: Report) -> None:
    from dataclasses import replace

    from markdown_it import MarkdownIt

    post = replace(report.posts[0], key=HOSTILE)
    text = FORMATS["markdown"](replace(report, posts=[post, *report.posts], top=[post]))
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    link = (
        '<a href="https://mastodon-main.example/sayno/launch/fr">sayno/launch/fr/mastodon-main</a>'
    )
    assert link in html
    assert "<table>" in html


def test_the_html_report_holds_no_live_campaign_text(report: Report) -> None:
    from dataclasses import replace
    from html.parser import HTMLParser

    post = replace(report.posts[0], key=HOSTILE, url="javascript:alert(1)")
    page = FORMATS["html"](replace(report, posts=[post, *report.posts], top=[post]))
    tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.append((tag, attrs))

    Tags().feed(page)
    assert "img" not in {tag for tag, _ in tags}
    assert [tag for tag, _ in tags].count("script") == 2  # Chart.js and its driver
    assert not [name for _, attrs in tags for name, _ in attrs if name.startswith("on")]
    assert not [v for _, attrs in tags for _, v in attrs if v and v.startswith("javascript:")]
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
    csp = dict(
        next(attrs for tag, attrs in tags if ("http-equiv", "Content-Security-Policy") in attrs)
    )
    assert "default-src 'none'" in (csp["content"] or "")
    assert "unsafe-inline" not in (csp["content"] or "")
    loaded = [
        v
        for tag, attrs in tags
        if tag in ("script", "link")
        for n, v in attrs
        if n in ("src", "href")
    ]
    assert loaded == []  # nothing fetched: the file works offline
