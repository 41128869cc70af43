"""`clarion preview --format html --output DIR` opened from disk in a real browser: every
page loads with no network at all and no console error, hostile text stays text, axe-core
finds no serious violation, and the calendar's views, zones and filters work without a
server, kept in the address so that a link shows the same view."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from tests.scheduler.web.conftest import assert_inert, axe_violations, screenshot
from tests.scheduler.web.webkit import CLARION, campaign, write_broken, write_plan

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MONTH = "calendar-Europe-Brussels-2027-02.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    config = write_plan(folder, campaign())
    write_broken(folder)
    out = folder / "site"
    done = subprocess.run(
        [CLARION, "preview", "--config", config, "--format", "html", "--output", out],
        env={**os.environ, "T": "x"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr  # the broken file's error
    assert f"open {out / 'index.html'}" in done.stdout
    return out


class _Targets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name in ("href", "src") or (tag == "option" and name == "value")):
                self.found.append(value)


def local_targets(page: Path) -> list[str]:
    """The files a page links to or loads (not the addresses of the posts themselves)."""
    parser = _Targets()
    parser.feed(page.read_text())
    return [
        t.split("#")[0]
        for t in parser.found
        if t.endswith((".html", ".css", ".js")) or t.startswith("media/")
    ]


@pytest.fixture
def offline(page: Any) -> Iterator[dict[str, list[str]]]:
    """Records every request that does not stay on disk, and every console error."""
    seen: dict[str, list[str]] = {"network": [], "errors": []}

    def refuse(route: Any) -> None:
        seen["network"].append(route.request.url)
        route.abort()

    def requested(request: Any) -> None:
        if not request.url.startswith("file:"):
            seen["network"].append(request.url)

    def console(message: Any) -> None:
        if message.type == "error":
            seen["errors"].append(message.text)

    page.context.route(lambda url: not url.startswith("file:"), refuse)
    page.on("request", requested)
    page.on("console", console)
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    yield seen


def test_every_page_opens_from_disk_with_no_network(
    page: Any, site: Path, offline: dict[str, list[str]]
) -> None:
    pages = sorted(site.glob("*.html"))
    assert {"index.html", "problems.html", MONTH} <= {p.name for p in pages}
    assert any(p.name.startswith("calendar-UTC-week-") for p in pages)
    assert any(p.name.startswith("calendar-America-New_York-day-") for p in pages)
    for file in pages:
        for target in local_targets(file):
            assert (site / unquote(urlsplit(target).path)).is_file(), f"{file.name}: {target}"
        page.goto(file.as_uri())
        assert_inert(page)
        assert page.locator("link[rel=stylesheet]").evaluate("l => l.sheet !== null")
    assert offline == {"network": [], "errors": []}


@pytest.mark.parametrize(
    "name",
    [
        "index.html",
        "problems.html",
        "post-web-demo-launch-us-en.html",
        "post-web-demo-hostile-us-en.html",
        MONTH,
        "calendar-Europe-Brussels-week-2027-02-08.html",
        "calendar-America-New_York-day-2027-02-09.html",
    ],
)
def test_exported_views_are_accessible_and_inert(
    page: Any, site: Path, offline: dict[str, list[str]], name: str
) -> None:
    page.goto((site / name).as_uri())
    assert_inert(page)
    if name.startswith("post-web-demo-hostile"):
        assert "<script>window.pwned" in page.locator("article.card .text").first.inner_text()
    assert offline == {"network": [], "errors": []}
    assert axe_violations(page) == []  # (its own reading of the style sheets is refused)
    assert offline["network"] == []


def assert_shown(page: Any, count: int) -> None:
    """The page's script counts what the filters let through once it has run: wait for it."""
    from playwright.sync_api import expect

    expect(page.locator("#shown")).to_have_text(str(count))


def test_calendar_filters_views_and_zones_work_from_disk(
    page: Any, site: Path, offline: dict[str, list[str]]
) -> None:
    page.goto((site / MONTH).as_uri())
    busy = page.locator("td").filter(has=page.get_by_role("link", name="9 Feb", exact=True))
    assert busy.locator("li.event:visible").count() == 6  # the rest behind "+N more"
    assert busy.locator(".more").inner_text() == f"+{busy.locator('li.event').count() - 6} more"
    page.select_option("#f-channel", "telegram-news")
    page.select_option("#f-audience", "us-en")
    assert "channel=telegram-news" in page.url and "audience=us-en" in page.url
    assert_shown(page, 4)
    assert page.locator("li.event:visible").count() == 4
    texts = page.locator("li.event:visible").all_inner_texts()
    assert all("telegram-news · us-en" in t for t in texts)
    assert busy.locator(".more").is_hidden()
    shared = page.url
    screenshot(page, "export-calendar-filtered")

    page.select_option("#f-view", label="week")  # another file, the same filters
    page.wait_for_url("**/calendar-Europe-Brussels-week-2027-02-01.html#*")
    assert "channel=telegram-news" in page.url
    assert page.locator("#f-channel").input_value() == "telegram-news"
    assert_shown(page, 0)  # the month's first week is quiet
    page.get_by_role("link", name="next week →").click()
    assert page.url.endswith("week-2027-02-08.html#channel=telegram-news&audience=us-en")
    assert_shown(page, 4)
    page.get_by_role("link", name="9 Feb", exact=True).click()  # to the day, still filtered
    assert "day-2027-02-09" in page.url
    assert_shown(page, 3)  # launch and the thread's two parts; hostile is the next day
    page.get_by_role("link", name="next day →").click()
    assert "day-2027-02-10" in page.url
    assert_shown(page, 1)

    page.goto(shared.replace(MONTH, "calendar-Europe-Brussels-day-2027-02-09.html"))
    page.select_option("#f-channel", "x-main")
    launch = page.locator("li.event:visible").filter(has_text="launch")
    assert "15:00 CET" in launch.inner_text()
    page.select_option("#f-tz", label="America/New_York")
    page.wait_for_url("**/calendar-America-New_York-day-2027-02-09.html#*")
    assert "channel=x-main" in page.url
    assert "09:00 EST" in page.locator("li.event:visible").filter(has_text="launch").inner_text()

    page.select_option("#f-state", "sent")
    assert_shown(page, 0)
    page.select_option("#f-state", "")
    page.fill("#f-from", "2027-02-10")
    page.locator("#f-from").dispatch_event("change")
    assert_shown(page, 0)
    assert "from=2027-02-10" in page.url

    other = page.context.new_page()  # whoever opens the shared link sees the same view
    other.goto(shared)
    assert_shown(other, 4)
    assert other.locator("#f-audience").input_value() == "us-en"
    other.select_option("#f-colour", "campaign")
    assert other.locator("[data-legend=campaign]").is_visible()
    assert other.locator("[data-legend=channel]").is_hidden()
    assert "colour=campaign" in other.url
    assert offline == {"network": [], "errors": []}
