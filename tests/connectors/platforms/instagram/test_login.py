from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.base import AuthFailed, ChannelAccess
from connectors.platforms.instagram.fake import (
    APP_ID,
    APP_SECRET,
    SHORT_TOKEN,
    TOKEN,
    USER,
    InstagramFake,
)
from connectors.platforms.instagram.login import login


class Script:
    """A terminal that answers each question in turn and keeps what it was told."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, bool]] = []
        self.said: list[str] = []

    def ask(self, question: str, *, secret: bool = False) -> str:
        self.asked.append((question, secret))
        return self.answers.pop(0)

    def say(self, text: str) -> None:
        self.said.append(text)


@pytest.fixture
def fake() -> Iterator[InstagramFake]:
    with InstagramFake() as fake:
        yield fake


def channel(fake: InstagramFake, **credentials: str) -> ChannelAccess:
    return ChannelAccess(
        "instagram-main", "instagram", credentials=credentials, base_url=fake.base_url
    )


def test_login_trades_the_explorer_token_and_names_the_account(fake: InstagramFake) -> None:
    io = Script(APP_ID, APP_SECRET, SHORT_TOKEN)
    assert login(io, channel(fake)) == {"access_token": TOKEN}
    assert [secret for _, secret in io.asked] == [False, True, True]
    assert f"user_id: '{USER}'  # @sayno_europe" in io.said[-1]
    assert "about 59 days" in io.said[-1]
    exchange = fake.requests[0]
    assert exchange.query["grant_type"] == ["fb_exchange_token"]
    assert exchange.query["client_secret"] == [APP_SECRET]
    assert APP_SECRET not in str(io.said)


def test_login_takes_the_app_keys_from_the_configuration(fake: InstagramFake) -> None:
    io = Script(SHORT_TOKEN)
    found = login(io, channel(fake, app_id=APP_ID, app_secret=APP_SECRET))
    assert found == {"access_token": TOKEN} and len(io.asked) == 1


def test_login_with_a_wrong_secret_says_meta_refused(fake: InstagramFake) -> None:
    with pytest.raises(AuthFailed, match="Meta refused to trade the token"):
        login(Script(APP_ID, "wrong", SHORT_TOKEN), channel(fake))
