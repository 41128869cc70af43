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
from functools import cached_property
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from campaigns.channels import KnownChannel
from campaigns.durations import format_duration
from campaigns.modelcheck import check_model
from campaigns.platforms import PLATFORMS
from campaigns.problems import HintedError, InputError, Location, Problem
from campaigns.textfile import UnreadableText, read_text
from campaigns.yamlsource import Document, SourceMap, read_yaml
from connectors.catalog import platforms

if TYPE_CHECKING:
    from connectors.base import ChannelAccess
    from scheduler.configfile import ChannelFigures as ChannelFigures
    from scheduler.configfile import ChannelSettings as ChannelSettings
    from scheduler.configfile import ConfigFile as ConfigFile
    from scheduler.configfile import FigurePolicy as FigurePolicy
    from scheduler.configfile import FigureRetry as FigureRetry
    from scheduler.configfile import LogSettings as LogSettings
    from scheduler.configfile import Policies as Policies
    from scheduler.configfile import RateSettings as RateSettings
    from scheduler.configfile import RetryPolicy as RetryPolicy
    from scheduler.configfile import ServerSettings as ServerSettings

MODELS = frozenset(
    {
        "ChannelFigures",
        "ChannelSettings",
        "ConfigFile",
        "FigurePolicy",
        "FigureRetry",
        "LogSettings",
        "Policies",
        "RateSettings",
        "RetryPolicy",
        "ServerSettings",
    }
)
"""config.yaml's models, from scheduler.configfile: imported from here, they are built on
first use (`from scheduler.config import Policies` works as ever)."""


def __getattr__(name: str) -> object:
    if name in MODELS:
        return getattr(import_module("scheduler.configfile"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


MIN_GAP = timedelta(minutes=30)
"""`policies.min_gap` when config.yaml does not set it."""
NOT_AFTER = timedelta(hours=2)
"""`policies.not_after` when config.yaml does not set it."""


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


DEFAULT_CHANNELS: dict[str, str] = {
    spec.default_channel: name for name, spec in platforms().items() if spec.default_channel
}
"""The channels of the built-in configuration, used when there is no config file."""


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
    settings: ConfigFile | None
    """The file's settings; None for the embedded defaults, built when first asked for (`file`):
    validate and preview without a config file need none of config.yaml's models."""
    path: Path | None
    """None when running on the embedded defaults."""
    source: SourceMap
    base: Path = field(default_factory=Path.cwd)
    """Relative paths in the file are relative to this folder (the file's own)."""
    warnings: tuple[Problem, ...] = ()

    @cached_property
    def file(self) -> ConfigFile:
        if self.settings is not None:
            return self.settings
        from scheduler.configfile import ConfigFile

        return ConfigFile()

    @property
    def explicit(self) -> bool:
        return self.path is not None

    @property
    def plan_policies(self) -> tuple[timedelta, timedelta | None]:
        """`policies.min_gap` and `policies.not_after`: what loading a plan takes from here."""
        if self.settings is None:
            return MIN_GAP, NOT_AFTER
        policies = self.settings.policies
        return policies.min_gap, policies.not_after

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
        from scheduler.configfile import ChannelSettings

        return {name: ChannelSettings(platform=p) for name, p in DEFAULT_CHANNELS.items()}

    def rates(self) -> dict[str, RateSettings]:
        """The channels' `rate`, where they set one (the built-in channels set none)."""
        if not self.explicit:
            return {}
        return {name: s.rate for name, s in self.channels.items() if s.rate is not None}

    def known_channels(self) -> dict[str, KnownChannel]:
        if not self.explicit:  # the built-in channels: no limit, option or content warning
            return {name: KnownChannel(name, p) for name, p in DEFAULT_CHANNELS.items()}
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
        return Config(None, None, SourceMap("(defaults)"))
    doc = read_yaml(path)
    return parse_config(doc, path)


def parse_config(doc: Document, path: Path) -> Config:
    data = {} if doc.data is None else doc.data
    checked = Document(doc.file, data, doc.source)
    from scheduler.configfile import ConfigFile

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
