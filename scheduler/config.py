"""config.yaml: where plans live, where the ledger is, which channels exist, and the policies.

Found at `--config PATH`, else `$CLARION_CONFIG`, else `./config.yaml`; with none of them the
embedded defaults apply (an SQLite ledger under ./.clarion, the built-in channel names, every
channel a dry run). Secrets are never written in the file: a credential is `${ENV_VAR}` or
`file:PATH`, resolved only when a channel is used, so `validate` and `preview` need none.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from campaigns.channels import KnownChannel
from campaigns.durations import Duration, PositiveDuration, format_duration
from campaigns.modelcheck import check_model
from campaigns.platforms import PLATFORMS
from campaigns.problems import HintedError, InputError, Location, Problem
from campaigns.textfile import UnreadableText, read_text
from campaigns.yamlsource import Document, SourceMap, read_yaml
from connectors.catalog import platforms

if TYPE_CHECKING:
    from connectors.base import ChannelAccess


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
    not_after: PositiveDuration | None = timedelta(hours=2)
    """Default lateness after which a delivery expires instead of going out."""
    alert_lateness: Duration = timedelta(minutes=2)
    min_gap: Duration = timedelta(minutes=30)
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


def parse_listen(listen: str) -> tuple[str, int]:
    """'127.0.0.1:9480', '[::1]:9480' or ':9480' (all interfaces) to (host, port)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise HintedError(
            f"'{listen}' is not HOST:PORT",
            hint="write an address and a port, like "
            "127.0.0.1:9480 (:9480 for every interface, port 0 for any free port), or null "
            "to turn the endpoint off",
        )
    return host.strip("[]") or "0.0.0.0", int(port)


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


DEFAULT_CHANNELS: dict[str, str] = {
    spec.default_channel: name for name, spec in platforms().items() if spec.default_channel
}
"""The channels of the built-in configuration, used when there is no config file."""


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


_LEDGER_HINT = (
    "write sqlite:////var/lib/clarion/ledger.db (a file; a relative path after the third "
    "slash is relative to the folder of config.yaml) or postgresql://user@host/database, or leave "
    "'ledger' out for a file in state_dir"
)


