"""What makes a platform: one folder, connectors/platforms/NAME/, whose `__init__.py` gives a
`PLATFORM = PlatformSpec(...)`.

Every table keyed by a platform's name (the plan's rules, the connector to build, the
credentials and options a channel needs, the `clarion login` flow, the default channel names)
is derived from these records by `connectors.catalog`, so adding a platform is adding a folder.
The `__init__.py` holds data only: `clarion validate` reads every platform's rules and must not
import a network client; `connector`, `fake` and `login` name what to import when needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.platformrules import PlatformRules


@dataclass(frozen=True, slots=True)
class PlatformSpec:
    rules: PlatformRules
    connector: str
    """`module:Class` of its Connector, imported only when a channel of the platform is used."""
    fake: str
    """`module:Class` of its loopback fake (a FakePlatform), which the connector contract suite
    (tests/connectors/contract) drives: a platform without one is not registered."""
    credentials: tuple[tuple[str, ...], ...]
    """Alternative sets of credential names: a channel gives every name of one set."""
    options: tuple[tuple[str, str], ...] = ()
    """Options a channel must give, each with what it means (shown when it is missing)."""
    choices: tuple[tuple[str, tuple[bool | str, ...]], ...] = ()
    """Options whose value, when given, must be one of these (YouTube's made_for_kids: true or
    false, as YAML writes them, not the text "false")."""
    base_url: str | None = None
    """What the address is, when a channel must give base_url (a Mastodon instance)."""
    login: str | None = None
    """`module:function` of the terminal flow behind `clarion login`, where the platform has one."""
    default_channel: str | None = None
    """The channel name `clarion init` and the built-in configuration give the platform."""
    content_warning: bool = False
    """Whether a channel's `options.content_warning` goes on every post (Mastodon's spoiler
    text), so that the plan checks count it and the preview shows it."""

    @property
    def name(self) -> str:
        return self.rules.name
