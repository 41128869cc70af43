"""Every view in a real browser: overview, calendar (views, filters, zones), each platform's
preview, problems; hostile text stays text; axe-core finds no serious violation."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from campaigns.platforms import PLATFORMS
from tests.scheduler.web.conftest import assert_inert, axe_violations, screenshot
from tests.scheduler.web.webkit import (
    HOSTILE,
    HOSTILE_TITLE,
    campaign,
    serving,
    write_broken,
    write_plan,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("web")
    config = write_plan(folder, campaign())
    write_broken(folder)
    with serving(config, env={**os.environ, "T": "secret"}) as url:
        yield url


def test_overview_lists_each_post_once_with_totals(page: Any, site: str) -> None:
    page.goto(site + "/")
    assert HOSTILE_TITLE in page.locator("h1").inner_text()  # shown as text
    rows = page.locator("table.posts tbody tr")
    assert rows.count() == 4  # launch, tips, hostile, and the broken file's post
    launch = rows.filter(has_text="web-demo/launch")
    assert "en, fr" in launch.inner_text()
    assert "be-fr, us-en" in launch.inner_text()
    assert "22 planned" in launch.inner_text()  # 2 audiences x 11 channels
    assert "not-scheduled" in rows.filter(has_text="broken/p").inner_text()
    assert page.locator(".totals").inner_text().startswith("71 deliveries of 4 posts")
    assert_inert(page)
    screenshot(page, "overview")
    assert axe_violations(page) == []


def test_problems_are_located_and_linked_to_their_posts(page: Any, site: str) -> None:
    page.goto(site + "/")
    page.get_by_role("link", name="1 problem(s)").click()
    section = page.locator("section#broken-p")
    assert "broken.yaml:1:" in section.inner_text() or "broken.yaml" in section.inner_text()
    section.get_by_role("link", name="broken/p").click()
    assert page.locator("h1").inner_text() == "Post broken/p"
    page.goto(site + "/problems")
    screenshot(page, "problems")
    assert axe_violations(page) == []


@pytest.mark.parametrize("view", ["month", "week", "day"])
def test_calendar_views(page: Any, site: str, view: str) -> None:
    page.goto(f"{site}/calendar?view={view}&date=2027-02-09&tz=Europe/Brussels")
    assert page.locator(".event").filter(has_text="launch").count() > 0
    assert "09:00 CET" in page.locator(".event").filter(has_text="launch").first.inner_text()
    if view != "day":
        assert page.locator("td.blackout").count() >= 1
        assert "Review meeting" in page.locator("td.blackout").first.inner_text()
    assert_inert(page)
    screenshot(page, f"calendar-{view}")
    assert axe_violations(page) == []


def test_calendar_filters_live_in_the_url(page: Any, site: str) -> None:
    page.goto(f"{site}/calendar?view=week&date=2027-02-09&tz=Europe/Brussels")
    page.select_option("#f-channel", "telegram-news")
    page.select_option("#f-audience", "us-en")
    page.get_by_role("button", name="Show").click()
    assert "channel=telegram-news" in page.url and "audience=us-en" in page.url
    events = page.locator(".event")
    assert events.count() == 4  # launch, tips 1/2 and 2/2, hostile
    assert all("telegram-news · us-en" in t for t in events.all_inner_texts())
    shared = page.url
    page.goto(shared)  # the same view for whoever opens the link
    assert page.locator(".event").count() == 4
    page.select_option("#f-state", "sent")
    page.get_by_role("button", name="Show").click()
    assert page.locator(".event").count() == 0


def test_time_zone_switch_moves_the_clock(page: Any, site: str) -> None:
    page.goto(
        f"{site}/calendar?view=day&date=2027-02-09&tz=Europe/Brussels&audience=us-en&channel=x-main"
    )
    assert "15:00 CET" in page.locator(".event").filter(has_text="launch").inner_text()
    page.select_option("#f-tz", "America/New_York")
    page.get_by_role("button", name="Show").click()
    assert "tz=America%2FNew_York" in page.url
    assert "09:00 EST" in page.locator(".event").filter(has_text="launch").inner_text()
    page.select_option("#f-tz", "UTC")
    page.get_by_role("button", name="Show").click()
    assert "14:00 UTC" in page.locator(".event").filter(has_text="launch").inner_text()


def test_browser_zone_is_offered(browser: Any, site: str) -> None:
    context = browser.new_context(timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.goto(f"{site}/calendar?view=day&date=2027-02-09")
    page.select_option("#f-tz", "Asia/Tokyo")
    page.get_by_role("button", name="Show").click()
    assert "JST" in page.locator(".event").first.inner_text()
    context.close()


@pytest.mark.parametrize(
    ("channel", "label"),
    [
        ("x-main", "X"),
        ("mastodon-main", "Mastodon"),
        ("bluesky-main", "Bluesky"),
        ("linkedin-main", "LinkedIn"),
        ("telegram-news", "Telegram"),
        ("threads-main", "Threads"),
        ("facebook-main", "Facebook"),
        ("webhook-team", "Webhook"),
    ],
)
def test_each_platform_preview(page: Any, site: str, channel: str, label: str) -> None:
    page.goto(f"{site}/post/web-demo/launch?variant=us-en")
    card = page.locator("article.card").filter(has=page.locator("h2", has_text=channel))
    assert card.locator(".platform").inner_text() == label
    text = card.locator(".text")
    assert text.locator(".tag").first.inner_text() == "#SaferInternetDay"
    assert text.locator(".mention").inner_text() == "@clarion"
    link = text.locator("a.link").first
    shown = link.inner_text()
    if channel == "x-main":
        assert shown == "example.org/a/very/long…"  # as X displays a long address
    assert link.get_attribute("href").startswith("https://example.org/a/very")
    assert card.locator("img").get_attribute("alt") == "A dark card"
    rules = PLATFORMS[label.lower()]
    limit = rules.caption_length or rules.max_length  # the post has an image: a caption
    assert f"/{limit}" in card.locator(".length").inner_text()
    card.locator("summary", has_text="Payload").click()
    payload = json.loads(card.locator(".payload pre").inner_text())
    assert payload["channel"] == channel and payload["audience"] == "us-en"
    if channel == "telegram-news":
        assert card.locator(".linkcard-label").inner_text() == "Link preview"
    card.locator("summary", has_text="Payload").click()  # folded again for the picture
    screenshot(card, f"post-{label.lower()}")
    screenshot(page, "post")


def test_thread_parts_are_stacked_and_variants_switch(page: Any, site: str) -> None:
    page.goto(f"{site}/post/web-demo/tips")
    page.get_by_role("link", name="us-en").click()
    card = page.locator("article.card").filter(has=page.locator("h2", has_text="linkedin-main"))
    parts = card.locator("section.part")
    assert parts.count() == 2
    assert "a comment on the first post" in parts.nth(1).inner_text()
    page.get_by_role("link", name="be-fr").click()
    assert "Écoutez" in page.locator("article.card").first.inner_text()
    assert axe_violations(page) == []


def test_hostile_text_shows_as_text(page: Any, site: str) -> None:
    page.goto(f"{site}/post/web-demo/hostile?variant=us-en")
    first = page.locator("article.card .text").first
    assert HOSTILE.split(" javascript:")[0] in first.inner_text()
    hrefs = [a.get_attribute("href") for a in first.locator("a").all()]
    assert hrefs == ["https://example.org/say-no"]  # javascript: is never a link
    assert first.locator("img, script").count() == 0
    assert_inert(page)
    page.goto(f"{site}/calendar?view=day&date=2027-02-10")
    assert_inert(page)


def test_unknown_post_is_a_404_page(page: Any, site: str) -> None:
    response = page.goto(f"{site}/post/web-demo/nope")
    assert response.status == 404
    assert "no post nope" in page.inner_text("main")
