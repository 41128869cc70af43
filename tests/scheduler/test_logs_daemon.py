"""A canary secret never reaches a real daemon's output, at debug level, through success,
failure and held-channel paths: Telegram carries its bot token in every URL."""

from __future__ import annotations

from pathlib import Path

from connectors.platforms.telegram.fake import TelegramFake
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
    FAST,
    PostSpec,
    campaign_text,
    daemon_process,
    instant,
    reading,
    soon,
    sqlite_url,
    telegram_channel,
    wait_until,
    write_config,
)

CANARY = "424242424:CANARYtokenNeverInLogs-xyz"
FILE_CANARY = "CANARYfileSecret-0987"


def test_no_secret_in_the_daemon_log_at_debug_level(tmp_path: Path) -> None:
    fake = TelegramFake(token=CANARY)
    with fake:
        channels = {
            "tg": telegram_channel(fake.base_url),
            "refused": {  # a closed port: every publish fails before sending
                **telegram_channel("http://127.0.0.1:9"),
                "credentials": {"bot_token": "file:secret.txt"},
            },
        }
        (tmp_path / "secret.txt").write_text(FILE_CANARY + "\n")
        config = write_config(tmp_path, channels, policies=FAST, level="debug")
        posts = [
            PostSpec("first", instant(soon(2)), "first", channels=["tg", "refused"]),
            PostSpec("second", instant(soon(4)), "second", channels=["tg"]),
        ]
        (tmp_path / "plans" / "c.yaml").write_text(campaign_text("c", ["tg", "refused"], posts))
        with daemon_process(config, token=CANARY) as daemon:
            daemon.ready()
            wait_until(lambda: len(fake.posts) == 1, 20, what="the first post")
            fake.revoke()  # the next publish meets 401: the channel is held
            daemon.wait_log(lambda x: x["message"].startswith("channel tg held"), 20)
            daemon.wait_log(lambda x: x["message"].startswith("not sent, tries again"), 20)
            assert daemon.stop() == 0
        text = daemon.text() + daemon.out_path.read_text()
    assert "HTTP Request: POST" in text  # httpx logged every URL
    assert CANARY not in text and "CANARYtoken" not in text
    assert FILE_CANARY not in text and "CANARYfile" not in text
    with reading(sqlite_url(tmp_path)) as ledger:
        assert "tg" in ledger.held_channels()
        states = {(row.post, row.channel): row.state for row in ledger.rows("c")}
    assert states[("second", "tg")] == State.PLANNED  # held, not lost
