"""What the daemon's tests share: config and campaign files, a real `clarion run` process
whose JSON log the test reads, and an in-process daemon for what needs no process.

Config files are written as JSON, which is YAML too.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from scheduler.config import load_config
from scheduler.daemon import Daemon, RunOptions
from scheduler.ledger import SqlLedger, open_ledger
from scheduler.ledger.api import State
from scheduler.logs import Redactor

CLARION = Path(sys.executable).parent / "clarion"
TOKEN_ENV = "CLARION_TEST_TOKEN"

FAST = {
    "sweep_interval": "500ms",
    "recheck_interval": "1s",
    "reconcile_after": "1s",
    "lease": "20s",
    "shutdown_grace": "10s",
    "horizon": "1h",
    "not_after": "10m",
    "alert_lateness": "30s",
}
"""Policies that make a daemon react within a second or so, for tests."""

T = TypeVar("T")


def wait_until(
    check: Callable[[], T | None], timeout: float = 30.0, every: float = 0.1, what: str = ""
) -> T:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check}")
        time.sleep(every)


def instant(moment: datetime) -> str:
    """A fixed instant as a campaign file writes it (UTC, to the second)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def soon(seconds: float) -> datetime:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)


@dataclass(frozen=True)
class PostSpec:
    id: str
    at: str
    text: str
    channels: Sequence[str] | None = None
    thread: Sequence[str] | None = None


def campaign_text(
    campaign: str,
    channels: Sequence[str],
    posts: Sequence[PostSpec],
    *,
    timezone: str = "Europe/Brussels",
    not_after: str = "10m",
) -> str:
    data: dict[str, Any] = {
        "campaign": campaign,
        "title": f"Test campaign {campaign}",
        "timezone": timezone,
        "channels": list(channels),
        "min_gap": "0s",
        "defaults": {"not_after": not_after},
        "posts": [],
    }
    for post in posts:
        item: dict[str, Any] = {"id": post.id, "at": post.at, "link": "none"}
        if post.thread:
            item["thread"] = list(post.thread)
        else:
            item["text"] = post.text
        if post.channels is not None:
            item["channels"] = list(post.channels)
        data["posts"].append(item)
    return json.dumps(data, indent=1, ensure_ascii=False)


def burst(campaign: str, channels: Sequence[str], per_channel: int, at: datetime) -> str:
    """`per_channel` posts on every channel, all due at the same instant."""
    posts = [PostSpec(f"p{i:04d}", instant(at), f"{campaign} post {i}") for i in range(per_channel)]
    return campaign_text(campaign, channels, posts)


def mastodon_channels(names: Sequence[str], base_urls: Sequence[str]) -> dict[str, Any]:
    """Channels on Mastodon fakes (names[i] on base_urls[i % len]), the token from the env."""
    return {
        name: {
            "platform": "mastodon",
            "base_url": base_urls[i % len(base_urls)],
            "credentials": {"access_token": "${" + TOKEN_ENV + "}"},
            "timeout": "5s",
        }
        for i, name in enumerate(names)
    }


def telegram_channel(base_url: str, chat_id: str = "@clarion_test") -> dict[str, Any]:
    return {
        "platform": "telegram",
        "base_url": base_url,
        "credentials": {"bot_token": "${" + TOKEN_ENV + "}"},
        "options": {"chat_id": chat_id},
        "timeout": "5s",
    }


def write_config(
    folder: Path,
    channels: Mapping[str, Any],
    *,
    ledger: str | None = None,
    policies: Mapping[str, Any] = FAST,
    campaigns: Sequence[str] = ("plans",),
    listen: str | None = "127.0.0.1:0",
    level: str = "info",
) -> Path:
    (folder / "plans").mkdir(exist_ok=True)
    data: dict[str, Any] = {
        "campaigns": list(campaigns),
        "state_dir": "state",
        "channels": dict(channels),
        "policies": dict(policies),
        "server": {"listen": listen},
        "log": {"format": "json", "level": level},
    }
    if ledger:
        data["ledger"] = ledger
    path = folder / "config.yaml"
    path.write_text(json.dumps(data, indent=1))
    return path


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'state' / 'ledger.db'}"


