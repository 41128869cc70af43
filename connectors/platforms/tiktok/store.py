"""What each delivery's attempts made on TikTok, kept so that a crash or a time-out never
leads to a second post.

An entry is written at the moments that matter: once TikTok has given the upload its publish
id, just before the last chunk of a video (or the request of a photo post) leaves, since that
is what makes TikTok post, and once the post is known to be out. One JSON file per channel
under the channel's state folder; entries older than 30 days are dropped.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.base import RetryLater
from connectors.statefile import read_json, write_json

log = logging.getLogger("clarion.tiktok")

KEEP = timedelta(days=30)


class PublishStore:
    def __init__(self, directory: Path | None, channel: str) -> None:
        name = re.sub(r"[^\w.-]", "_", channel)
        self.path = directory / f"tiktok-{name}.json" if directory else None
        self._entries: dict[str, dict[str, str]] = read_json(self.path) if self.path else {}

    @property
    def durable(self) -> bool:
        return self.path is not None

    def get(self, key: str) -> dict[str, str] | None:
        return self._entries.get(key)

    def put(self, key: str, **fields: str) -> None:
        """Record before the step it makes safe: a failure to write stops it (RetryLater)."""
        entry = self._entries.get(key, {}) | fields
        entry.setdefault("at", datetime.now(UTC).isoformat())
        self._entries[key] = entry
        self._save()

    def note(self, key: str, **fields: str) -> None:
        """Record what is already out: the entry on file suffices to find it again, so a
        failure to write is only logged."""
        try:
            self.put(key, **fields)
        except RetryLater as error:
            log.warning("%s", error.reason)

    def forget(self, key: str) -> None:
        if self._entries.pop(key, None) is not None:
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        horizon = (datetime.now(UTC) - KEEP).isoformat()
        self._entries = {k: v for k, v in self._entries.items() if v.get("at", "") >= horizon}
        try:
            write_json(self.path, self._entries)
        except OSError as error:
            raise RetryLater(
                f"cannot write the TikTok state file {self.path}: {error.strerror}"
            ) from None
