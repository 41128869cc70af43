"""Terminal flows that obtain credentials for a channel (`clarion login CHANNEL`).

A flow asks and tells through `LoginIO`, talks to the platform, and returns the credentials
as {name: secret}; the command prints them as environment lines or writes them to a file
readable only by the user — never into config.yaml.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from connectors.base import ChannelAccess
from connectors.catalog import imported, platforms


class LoginIO(Protocol):
    def ask(self, question: str, *, secret: bool = False) -> str: ...

    def say(self, text: str) -> None: ...


LoginFlow = Callable[[LoginIO, ChannelAccess], dict[str, str]]


def login_flow(platform: str) -> LoginFlow | None:
    spec = platforms().get(platform)
    if spec is None or spec.login is None:
        return None
    flow: LoginFlow = imported(spec.login)
    return flow
