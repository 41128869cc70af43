"""The HTML report (scheduler/report) in headless Chromium: the file opened from disk
(offline, its own Content Security Policy) and the web view's /report page. Charts are drawn,
nothing is logged to the console, hostile campaign text stays text."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from scheduler.ledger.sql import SqlLedger, open_ledger
from scheduler.report import FORMATS, Report, build_report
from tests.scheduler.report.reportkit import has_figures, seed
from tests.scheduler.web.conftest import assert_inert, axe_violations, screenshot
from tests.scheduler.web.webkit import campaign, serving, write_plan

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHARTS = ["health", "language", "channel", "platform", "day", "growth"]


@pytest.fixture
def report(ledger: SqlLedger) -> Report:
    seed(ledger)
    return build_report(ledger, "sayno", has_figures=has_figures)


def watch(page: Any) -> list[str]:
    """What the page logs as an error or warning, and the errors it throws (the browser's own
    request for /favicon.ico, which the web view does not serve, aside)."""
    seen: list[str] = []

    def console(message: Any) -> None:
        favicon = message.location.get("url", "").endswith("/favicon.ico")
        if message.type in ("error", "warning") and not favicon:
            seen.append(f"{message.text} at {message.location}")

    page.on("console", console)
    page.on("pageerror", lambda e: seen.append(str(e)))
    return seen


def drawn(page: Any) -> list[str]:
    page.wait_for_function("document.querySelectorAll('canvas[data-drawn]').length > 0")
    return list(
        page.evaluate(
            "Array.from(document.querySelectorAll('canvas[data-drawn=\"true\"]'))"
            ".filter(c => c.width > 0 && c.height > 0).map(c => c.dataset.chart && c.id.slice(6))"
        )
    )


def test_the_report_file_opens_from_disk_with_its_charts(
    page: Any, report: Report, tmp_path: Path
) -> None:
    path = tmp_path / "report.html"
    path.write_text(FORMATS["html"](report), encoding="utf-8")
    page.route(
        "**/*",
        lambda route: (
            route.abort() if not route.request.url.startswith("file:") else route.continue_()
        ),
    )
    errors = watch(page)
    page.goto(path.as_uri())
    assert drawn(page) == CHARTS
    assert errors == []
    assert page.evaluate("window.pwned") is None
    assert "<script>window.pwned=1</script>" in page.locator("#r-top").inner_text()
    assert page.locator("#r-top img").count() == 0
    for chart in CHARTS:  # each chart is followed by the table of its figures
        assert page.locator(f"#r-{chart} figure + .table-scroll table").count() == 1
        assert page.locator(f"#chart-{chart}").get_attribute("role") == "img"
    link = page.get_by_role("link", name="sayno/launch/fr/mastodon-main").first
    assert link.get_attribute("href") == "https://mastodon-main.example/sayno/launch/fr"
    page.emulate_media(media="print")
    assert page.locator(".report-toc").is_hidden()
    assert len(page.pdf()) > 10_000  # it prints (Chromium's PDF of the print layout)


def test_the_web_view_shows_the_report(page: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    ledger: SqlLedger = open_ledger(url, process="test:1")
    try:
        seed(ledger)
    finally:
        ledger.close()
    config = write_plan(tmp_path, campaign(), extra_config={"ledger": url})
    with serving(config, env={**os.environ, "T": "secret"}) as site:
        errors = watch(page)
        page.goto(site + "/")
        page.get_by_role("link", name="Report").click()
        assert page.locator("h1").inner_text() == "Report of every campaign"
        page.select_option("#report-campaign", "sayno")
        page.get_by_role("button", name="Show").click()
        assert page.locator("h1").inner_text() == "Campaign report: sayno"
        assert drawn(page) == CHARTS
        page.fill("#report-from", "2027-02-09")
        page.fill("#report-until", "2027-02-09")
        page.get_by_role("button", name="Show").click()
        assert "until 2027-02-10 00:00 UTC (excluded)" in page.locator(".report").inner_text()
        assert page.locator("#r-health tbody tr").last.inner_text().split() == ["Total", "7"]
        assert errors == []
        assert_inert(page)
        assert "<script>window.pwned=1</script>" in page.locator("#r-top").inner_text()
        screenshot(page, "report")
        assert axe_violations(page) == []
