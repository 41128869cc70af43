"""`clarion run --exit-when-idle` and deliveries whose outcome is unknown.

It does not stop while an unknown delivery waits for a settlement the daemon makes itself
(a repeat Mastodon recognises by its idempotency key); it stops once only an operator can
settle what is left, and says how many it leaves unknown, and why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.fakes.server import Fault
from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from connectors.platforms.telegram.fake import TOKEN, TelegramFake
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
    burst,
    daemon_process,
    mastodon_channels,
    reading,
    soon,
    sqlite_url,
    telegram_channel,
    write_config,
)

pytestmark = pytest.mark.slow

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
ANSWER_LOST = Fault("hang_after", seconds=3.0, method="POST")
"""The platform makes the post, and its answer comes after the client gave up (timeout 1s)."""


def ledger_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")


@pytest.mark.parametrize("backend", BACKENDS)
def test_it_waits_for_the_repeat_that_settles_an_unknown_delivery(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = ledger_url(backend, tmp_path, request)
    fake = MastodonFake(status_limit=None)
    fake.inject(ANSWER_LOST)
    with fake:
        channels = mastodon_channels(["m"], [fake.base_url])
        channels["m"]["timeout"] = "1s"
        config = write_config(tmp_path, channels, ledger=url, listen=None)
        (tmp_path / "plans" / "idle.yaml").write_text(burst("idle", ["m"], 1, soon(3)))
        with daemon_process(config, "--exit-when-idle", token=ACCESS_TOKEN) as daemon:
            assert daemon.wait(90) == 0, daemon.text()
        assert len(fake.posts) == 1
    with reading(url) as ledger:
        (row,) = ledger.rows("idle")
        assert row.state == State.SENT
        assert any(step.to_state == State.UNKNOWN for step in ledger.history(row.key))
    waited = daemon.find(lambda line: "not stopping yet" in line["message"])
    assert waited and "1 by a repeat the platform recognises" in waited[0]["message"]
    assert not daemon.find(lambda line: "leaving" in line["message"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_it_says_how_many_it_leaves_unknown_and_why(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = ledger_url(backend, tmp_path, request)
    fake = TelegramFake()
    fake.inject(ANSWER_LOST)
    with fake:
        channel = {**telegram_channel(fake.base_url), "timeout": "1s"}
        config = write_config(tmp_path, {"tg": channel}, ledger=url, listen=None)
        (tmp_path / "plans" / "idle.yaml").write_text(burst("idle", ["tg"], 3, soon(3)))
        with daemon_process(config, "--exit-when-idle", token=TOKEN) as daemon:
            assert daemon.wait(90) == 0, daemon.text()
    with reading(url) as ledger:
        assert ledger.counts("idle")[State.UNKNOWN] == 1
    (left,) = daemon.find(lambda line: "leaving" in line["message"])
    assert left["level"] == "warning" and left["unknown"] == 1
    assert "leaving 1 delivery unknown" in left["message"]
    assert "only an operator can settle them" in left["message"]
    assert (
        "1 on tg: the platform cannot recognise a repeat, and it cannot be looked up"
        in left["message"]
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_posts_on_a_channel_held_until_restart_do_not_keep_it_running(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A channel whose secret file is missing is held until clarion restarts: its posts
    wait in the ledger, and --exit-when-idle stops once the other channels are done."""
    url = ledger_url(backend, tmp_path, request)
    fake = TelegramFake()
    with fake:
        missing = {**telegram_channel(fake.base_url), "credentials": {"bot_token": "file:nope"}}
        channels = {"tg": telegram_channel(fake.base_url), "gone": missing}
        config = write_config(tmp_path, channels, ledger=url, listen=None)
        (tmp_path / "plans" / "idle.yaml").write_text(burst("idle", ["tg", "gone"], 2, soon(3)))
        with daemon_process(config, "--exit-when-idle", token=TOKEN) as daemon:
            assert daemon.wait(90) == 0, daemon.text()
        assert len(fake.posts) == 2
    with reading(url) as ledger:
        assert ledger.counts("idle")[State.PLANNED] == 2
    assert daemon.find(lambda line: "channel gone is held" in line["message"])
    assert daemon.find(lambda line: "leaving 2 planned deliveries on held" in line["message"])


def test_a_rehearsal_of_campaign_files_with_errors_exits_1(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"tg": telegram_channel("http://127.0.0.1:9")}, listen=None)
    (tmp_path / "plans" / "idle.yaml").write_text(burst("idle", ["tg", "nope"], 1, soon(3)))
    with daemon_process(config, "--dry-run", "--exit-when-idle", token=TOKEN) as daemon:
        assert daemon.wait(90) == 1, daemon.text()
    assert daemon.find(lambda line: "had 1 error at the last load" in line["message"])