def ledger_url(value: str) -> str:
    """The ledger URL checked: an SQLite file or a PostgreSQL database, the only back-ends
    the ledger is built and tested for. `postgresql://` and `postgres://` get the driver
    Clarion ships with (psycopg 3)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    scheme = value.partition("://")[0].lower()
    if scheme in ("postgresql", "postgres"):
        value = "postgresql+psycopg://" + value.partition("://")[2]
    try:
        parsed = make_url(value)
    except (ArgumentError, ValueError):
        raise HintedError(f"'{value}' is not a database address", hint=_LEDGER_HINT) from None
    backend, _, driver = parsed.drivername.partition("+")  # without loading any driver
    if backend == "sqlite" and driver in ("", "pysqlite"):
        if parsed.database in (None, "", ":memory:") or parsed.host:
            raise HintedError(f"'{value}' names no ledger file", hint=_LEDGER_HINT)
    elif (backend, driver) != ("postgresql", "psycopg"):  # the scheme was rewritten above
        raise HintedError(
            f"a ledger on {scheme} is not supported: only an SQLite file or a PostgreSQL database",
            hint=_LEDGER_HINT,
        )
    return value


@dataclass(frozen=True)
class Config:
    file: ConfigFile
    path: Path | None
    """None when running on the embedded defaults."""
    source: SourceMap
    base: Path = field(default_factory=Path.cwd)
    """Relative paths in the file are relative to this folder (the file's own)."""
    warnings: tuple[Problem, ...] = ()

    @property
    def explicit(self) -> bool:
        return self.path is not None

    @property
    def state_dir(self) -> Path:
        return (self.base / self.file.state_dir).resolve()

    @property
    def ledger_url(self) -> str:
        """A relative SQLite path is taken from the config's folder, as every other path:
        taken from wherever the command runs, a daemon started elsewhere would open a new
        ledger and post again what the real one records as sent."""
        if self.file.ledger is None:
            return f"sqlite:///{self.state_dir / 'ledger.db'}"
        from sqlalchemy.engine import make_url

        url = make_url(self.file.ledger)
        if url.get_backend_name() != "sqlite" or Path(url.database or "").is_absolute():
            return self.file.ledger
        database = (self.base / (url.database or "")).resolve()
        return url.set(database=str(database)).render_as_string(hide_password=False)

    @property
    def campaign_paths(self) -> list[Path]:
        return [(self.base / p).resolve() for p in self.file.campaigns]

    @property
    def campaign_entries(self) -> list[Path]:
        """The campaign paths as written, symbolic links not followed: what the daemon
        watches, so that a folder or link replaced under the same name is noticed."""
        return [self.base / p for p in self.file.campaigns]

    @property
    def channels(self) -> dict[str, ChannelSettings]:
        if self.explicit:
            return self.file.channels
        return {name: ChannelSettings(platform=p) for name, p in DEFAULT_CHANNELS.items()}

    def known_channels(self) -> dict[str, KnownChannel]:
        return {
            name: KnownChannel(
                name,
                settings.platform,
                settings.max_length,
                content_warning=str(settings.options.get("content_warning") or "")
                if platforms()[settings.platform].content_warning
                else "",
            )
            for name, settings in self.channels.items()
        }

    def channel_access(
        self, name: str, credentials: Mapping[str, str] | None = None
    ) -> ChannelAccess:
        """What the channel's connector is given. Connectors that must remember something
        across restarts (Threads containers) get a folder under state_dir unless the channel
        names its own `options.state_dir`."""
        from connectors.base import ChannelAccess

        settings = self.channels[name]
        options = {"state_dir": str(self.state_dir / "channels"), **settings.options}
        return ChannelAccess(
            name,
            settings.platform,
            settings.account,
            settings.credentials if credentials is None else credentials,
            settings.base_url,
            options,
            settings.timeout.total_seconds(),
        )

    def where(self, *path: str | int) -> Location:
        return self.source.value(tuple(path))

    def credentials(self, channel: str) -> dict[str, str]:
        """The channel's secrets, read now from the environment or files.

        Raises InputError naming each credential that cannot be read, at its line.
        """
        return self._secrets(self.channels[channel].credentials, "channels", channel, "credentials")

    def operators(self) -> dict[str, str]:
        """The web view's operators and their passwords, read now (InputError as above)."""
        return self._secrets(self.file.server.operators, "server", "operators")

    def _secrets(self, refs: Mapping[str, str], *path: str) -> dict[str, str]:
        resolved: dict[str, str] = {}
        problems: list[Problem] = []
        for name, ref in refs.items():
            where = self.where(*path, name)
            try:
                resolved[name] = self._resolve(ref)
            except LookupError as exc:
                problems.append(Problem("error", str(exc), where, _secret_hint(ref)))
        if problems:
            raise InputError(problems)
        return resolved

    def _resolve(self, ref: str) -> str:
        if ref.startswith("file:"):
            path = self.base / Path(ref[5:]).expanduser()
            try:
                text = read_text(path, MAX_SECRET_SIZE)
            except UnreadableText as exc:
                where = (
                    f" (line {exc.line}, column {exc.col})" if exc.line > 1 or exc.col > 1 else ""
                )
                raise LookupError(f"secret file {path}{where}: {exc.message}") from None
            if not text.strip():
                raise LookupError(f"secret file {path} is empty")
            return text.rstrip("\r\n")

        def env(match: re.Match[str]) -> str:
            name = match.group(1)
            value = os.environ.get(name)
            if value is None:
                raise LookupError(f"environment variable {name} is not set")
            if not value.strip():
                raise LookupError(f"environment variable {name} is set but empty")
            return value

        return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", env, ref)


MAX_SECRET_SIZE = 64 * 1024
"""Tokens and keys are a few hundred bytes; a secret file larger than this is the wrong file."""


def _secret_hint(ref: str) -> str:
    if ref.startswith("file:"):
        return (
            "put the secret alone in a plain UTF-8 text file (a trailing line break is "
            "ignored), readable only by the user that runs clarion (chmod 600)"
        )
    return "export it in the daemon's environment (systemd: EnvironmentFile=)"


def load_config(path: Path | None) -> Config:
    """Load and check a config file (all problems at once), or the embedded defaults."""
    if path is None:
        env = os.environ.get("CLARION_CONFIG")
        if env:
            path = Path(env)
        elif Path("config.yaml").is_file():
            path = Path("config.yaml")
    if path is None:
        return Config(ConfigFile(), None, SourceMap("(defaults)"))
    doc = read_yaml(path)
    return parse_config(doc, path)


def parse_config(doc: Document, path: Path) -> Config:
    data = {} if doc.data is None else doc.data
    checked = Document(doc.file, data, doc.source)
    model, problems = check_model(ConfigFile, checked)
    if model is None:
        raise InputError(sorted(problems, key=lambda p: (p.where.line, p.where.col)))
    config = Config(model, path, doc.source, base=path.resolve().parent)
    found = _channel_problems(config) + _lease_problems(config) + _state_dir_problems(config)
    problems = sorted(found, key=lambda p: (p.where.line, p.where.col))
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    return replace(config, warnings=tuple(problems))


def _lease_problems(config: Config) -> list[Problem]:
    """A claim must outlast a publish: a lease that runs out while the platform is still
    answering makes the delivery unknown although nothing went wrong."""
    lease = config.file.policies.lease
    return [
        Problem(
            "error",
            f"timeout {format_duration(settings.timeout)} is not shorter than policies.lease "
            f"({format_duration(lease)})",
            config.where("channels", name, "timeout"),
            "make policies.lease longer than every channel's timeout (the default lease is "
            "5m), or shorten this timeout",
        )
        for name, settings in config.channels.items()
        if settings.timeout >= lease
    ]


def _state_dir_problems(config: Config) -> list[Problem]:
    folder = config.state_dir
    if folder.exists() and not folder.is_dir():
        return [_state_dir_problem(config, f"state_dir {folder} is a file, not a folder")]
    return []


def _state_dir_problem(config: Config, message: str) -> Problem:
    return Problem(
        "error",
        message,
        config.where("state_dir"),
        "name a folder that clarion may create and write in (the ledger and the daemon's "
        "files go there), such as .clarion; it is relative to the folder of config.yaml",
    )


def prepare_state_dir(config: Config) -> None:
    """Create the state folder and make sure files can be written in it (the daemon's).

    Raises InputError, located at `state_dir`, when it cannot.
    """
    import tempfile  # here: the plan commands never need it

    folder = config.state_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(
            [_state_dir_problem(config, f"cannot write in state_dir {folder}: {reason}")]
        ) from None


def _channel_problems(config: Config) -> list[Problem]:
    """Per-platform credential, option and address checks (credentials by name only)."""
    from connectors.settings import settings_problems

    problems: list[Problem] = []
    for name, settings in config.channels.items():
        if settings.max_length and settings.max_length < PLATFORMS[settings.platform].max_length:
            problems.append(
                Problem(
                    "warning",
                    f"max_length {settings.max_length} is below {settings.platform}'s own limit",
                    config.where("channels", name, "max_length"),
                )
            )
        for key, message in settings_problems(config.channel_access(name)):
            problems.append(Problem("error", message, config.where("channels", name, key)))
    return problems
