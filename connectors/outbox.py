"""The dry-run connector: every post is appended to a JSON-lines file instead of a platform."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from campaigns.platforms import PLATFORMS
from connectors.base import (
    Capabilities,
    ChannelAccess,
    CheckReport,
    Connector,
    PlatformRef,
    Post,
    Published,
)

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


class OutboxConnector(Connector):
    """Stands in for a channel of any platform; the file is shared by all channels."""

    platform: ClassVar[str] = "outbox"
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORMS["webhook"], idempotency="lookup", lookup=True
    )

    def __init__(self, config: ChannelAccess, path: Path) -> None:
        super().__init__(config)
        self.path = path.resolve()
        self.rules = PLATFORMS.get(config.platform, PLATFORMS["webhook"])

    def _ref(self, post: Post) -> PlatformRef:
        ident = post.idempotency_key[:16]
        return PlatformRef(ident, f"{self.path.as_uri()}#{ident}")

    def publish(self, post: Post) -> Published:
        record = {
            "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "channel": self.config.name,
            "platform": self.config.platform,
            "key": post.key,
            "due": post.due.isoformat().replace("+00:00", "Z"),
            "language": post.language,
            "text": post.text,
            "link": post.link,
            "media": [{"file": str(m.path), "alt": m.alt} for m in post.media],
            "reply_to": post.reply_to.id if post.reply_to else None,
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _lock_for(self.path), self.path.open("a", encoding="utf-8") as out:
            out.write(line)
            out.flush()
            os.fsync(out.fileno())
        return Published(self._ref(post))

    def lookup(self, post: Post) -> PlatformRef | None:
        if not self.path.exists():
            return None
        with _lock_for(self.path), self.path.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash was never a complete post
                if record.get("key") == post.key and record.get("channel") == self.config.name:
                    return self._ref(post)
        return None

    def check(self) -> CheckReport:
        return CheckReport(
            ok=True,
            account=f"dry run to {self.path}",
            limits={"max_length": self.rules.max_length},
        )
