"""Operator actions in a real browser: sign-in, each change recorded with who made it, a
form without its CSRF token refused, and no operators configured (no actions, all refused)."""

from __future__ import annotations

import os
import stat
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from campaigns.loader import LoadOptions, load_plan
from scheduler.config import load_config
from scheduler.ledger import open_ledger
from scheduler.ledger.api import State
from scheduler.web.auth import FAILURES, KEY_FILE
from tests.scheduler.web.conftest import axe_violations, screenshot
from tests.scheduler.web.webkit import campaign, serving, write_plan

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery staple"


def ledger_with_plan(config_path: Path) -> None:
    config = load_config(config_path)
    plan = load_plan(
        config.campaign_paths, LoadOptions(config.known_channels(), True, datetime.now(UTC))
    )
    ledger = open_ledger(config.ledger_url, create=True)
    try:
        ledger.sync(plan.deliveries, datetime.now(UTC))
    finally:
        ledger.close()


ENV = {**os.environ, "T": "x", "BOB_PASSWORD": "bob's"}


def with_operators(folder: Path) -> Path:
    """A plan and its ledger, with operators alice (from a file) and bob (from the env)."""
    (folder / "alice.secret").write_text(PASSWORD + "\n")
    extra = {"server": {"operators": {"alice": "file:alice.secret", "bob": "${BOB_PASSWORD}"}}}
    config = write_plan(folder, campaign("2030-02-09"), extra_config=extra)
    ledger_with_plan(config)
    return config


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    config = with_operators(tmp_path)
    with serving(config, env=ENV) as url:
        yield url, config


def sign_in(page: Any, url: str, password: str = PASSWORD) -> None:
    page.goto(url + "/")
    page.get_by_role("link", name="Operator sign-in").click()
    page.fill("#name", "alice")
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_then_pause_resume_cancel_retry(page: Any, secured: tuple[str, Path]) -> None:
    url, config = secured
    sign_in(page, url, "wrong")
    assert "Wrong name or password." in page.inner_text("main")
    assert page.locator("#pause-button").count() == 0
    screenshot(page, "login")
    sign_in(page, url)
    assert "Signed in as alice" in page.inner_text("header")
    cookie = next(c for c in page.context.cookies() if c["name"] == "clarion_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]
    page.fill("#pause-reason", "incident <b>42</b>")
    page.get_by_role("button", name="Pause").click()
    assert "Paused every campaign" in page.inner_text(".flashes")
    assert "incident <b>42</b>" in page.inner_text(".paused")
    assert "paused" in page.locator("table.posts").inner_text()
    screenshot(page, "overview-operator")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Resume").click()
    assert "Resumed every campaign" in page.inner_text(".flashes")
    page.goto(url + "/post/web-demo/launch?variant=us-en")
    key = "web-demo/launch/us-en/x-main"
    page.locator(f"[id='cancel-{key}']").click()
    assert f"{key} is cancelled" in page.inner_text(".flashes")
    page.locator(f"[id='retry-{key}']").click()
    assert f"{key} is planned again" in page.inner_text(".flashes")
    ledger = open_ledger(load_config(config).ledger_url, create=False)
    try:
        history = ledger.history(key)
        assert [h.process for h in history[-2:]] == ["alice@web", "alice@web"]
        assert ledger.get(key).state == State.PLANNED  # type: ignore[union-attr]
    finally:
        ledger.close()


def post(url: str, data: bytes, cookie: str = "") -> int:
    request = urllib.request.Request(url, data=data, method="POST", headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_a_change_without_its_csrf_token_is_refused(page: Any, secured: tuple[str, Path]) -> None:
    url, config = secured
    sign_in(page, url)
    cookie = next(c for c in page.context.cookies() if c["name"] == "clarion_session")
    jar = f"clarion_session={cookie['value']}"
    assert post(url + "/action/pause", b"campaign=", jar) == 403
    assert post(url + "/action/pause", b"campaign=&csrf=forged", jar) == 403
    page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
    page.get_by_role("button", name="Pause").click()
    assert "security token is missing" in page.inner_text("main")
    ledger = open_ledger(load_config(config).ledger_url, create=False)
    try:
        assert ledger.controls() == []
    finally:
        ledger.close()


def test_without_operators_actions_are_absent_and_refused(page: Any, tmp_path: Path) -> None:
    config = write_plan(tmp_path, campaign("2030-02-09"))
    ledger_with_plan(config)
    with serving(config, env=ENV) as url:
        page.goto(url + "/")
        assert "Read-only" in page.inner_text("header")
        assert page.locator("form[action^='/action']").count() == 0
        page.goto(url + "/post/web-demo/launch")
        assert page.locator("button").count() == 0
        assert post(url + "/action/pause", b"campaign=") == 403
        assert page.goto(url + "/login").status == 404


def test_sign_in_backs_off_and_a_session_outlives_a_restart(browser: Any, tmp_path: Path) -> None:
    config = with_operators(tmp_path)
    alice = browser.new_page()
    with serving(config, env=ENV) as url:
        sign_in(alice, url)
        assert "Signed in as alice" in alice.inner_text("header")
        intruder = browser.new_page()
        for _ in range(FAILURES):
            sign_in(intruder, url, "guess")
            assert "Wrong name or password." in intruder.inner_text("main")
        with intruder.expect_response(lambda r: r.request.method == "POST") as answer:
            sign_in(intruder, url)  # even the right password waits now
        assert answer.value.status == 429
        assert "Too many failed sign-ins" in intruder.inner_text("main")
        assert "Signed in" not in intruder.inner_text("header")
        screenshot(intruder, "login-backoff")
    key = config.parent / ".clarion" / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    with serving(config, env=ENV) as url:  # a restart: the cookie is still good
        alice.goto(url + "/")
        assert "Signed in as alice" in alice.inner_text("header")
        assert alice.locator("#pause-button").count() == 1
    alice.context.close()
    intruder.context.close()
