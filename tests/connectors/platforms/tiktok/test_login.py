from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from connectors.base import AuthFailed
from connectors.platforms.tiktok.fake import CLIENT_KEY, CLIENT_SECRET, TikTokFake
from connectors.platforms.tiktok.login import login


class Browser:
    """Answers the questions; opens the authorization address as a browser would: TikTok's
    page sends it back to clarion's server on 127.0.0.1, unless it runs elsewhere, in which
    case the address it ends on is pasted."""

    def __init__(self, *, elsewhere: bool = False, tamper: bool = False) -> None:
        self.elsewhere, self.tamper = elsewhere, tamper
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def ask(self, question: str, *, secret: bool = False) -> str:
        if question.startswith("Client key"):
            return CLIENT_KEY
        if question.startswith("Client secret"):
            return CLIENT_SECRET
        address = next(line.strip() for line in self.said[-1].splitlines() if "authorize/" in line)
        answer = httpx.get(address, follow_redirects=False)
        back = answer.headers["location"]
        if self.tamper:
            back = back.replace("state=", "state=x")
        if self.elsewhere:
            return back
        httpx.get(back)
        return ""


def test_login_brings_back_a_refresh_token_through_the_loopback(fake: TikTokFake) -> None:
    browser = Browser()
    found = login(browser, fake.channel())
    assert set(found) == {"refresh_token"}
    assert found["refresh_token"] in fake.refresh_tokens
    address = browser.said[0]
    assert "code_challenge_method=S256" in address
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in address
    assert "video.publish" in address


def test_login_takes_the_pasted_address_and_asks_for_the_app_keys(fake: TikTokFake) -> None:
    access = fake.channel()
    without_app = replace(access, credentials={}, options={"mode": "inbox"})
    found = login(Browser(elsewhere=True), without_app)
    assert found["client_key"] == CLIENT_KEY and found["refresh_token"] in fake.refresh_tokens


def test_login_refuses_an_answer_to_another_login(fake: TikTokFake) -> None:
    with pytest.raises(AuthFailed, match="did not come back from this login"):
        login(Browser(elsewhere=True, tamper=True), fake.channel())
