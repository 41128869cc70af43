"""Terminal flows that obtain credentials for a channel (`clarion login CHANNEL`).

A flow asks and tells through `LoginIO`, talks to the platform, and returns the credentials
as {name: secret}; the command prints them as environment lines or writes them to a file
readable only by the user — never into config.yaml.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Protocol

from connectors.base import ChannelAccess


class LoginIO(Protocol):
    def ask(self, question: str, *, secret: bool = False) -> str: ...

    def say(self, text: str) -> None: ...


LoginFlow = Callable[[LoginIO, ChannelAccess], dict[str, str]]

FLOWS: dict[str, str] = {
    "x": "connectors.x:login",
    "mastodon": "connectors.mastodon:login",
    "bluesky": "connectors.bluesky:login",
}


def login_flow(platform: str) -> LoginFlow | None:
    target = FLOWS.get(platform)
    if target is None:
        return None
    module, _, name = target.partition(":")
    flow: LoginFlow = getattr(import_module(module), name)
    return flow
