"""Crash safety: `kill -9` the daemon in the middle of a burst, restart it, three times.

A claim whose process died runs out of lease and becomes unknown, never planned again
blindly (docs/design.md rule 5). Where the platform honours idempotency keys (Mastodon),
reconciliation finds or safely re-posts it, so every delivery ends sent exactly once. Where it
does not (Telegram), the in-flight delivery of each kill stays unknown for an operator: nothing
is lost, nothing is posted twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from connectors.platforms.telegram.fake import TOKEN, TelegramFake
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
    FAST,
    DaemonProcess,
    burst,
    count,
    daemon_process,
    mastodon_channels,
    reading,
    soon,
    sqlite_url,
    telegram_channel,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow

KILLS = 3
CRASHY = {**FAST, "lease": "6s"}
"""A short lease (longer than the channels' 5 s timeout), so that the claims of a killed daemon
settle quickly after a restart."""


def crash_and_restart(
    config: Path, token: str, posted: Callable[[], int], step: int, done: Callable[[], bool]
) -> None:
    """Kill the daemon each time `step` more posts went out; then let one run to the end."""
    for _ in range(KILLS):
        target = posted() + step
        daemon = DaemonProcess(config, token=token)
        try:
            wait_until(lambda: posted() >= target, 60, 0.01, "posts before the kill")  # noqa: B023
        finally:
            daemon.kill()
    with daemon_process(config, token=token) as daemon:
        wait_until(done, 90, 0.2, "every delivery settled")
        assert daemon.stop() == 0, daemon.text()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_idempotent_platform_every_delivery_sent_exactly_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")
    # One fake (one account) per channel: a reconciling look-up reads the account's recent
    # posts, as on a real instance.
    fakes = [MastodonFake(latency=0.05, status_limit=None) for _ in range(8)]
    names = [f"m{i}" for i in range(len(fakes))]
    for fake in fakes:
        fake.windows["all"].limit = None
        fake.start()
    try:
        channels = mastodon_channels(names, [fake.base_url for fake in fakes])
        config = write_config(tmp_path, channels, ledger=url, policies=CRASHY, listen=None)
        (tmp_path / "plans" / "burst.yaml").write_text(burst("crash", names, 40, soon(3)))

        def posted() -> int:
            return sum(len(fake.posts) for fake in fakes)

        def done() -> bool:
            with reading(url) as ledger:
                return ledger.counts()[State.SENT] == 320

        crash_and_restart(config, ACCESS_TOKEN, posted, 50, done)
        keys = Counter(post["idempotency_key"] for fake in fakes for post in fake.posts)
    finally:
        for fake in fakes:
            fake.stop()
    assert len(keys) == 320
    assert set(keys.values()) == {1}, [k for k, n in keys.items() if n > 1]
    with reading(url) as ledger:
        assert count(ledger, State.UNKNOWN, State.PLANNED, State.CLAIMED, State.FAILED) == 0
        # The kills caught publishes in flight, and reconciliation settled every one of them.
        history = [step for key in ledger.keys("crash") for step in ledger.history(key)]
        assert any(step.to_state == State.UNKNOWN for step in history)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_platform_without_idempotency_nothing_lost_nothing_twice(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")
    fake = TelegramFake(latency=0.02)  # most of the time is spent mid-publish
    with fake:
        config = write_config(
            tmp_path,
            {"tg": telegram_channel(fake.base_url)},
            ledger=url,
            policies=CRASHY,
            listen=None,
        )
        (tmp_path / "plans" / "burst.yaml").write_text(burst("crash", ["tg"], 300, soon(3)))

        def done() -> bool:
            with reading(url) as ledger:
                return count(ledger, State.SENT, State.UNKNOWN) == 300

        crash_and_restart(config, TOKEN, lambda: len(fake.posts), 60, done)
        texts = Counter(str(post.get("text")) for post in list(fake.posts))
    assert max(texts.values()) == 1, "a post went out twice"
    with reading(url) as ledger:
        sent = ledger.rows(states=[State.SENT])
        unknown = ledger.rows(states=[State.UNKNOWN])
    assert len(sent) + len(unknown) == 300
    assert 1 <= len(unknown) <= KILLS  # the publish in flight at a kill, at most one each
    assert all(row.delivery.text in texts for row in sent)
    for row in unknown:
        assert texts[row.delivery.text] <= 1
        assert row.last_error  # the reason is there for the operator
