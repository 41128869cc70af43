"""What `clarion validate --config` says of a YouTube channel's options, before any network."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.base import ChannelAccess
from connectors.settings import settings_problems

CREDENTIALS = {"client_id": "id", "client_secret": "secret", "refresh_token": "token"}


def problems(**options: Any) -> list[tuple[str, str]]:
    return settings_problems(ChannelAccess("yt", "youtube", None, CREDENTIALS, None, options))


@pytest.mark.parametrize("answer", [True, False])
def test_made_for_kids_true_or_false_is_an_answer(answer: bool) -> None:
    assert problems(made_for_kids=answer) == []


def test_a_channel_that_does_not_say_made_for_kids_is_told_why_it_must() -> None:
    [(key, message)] = problems()
    assert key == "options"
    assert "youtube needs options.made_for_kids: true or false" in message
    assert "COPPA" in message and "never guesses" in message


@pytest.mark.parametrize(
    ("value", "shown"), [("false", "'false'"), ("no", "'no'"), (0, "0"), (1, "1")]
)
def test_made_for_kids_must_be_yaml_s_true_or_false(value: object, shown: str) -> None:
    assert problems(made_for_kids=value) == [
        ("options", f"youtube's options.made_for_kids is {shown}: write true or false")
    ]


def test_privacy_is_one_of_youtube_s_three() -> None:
    assert problems(made_for_kids=False, privacy="unlisted") == []
    assert problems(made_for_kids=False, privacy="friends") == [
        ("options", "youtube's options.privacy is 'friends': write public or unlisted or private")
    ]
