"""Structured logs for the daemon: one line per event, as text or JSON, with secrets redacted.

Delivery lines carry `key`, `campaign` and `channel` as fields (`logger.info(..., extra=
delivery_fields(key))`), so an operator can grep or query one delivery's story. The redaction
filter sits on the root handler: every record passes through it, including those of httpx,
httpcore and tweepy, before any formatter sees it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from campaigns.delivery import DeliveryKey
from connectors.redaction import Secrets
from scheduler.config import LogSettings

_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}
"""Attributes every LogRecord has; anything else on a record came in through `extra=`."""

QUIET_LOGGERS = ("alembic", "apscheduler", "httpx", "httpcore", "watchfiles", "urllib3", "tweepy")
"""Libraries that log every job run or request at INFO: kept at WARNING unless level is debug."""


def delivery_fields(key: str) -> dict[str, str]:
    """The fields every log line about a delivery carries: its key, campaign and channel.

    Both come from the key (campaigns.delivery.DeliveryKey), so no ledger read is needed to
    name a delivery in a log line; of a key that is not a delivery's, the part before its
    first `/` stands for the campaign.
    """
    try:
        parts = DeliveryKey.parse(key)
    except ValueError:
        return {"key": key, "campaign": key.partition("/")[0]}
    return {"key": key, "campaign": parts.campaign, "channel": parts.channel}


class Redactor(logging.Filter):
    """Replaces every known secret value in a record: message, arguments, fields, traceback.

    Secrets are added as channels resolve their credentials, and matched in every form
    `connectors.redaction` knows: URL-encoded (Telegram puts the bot token in the path), and
    for a webhook address its secret path alone, as a redirect's Location may name it.
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets = Secrets()

    def add(self, secrets: Iterable[str]) -> None:
        self._secrets.add(secrets)

    def redact(self, text: str) -> str:
        return self._secrets.redact(text)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg!s} {record.args!r}"  # bad %-arguments: still log, redacted
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, self.redact(value))
        return True


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def _timestamp(record: logging.LogRecord) -> str:
    """UTC with milliseconds: the host's time zone never shows up in a log."""
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


def _exception(formatter: logging.Formatter, record: logging.LogRecord) -> str | None:
    if record.exc_info and not record.exc_text:
        record.exc_text = formatter.formatException(record.exc_info)
    return record.exc_text or None


class TextFormatter(logging.Formatter):
    """`2027-02-09T08:00:00.123Z INFO clarion.dispatch: sent key=… campaign=… channel=…`"""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        for name, value in _fields(record).items():
            shown = value if isinstance(value, str) and _BARE.fullmatch(value) else None
            line += f" {name}={shown if shown is not None else json.dumps(value, default=str)}"
        exc = _exception(self, record)
        if exc:
            line += "\n" + exc
        if record.stack_info:
            line += "\n" + record.stack_info
        return line


_BARE = re.compile(r"[^\s\"=]+")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the record's fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        exc = _exception(self, record)
        if exc:
            data["exc"] = exc
        return json.dumps(data, ensure_ascii=False, default=str)


FORMATTERS: Mapping[str, type[logging.Formatter]] = {"text": TextFormatter, "json": JsonFormatter}


def configure(
    settings: LogSettings, redactor: Redactor, stream: TextIO | None = None
) -> logging.Handler:
    """Install one root handler (replacing any earlier one of ours) that redacts and formats."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_clarion", False)]:
        root.removeHandler(old)
        old.close()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._clarion = True  # type: ignore[attr-defined]
    handler.addFilter(redactor)
    handler.setFormatter(FORMATTERS[settings.format]())
    root.addHandler(handler)
    level = getattr(logging, settings.level.upper())
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(level if level == logging.DEBUG else logging.WARNING)
    return handler