@contextmanager
def reading(url: str) -> Iterator[SqlLedger]:
    """The ledger, opened beside the daemon (as `clarion status` does)."""
    ledger = open_ledger(url, process="test:reader")
    try:
        yield ledger
    finally:
        ledger.close()


def count(ledger: SqlLedger, *states: State) -> int:
    counts = ledger.counts()
    return sum(counts.get(state, 0) for state in states)


class DaemonProcess:
    """`clarion run` in a child process; its JSON log goes to a file the test reads."""

    def __init__(
        self,
        config: Path,
        *args: str,
        token: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.folder = config.parent
        self.log_path = self.folder / f"daemon-{time.monotonic_ns()}.log"
        self.out_path = self.log_path.with_suffix(".out")
        environ = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        if token is not None:
            environ[TOKEN_ENV] = token
        with self.log_path.open("wb") as err, self.out_path.open("wb") as out:
            self.process = subprocess.Popen(
                [str(CLARION), "run", "--config", str(config), *args],
                cwd=self.folder,
                stdout=out,
                stderr=err,
                env=environ,
            )

    def text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def lines(self) -> list[dict[str, Any]]:
        found = []
        for line in self.text().splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                continue  # a line being written, or a traceback: tests look at the text
        return found

    def find(
        self, predicate: Callable[[dict[str, Any]], bool], after: int = 0
    ) -> list[dict[str, Any]]:
        return [line for line in self.lines()[after:] if predicate(line)]

    def mark(self) -> int:
        """Where the log stands now: pass it as `after` to look only at what follows."""
        return len(self.lines())

    def wait_log(
        self,
        predicate: Callable[[dict[str, Any]], bool],
        timeout: float = 30.0,
        what: str = "",
        after: int = 0,
    ) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the daemon exited ({self.process.returncode}):\n{self.text()}"
                )
            hits = self.find(predicate, after)
            return hits[0] if hits else None

        return wait_until(found, timeout, what=what or "a log line")

    def ready(self, timeout: float = 30.0) -> str | None:
        """Wait for 'clarion is running'; returns the health URL if the endpoint is on."""
        line = self.wait_log(
            lambda x: x["message"].startswith("clarion is running"), timeout, "start-up"
        )
        return line.get("health_url")

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def wait(self, timeout: float = 30.0) -> int:
        return self.process.wait(timeout)

    def stop(self, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
        return self.wait(timeout)


@contextmanager
def daemon_process(config: Path, *args: str, **kw: Any) -> Iterator[DaemonProcess]:
    daemon = DaemonProcess(config, *args, **kw)
    try:
        yield daemon
    finally:
        if daemon.process.poll() is None:
            daemon.kill()


@contextmanager
def daemon_in_process(
    config_path: Path, options: RunOptions | None = None
) -> Iterator[tuple[Daemon, threading.Thread]]:
    """The daemon in this process, its supervisor loop in a thread (no signal handlers)."""
    with Daemon(load_config(config_path), options or RunOptions(), Redactor()) as daemon:
        daemon.start()
        result: list[int] = []
        thread = threading.Thread(target=lambda: result.append(daemon.run()), name="supervisor")
        thread.start()
        try:
            yield daemon, thread
        finally:
            daemon.requests.stop("end of test")
            thread.join(30)


def free_port(repo: Path) -> None:
    """The health endpoint of a repository made by `clarion init` on any free port: tests run
    beside other daemons on 9480."""
    config = repo / "config.yaml"
    text = config.read_text()
    assert "listen: 127.0.0.1:9480" in text
    config.write_text(text.replace("listen: 127.0.0.1:9480", "listen: 127.0.0.1:0"))
