"""The models config.yaml is checked against (see scheduler.config, which hands them out).

Building them is a tenth of the start-up of `clarion validate` and `clarion preview`, which
without a config file never need them: scheduler.config imports this module only when a file
is read or a setting asked for.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from campaigns.durations import Duration, PositiveDuration
from campaigns.platforms import PLATFORMS
from campaigns.problems import HintedError
from scheduler.config import MIN_GAP, NOT_AFTER, ledger_url, parse_listen

if TYPE_CHECKING:
    Platform = str
else:  # a Literal, so that a wrong name is told the known ones and the schema lists them
    Platform = Literal[tuple(PLATFORMS)]
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|^file:(.+)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateSettings(_Strict):
    """A channel's `rate`: the pace Clarion keeps on it, whatever the platform allows."""

    posts: int = Field(gt=0)
    per: PositiveDuration
    min_interval: Duration = timedelta(0)
    """At least this long between two posts on the channel, so bursts are spread out."""


class ChannelFigures(_Strict):
    """A channel's own figures policy: what it sets replaces `policies.figures`."""

    after: list[PositiveDuration] | None = None
    """When its posts' figures are read, after each went out; [] reads none."""
    per_round: int | None = Field(default=None, ge=1)


class ChannelSettings(_Strict):
    platform: Platform
    account: str | None = None
    credentials: dict[str, str] = {}
    base_url: str | None = None
    max_length: int | None = Field(default=None, gt=0)
    options: dict[str, Any] = {}
    rate: RateSettings | None = None
    timeout: PositiveDuration = timedelta(seconds=30)
    figures: ChannelFigures = ChannelFigures()

    @field_validator("credentials")
    @classmethod
    def _references_only(cls, value: dict[str, str]) -> dict[str, str]:
        return _references_only(value, "credential")


def _references_only(value: dict[str, str], what: str) -> dict[str, str]:
    for name, ref in value.items():
        if not _REFERENCE.search(ref):
            raise HintedError(
                f"{what} '{name}' is written out in the file",
                hint=f"write "
                f"'{name}: ${{SOME_ENV_VAR}}' or '{name}: file:/path/to/secret' so that "
                "secrets stay out of config files and version control",
            )
    return value


class RetryPolicy(_Strict):
    attempts: int = Field(default=8, ge=1)
    first_delay: PositiveDuration = timedelta(seconds=30)
    max_delay: PositiveDuration = timedelta(minutes=30)


class FigureRetry(_Strict):
    attempts: int = Field(default=8, ge=1)
    first_delay: PositiveDuration = timedelta(minutes=5)
    max_delay: PositiveDuration = timedelta(hours=6)


class FigurePolicy(_Strict):
    """When and how fast the daemon reads how sent posts were received (`scheduler.collect`)."""

    after: list[PositiveDuration] = [timedelta(hours=1), timedelta(hours=24), timedelta(days=7)]
    """The moments, after a post went out, at which its figures are read."""
    every: PositiveDuration = timedelta(minutes=1)
    """How often the collector looks for readings that are due."""
    per_round: int = Field(default=20, ge=1)
    """At most this many posts read per channel in one round."""
    headroom: float = Field(default=0.5, ge=0, lt=1)
    """Share of a channel's posting budget (`rate:`) kept for publishing: collection on the
    channel waits while more than the rest of it is spent."""
    retry: FigureRetry = FigureRetry()

    def moments(self, channel: ChannelSettings) -> list[timedelta]:
        found = self.after if channel.figures.after is None else channel.figures.after
        return sorted(found)

    def per_round_of(self, channel: ChannelSettings) -> int:
        return channel.figures.per_round or self.per_round


class Policies(_Strict):
    not_after: PositiveDuration | None = NOT_AFTER
    """Default lateness after which a delivery expires instead of going out."""
    alert_lateness: Duration = timedelta(minutes=2)
    min_gap: Duration = MIN_GAP
    """Warn when two posts on one channel are closer than this."""
    retry: RetryPolicy = RetryPolicy()
    lease: PositiveDuration = timedelta(minutes=5)
    """How long a claim lasts; longer than every channel's timeout (checked at load)."""
    horizon: PositiveDuration = timedelta(hours=6)
    """How far ahead the daemon sets alarms; later deliveries get theirs as time passes."""
    prepare_ahead: Duration = timedelta(seconds=2)
    """How long before a post's due time the daemon claims it and opens its connection, so
    that it goes out at that time to the millisecond; never before it. 0 turns it off."""
    shutdown_grace: Duration = timedelta(seconds=30)
    sweep_interval: PositiveDuration = timedelta(seconds=5)
    """How often the daemon's sweeper looks for anything due that an alarm missed."""
    recheck_interval: PositiveDuration = timedelta(minutes=1)
    """How often unknown deliveries are reconciled and held channels are tested again."""
    reconcile_after: Duration = timedelta(minutes=2)
    """How long an unknown delivery is left alone before it is looked up or sent again: the
    platform may still be working on the request whose answer was lost, and a repeat that
    arrives meanwhile is not recognised (Mastodon stores a request key once the post exists)."""
    figures: FigurePolicy = FigurePolicy()


class ServerSettings(_Strict):
    listen: str | None = "127.0.0.1:9480"
    """Address of /healthz and /metrics; null turns the endpoint off."""
    web: bool = False
    """Also serve the web view (calendar, previews, live state) on this address."""
    operators: dict[str, str] = {}
    """Who may act in the web view (pause, retry...): name -> password as ${ENV} or file:."""

    @field_validator("operators")
    @classmethod
    def _operator_references(cls, value: dict[str, str]) -> dict[str, str]:
        return _references_only(value, "operator password")

    @field_validator("listen")
    @classmethod
    def _host_and_port(cls, value: str | None) -> str | None:
        if value is not None:
            parse_listen(value)
        return value


class LogSettings(_Strict):
    format: Literal["text", "json"] = "text"
    level: Literal["debug", "info", "warning", "error"] = "info"


class ConfigFile(_Strict):
    campaigns: list[str] = []
    """Folders (every .yaml file inside, recursively) or single files, relative to this file."""
    state_dir: str = ".clarion"
    ledger: str | None = None
    """A SQLAlchemy URL; by default an SQLite file in state_dir."""

    @field_validator("ledger")
    @classmethod
    def _ledger_url(cls, value: str | None) -> str | None:
        return None if value is None else ledger_url(value)

    @field_validator("state_dir")
    @classmethod
    def _state_folder(cls, value: str) -> str:
        if not value.strip():
            raise HintedError(
                "state_dir is empty",
                hint="name a folder for the ledger and the daemon's files, such as .clarion",
            )
        return value

    channels: dict[str, ChannelSettings] = {}
    policies: Policies = Policies()
    server: ServerSettings = ServerSettings()
    log: LogSettings = LogSettings()

    @field_validator("channels")
    @classmethod
    def _channel_names(cls, value: dict[str, ChannelSettings]) -> dict[str, ChannelSettings]:
        for name in value:
            if not _NAME.fullmatch(name):
                raise ValueError(
                    f"channel name '{name}' may hold only letters, digits, '.', '_' and '-'"
                )
        return value
