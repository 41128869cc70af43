"""A channel's API address is checked whole at load: what passes, every connector can use."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.base import ChannelAccess
from connectors.http import build_client
from connectors.registry import create
from connectors.settings import base_url_problem, settings_problems


@pytest.mark.parametrize(
    "url",
    [
        "https://mastodon.social",
        "https://mastodon.social/",
        "https://social.example.org:8443/prefix/",
        "https://münchen.social",
        "https://mastodon.social.",
        "http://127.0.0.1:8080",
        "http://localhost",
        "http://[::1]:3000/api",
    ],
)
def test_good_addresses_pass(url: str) -> None:
    assert base_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://masto.example\r\n", "a carriage return (\\r) at position 22"),
        ("https://masto.example\n", "a line break"),
        ("https://masto.example\t", "a tab"),
        ("https://masto .example", "a space"),
        ("https://masto.example\x00", "U+0000"),
        ("https://masto.example\u202e", "U+202E"),
        ("https://masto.example:99999", "ports go from 1 to 65535"),
        ("https://masto.example:0", "ports go from 1 to 65535"),
        ("https://masto.example:http", "ports go from 1 to 65535"),
        ("https://user:secret@masto.example", "user name or password"),
        ("https://user@masto.example", "user name or password"),
        ("https://masto_don.example", "not a host name"),
        ("https://-masto.example", "not a host name"),
        ("https://[::zz]", "not a valid address"),
        ("ftp://masto.example", "not an http(s) address"),
        ("masto.example", "not an http(s) address"),
        ("https://", "not an http(s) address"),
        ("http://masto.example", "plain http"),
    ],
)
def test_bad_addresses_say_why(url: str, says: str) -> None:
    problem = base_url_problem(url)
    assert problem is not None and says in problem


def test_a_password_is_never_quoted() -> None:
    problem = base_url_problem("https://clarion:CANARYpw@masto.example:99999/x")
    assert problem is not None and "CANARYpw" not in problem and "clarion" not in problem
    assert "masto.example" in problem  # the rest of the address, to find the line


def test_the_channel_setting_is_named_where_it_is() -> None:
    config = ChannelAccess(
        "m", "mastodon", credentials={"access_token": "t"}, base_url="https://m.example\r\n"
    )
    [(key, message)] = settings_problems(config)
    assert key == "base_url" and "carriage return" in message


def test_a_webhook_address_is_checked_and_never_quoted() -> None:
    secret = "https://hooks.slack.com/services/T0/B0/CANARY\r\n"
    config = ChannelAccess("w", "webhook", credentials={"url": secret}, options={"format": "slack"})
    with pytest.raises(ValueError, match=r"credentials\.url contains a carriage return") as caught:
        create(config)
    assert "CANARY" not in str(caught.value)


@given(st.text(max_size=60).map(lambda rest: "https://" + rest))
def test_whatever_passes_the_check_every_connector_can_use(url: str) -> None:
    """No address that load accepts makes httpx fail later (`clarion check` crashed)."""
    if base_url_problem(url) is None:
        config = ChannelAccess("m", "mastodon", credentials={"access_token": "t"}, base_url=url)
        build_client(config, url).close()
        httpx.URL(url)


@given(st.text(max_size=60))
def test_the_check_never_raises(url: str) -> None:
    problem = base_url_problem(url)
    assert problem is None or isinstance(problem, str)
