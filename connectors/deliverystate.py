"""What a connector made for each delivery, kept across restarts: a small JSON file per
channel under the state folder (`options.state_dir`, which config.yaml gives every channel).

A connector whose post is made in steps (a Threads container then its publication, a
YouTube upload session then its video) records each step here before taking the next, so
that after a crash or a time-out it asks the platform about what it made instead of making
it again. Without a state folder the entries live in memory: that covers a time-out, not a
restart. The file is readable only by its user (it may hold upload addresses).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.base import RetryLater
from connectors.statefile import write_json

log = logging.getLogger("clarion.deliverystate")

KEEP = timedelta(days=30)
"""How long a delivery's entry stays on record: well past any reconciliation."""


class DeliveryState:
    """Fields recorded per delivery key, for one channel."""

    def __init__(self, directory: Path | None, channel: str, platform: str, label: str) -> None:
        name = re.sub(r"[^\w.-]", "_", channel)
        self.path = directory / f"{platform}-{name}.json" if directory else None
        self.label = label
        self._entries: dict[str, dict[str, str]] = self._load()

    @property
    def durable(self) -> bool:
        return self.path is not None

    def get(self, key: str) -> dict[str, str] | None:
        return self._entries.get(key)

    def put(self, key: str, **fields: str) -> None:
        """Record, before the next step: a failure to write stops the publish (RetryLater)."""
        entry = self._entries.get(key, {}) | fields
        entry.setdefault("at", _now().isoformat())
        self._entries[key] = entry
        self._save()

    def note(self, key: str, **fields: str) -> None:
        """Record what is already public: what is on file suffices to recover it, so a
        failure to write is only logged."""
        try:
            self.put(key, **fields)
        except RetryLater as error:
            log.warning("%s", error.reason)

    def forget(self, key: str) -> None:
        if self._entries.pop(key, None) is not None:
            self._save()

    def _load(self) -> dict[str, dict[str, str]]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            entries = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ValueError(
                f"cannot read the {self.label} state file {self.path}: {error}"
            ) from None
        return entries if isinstance(entries, dict) else {}

    def _save(self) -> None:
        if self.path is None:
            return
        horizon = (_now() - KEEP).isoformat()
        self._entries = {k: v for k, v in self._entries.items() if v.get("at", "") >= horizon}
        try:
            write_json(self.path, self._entries)
        except OSError as error:
            raise RetryLater(
                f"cannot write the {self.label} state file {self.path}: {error.strerror}"
            ) from None


def _now() -> datetime:
    return datetime.now(UTC)
