"""Browser tests of the web view: the system Chromium, driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.scheduler.web.webkit import AXE, CHROMIUM

SCREENSHOTS = Path(__file__).parents[3] / "docs" / "web"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=False)
    page = context.new_page()
    yield page
    context.close()


def screenshot(shown: Any, name: str) -> None:
    """Take the current look of a page (or of one element: a Playwright locator); with
    CLARION_SCREENSHOTS=1 keep it for docs/web.md. A plain test run leaves the repository
    as it found it."""
    image = shown.screenshot()
    if os.environ.get("CLARION_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / f"{name}.png").write_bytes(image)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical accessibility violations that axe-core finds on the page."""
    if not AXE.exists():
        pytest.skip("axe-core not installed: bash tests/peers/axe/install.sh")
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def assert_inert(page: Any) -> None:
    """Hostile campaign text ran no script and added none."""
    assert page.evaluate("window.pwned") is None
    assert page.locator("script:not([src])").count() == 0
