"""Sign-in back-off and the session signing key kept across restarts."""

from __future__ import annotations

import stat
from pathlib import Path

from scheduler.web.auth import BACKOFF, FAILURES, FORGET, MAX_BACKOFF, Throttle, signing_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: Throttle, times: int, name: str = "alice", address: str = "10.0.0.1") -> None:
    for _ in range(times):
        throttle.failed(name, address)


def test_a_few_failures_cost_nothing_then_the_wait_doubles() -> None:
    clock = Clock()
    throttle = Throttle(clock)
    fail(throttle, FAILURES - 1)
    assert throttle.wait("alice", "10.0.0.1") == 0
    fail(throttle, 1)
    assert throttle.wait("alice", "10.0.0.1") == BACKOFF
    fail(throttle, 1)
    assert throttle.wait("alice", "10.0.0.1") == 2 * BACKOFF
    fail(throttle, 20)
    assert throttle.wait("alice", "10.0.0.1") == MAX_BACKOFF
    clock.now += MAX_BACKOFF
    assert throttle.wait("alice", "10.0.0.1") == 0


def test_the_wait_is_per_name_and_per_address() -> None:
    throttle = Throttle(Clock())
    fail(throttle, FAILURES)
    assert throttle.wait("alice", "10.0.0.2") == BACKOFF  # the name, from elsewhere
    assert throttle.wait("bob", "10.0.0.1") == BACKOFF  # the address, another name
    assert throttle.wait("bob", "10.0.0.2") == 0


def test_a_success_or_a_quiet_spell_starts_afresh() -> None:
    clock = Clock()
    throttle = Throttle(clock)
    fail(throttle, FAILURES - 1)
    throttle.succeeded("alice", "10.0.0.1")
    fail(throttle, FAILURES - 1)
    assert throttle.wait("alice", "10.0.0.1") == 0
    clock.now += FORGET + 1
    fail(throttle, 1)
    assert throttle.wait("alice", "10.0.0.1") == 0


def test_the_signing_key_is_created_once_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "state" / "web-session.key"
    key = signing_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing_key(path) == key  # a restart signs with the same key
    path.chmod(0o644)
    assert signing_key(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["web-session.key"]
