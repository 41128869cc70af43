"""`clarion login` for YouTube: the loopback redirect with PKCE, against the fake's Google."""

from __future__ import annotations

import re

import httpx
import pytest

from connectors.base import AuthFailed, ChannelAccess
from connectors.platforms.youtube.fake import CLIENT_ID, CLIENT_SECRET, YouTubeFake
from connectors.platforms.youtube.login import login
from tests.connectors.platforms.youtube.kit import connector


class Browser:
    """The user: reads the address Clarion prints, opens it, and answers the prompts."""

    def __init__(self, *, paste: bool = False, app: dict[str, str] | None = None) -> None:
        self.paste = paste
        self.app = app or {}
        self.said: list[str] = []
        self.asked: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def ask(self, question: str, *, secret: bool = False) -> str:
        self.asked.append(question)
        if "Client ID" in question:
            return self.app["client_id"]
        if "Client secret" in question:
            assert secret
            return self.app["client_secret"]
        [address] = re.findall(r"^    (http\S+)$", self.said[-1], re.MULTILINE)
        google = httpx.get(address)  # Google approves and sends the browser back
        assert google.status_code == 302
        if self.paste:  # the browser is elsewhere: the loopback address does not load there
            return google.headers["location"]
        assert httpx.get(google.headers["location"]).status_code == 200
        return ""


def channel(fake: YouTubeFake, **credentials: str) -> ChannelAccess:
    return ChannelAccess("youtube-main", "youtube", credentials=credentials, base_url=fake.base_url)


@pytest.mark.parametrize("paste", [False, True])
def test_login_returns_a_refresh_token_that_publishes(fake: YouTubeFake, paste: bool) -> None:
    browser = Browser(paste=paste)
    found = login(browser, channel(fake, client_id=CLIENT_ID, client_secret=CLIENT_SECRET))

    assert set(found) == {"refresh_token"}
    assert found["refresh_token"] in fake.refresh_tokens
    assert (
        browser.said[-1] == "Authorized: videos will go out on the YouTube channel SayNo Campaign."
    )
    authorize = next(r for r in fake.requests if r.path == "/o/oauth2/v2/auth")
    assert authorize.query["code_challenge_method"] == ["S256"]
    assert authorize.query["redirect_uri"][0].startswith("http://127.0.0.1:")
    assert authorize.query["scope"] == ["https://www.googleapis.com/auth/youtube.force-ssl"]
    token = next(r for r in fake.requests if r.path == "/token")
    assert "code_verifier=" in token.body.decode()


def test_login_asks_for_the_app_s_keys_it_lacks(fake: YouTubeFake) -> None:
    browser = Browser(app={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    found = login(browser, channel(fake))
    assert found["client_id"] == CLIENT_ID and found["client_secret"] == CLIENT_SECRET
    youtube = connector(fake)
    assert youtube.check().ok


def test_a_wrong_client_secret_says_where_to_copy_it_from(fake: YouTubeFake) -> None:
    with pytest.raises(AuthFailed, match="Google Cloud console"):
        login(Browser(), channel(fake, client_id=CLIENT_ID, client_secret="wrong"))


def test_pressing_enter_without_going_to_the_browser_says_what_to_do(
    fake: YouTubeFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("connectors.platforms.youtube.login.WAIT", 0.05)

    class Impatient(Browser):
        def ask(self, question: str, *, secret: bool = False) -> str:
            return ""

    with pytest.raises(AuthFailed, match="no answer came from Google"):
        login(Impatient(), channel(fake, client_id=CLIENT_ID, client_secret=CLIENT_SECRET))
