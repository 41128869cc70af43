"""Live state during `clarion run` against a loopback Mastodon fake, in the pages the daemon
serves itself (server.web): the pause button racing a burst, then a delivery the pause held
back turning sent on an open page, without a reload, once the campaign is resumed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
    TOKEN_ENV,
    burst,
    daemon_process,
    mastodon_channels,
    reading,
    soon,
    sqlite_url,
    wait_until,
    write_config,
)
from tests.scheduler.web.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_live_state_and_pause_racing_a_burst(
    page: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, ACCESS_TOKEN)
    monkeypatch.setenv("ALICE_PASSWORD", "pw")
    with MastodonFake(latency=0.3) as fake:  # a burst that lasts long enough to pause it
        path = write_config(tmp_path, mastodon_channels(["m0", "m1"], [fake.base_url]))
        config = json.loads(path.read_text())
        config["server"] |= {"web": True, "operators": {"alice": "${ALICE_PASSWORD}"}}
        path.write_text(json.dumps(config))
        (tmp_path / "plans" / "b.yaml").write_text(burst("b", ["m0", "m1"], 60, soon(6)))
        with daemon_process(path) as daemon:
            url = daemon.ready()
            assert url is not None
            page.goto(url + "/login")
            page.fill("#name", "alice")
            page.fill("#password", "pw")
            page.get_by_role("button", name="Sign in").click()
            page.evaluate("window.notReloaded = true")
            page.locator(".totals .s-sent").wait_for(timeout=60_000)  # without a reload
            assert page.evaluate("window.notReloaded") is True
            screenshot(page, "overview-live")
            page.select_option("#pause-campaign", "b")
            page.get_by_role("button", name="Pause").click()
            assert "Paused campaign b" in page.inner_text(".flashes")
            page.evaluate("window.notReloaded = true")  # the form's answer was a new page
            with reading(sqlite_url(tmp_path)) as ledger:
                since = ledger.controls()[0].since
                wait_until(lambda: ledger.counts()[State.CLAIMED] == 0, 30, what="claims done")
                claims = [
                    h.at
                    for key in ledger.keys("b")
                    for h in ledger.history(key)
                    if h.to_state == State.CLAIMED
                ]
                assert claims and max(claims) <= since
                assert ledger.counts()[State.PLANNED] > 0  # the pause held some back
                waiting = next(
                    r for r in map(ledger.get, ledger.keys("b")) if r and r.state == State.PLANNED
                )
            # A second tab shows one of the held-back deliveries; it turns sent in place once
            # the first tab resumes the campaign.
            watch = page.context.new_page()
            watch.goto(f"{url}/post/b/{waiting.key.split('/')[1]}")
            card = watch.locator("article.card").filter(
                has=watch.locator("h2", has_text=waiting.channel)
            )
            assert card.locator(".state").inner_text() == "paused"
            watch.evaluate("window.notReloaded = true")
            page.get_by_role("button", name="Resume").click()
            assert "Resumed campaign b" in page.inner_text(".flashes")
            card.locator(".state", has_text="sent").wait_for(timeout=60_000)
            assert watch.evaluate("window.notReloaded") is True
            posted = card.get_by_role("link", name="see the post").get_attribute("href")
            assert posted.startswith(f"https://{fake.domain}/@")
            screenshot(watch, "post-live")
