"""What each platform needs in config.yaml, checked without importing any platform client.

`clarion validate --config` runs these checks, and must stay fast and free of network
libraries; connectors call the same functions before they start.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from connectors.base import ChannelConfig

REQUIRED_CREDENTIALS: Mapping[str, Sequence[Sequence[str]]] = {
    "x": (
        ("consumer_key", "consumer_secret", "access_token", "access_token_secret"),
        ("oauth2_access_token",),
    ),
    "mastodon": (("access_token",),),
    "bluesky": (("identifier", "app_password"),),
    "telegram": (("bot_token",),),
    "linkedin": (("access_token",),),
    "facebook": (("page_access_token",),),
    "threads": (("access_token",),),
    "webhook": (("url",),),
}
"""Alternative sets of credential names: a channel gives every name of one set."""

REQUIRED_OPTIONS: Mapping[str, Sequence[tuple[str, str]]] = {
    "telegram": (("chat_id", "the channel to post in: '@channelname' or its numeric id"),),
    "linkedin": (("author", "who posts: 'urn:li:organization:…' or 'urn:li:person:…'"),),
    "facebook": (("page_id", "the numeric id of the Page"),),
    "threads": (("user_id", "the Threads user id that posts"),),
    "webhook": (("format", "what the receiver reads: slack, discord, teams, matrix or generic"),),
}

REQUIRED_BASE_URL = {"mastodon": "the instance's address, such as https://mastodon.social"}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def base_url_problem(url: str) -> str | None:
    """Why a configured API address is not acceptable, or None.

    Plain http is allowed only to this machine: credentials never cross a network unencrypted.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"'{url}' is not an http(s) address"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return f"'{url}' uses plain http; only https is allowed except for 127.0.0.1 or localhost"
    return None


def settings_problems(config: ChannelConfig) -> list[tuple[str, str]]:
    """Problems as (key under the channel, message); credentials are checked by name only."""
    problems: list[tuple[str, str]] = []
    platform = config.platform
    if config.base_url:
        message = base_url_problem(config.base_url)
        if message:
            problems.append(("base_url", message))
    elif platform in REQUIRED_BASE_URL:
        problems.append(("platform", f"{platform} needs base_url: {REQUIRED_BASE_URL[platform]}"))
    choices = REQUIRED_CREDENTIALS.get(platform, ())
    given = {name for name, value in config.credentials.items() if value}
    if choices and not any(given.issuperset(names) for names in choices):
        wanted = " or ".join("{" + ", ".join(names) + "}" for names in choices)
        problems.append(("credentials", f"{platform} needs the credentials {wanted}"))
    for option, meaning in REQUIRED_OPTIONS.get(platform, ()):
        if not config.options.get(option):
            problems.append(("options", f"{platform} needs options.{option}: {meaning}"))
    return problems
