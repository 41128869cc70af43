"""What a real `clarion` process makes of platforms' errors: a server error after the request
was sent is never taken for "not sent", and no secret that a platform echoes (in an error
body, in a redirect) reaches the ledger, `status`, `history`, `check` or the log."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connectors.fakes.server import FakePlatform
from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from connectors.platforms.telegram.fake import TelegramFake
from connectors.platforms.webhook.fake import WebhookFake
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
    CLARION,
    FAST,
    TOKEN_ENV,
    PostSpec,
    campaign_text,
    daemon_process,
    instant,
    mastodon_channels,
    reading,
    soon,
    sqlite_url,
    telegram_channel,
    wait_until,
    write_config,
)

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
RETRYING = {**FAST, "retry": {"attempts": 3, "first_delay": "1s", "max_delay": "1s"}}
"""A retry a second after a failure, three attempts: what made three copies of one post."""
KEY = "c/first/-/{channel}"


def ledger_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")


def clarion(config: Path, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {TOKEN_ENV: token} if token else {}
    return subprocess.run(
        [str(CLARION), *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=config.parent,
        env={**os.environ, **env},
    )


def state_of(url: str, key: str) -> State:
    with reading(url) as ledger:
        [row] = [row for row in ledger.rows("c") if row.key == key]
    return row.state


# -- a 5xx after the request was sent -----------------------------------------------------


@dataclass
class Platform:
    """A started fake, a channel on it, and what it has posted."""

    fake: FakePlatform
    channel: dict[str, Any]
    token: str
    create_path: str
    sent: Callable[[], list[str]]


def started(platform: str) -> Platform:
    if platform == "telegram":
        telegram = TelegramFake().start()
        return Platform(
            telegram,
            telegram_channel(telegram.base_url),
            telegram.token,
            "sendMessage",
            lambda: [str(post["text"]) for post in telegram.posts],
        )
    hooks = WebhookFake().start()
    channel = {
        "platform": "webhook",
        "credentials": {"url": "${" + TOKEN_ENV + "}"},
        "options": {"format": "slack"},
        "timeout": "5s",  # shorter than FAST's lease
    }
    return Platform(
        hooks,
        channel,
        hooks.slack_url,
        "/services/",
        lambda: [str(post["body"]["text"]) for post in hooks.posts],
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("platform", "backend"),
    [
        ("telegram", "sqlite"),
        pytest.param("telegram", "postgresql", marks=pytest.mark.postgres),
        ("slack", "sqlite"),
    ],
)
def test_a_gateway_timeout_after_the_message_went_out_is_unknown_never_repeated(
    platform: str, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The platform posted the message, its gateway answered 504: before, the delivery was
    tried again (three messages with `attempts: 3`) and finally called "failed, not posted"."""
    url = ledger_url(backend, tmp_path, request)
    on = started(platform)
    try:
        on.fake.fail_after(504, "<html>504 Gateway Time-out</html>", path=on.create_path)
        config = write_config(tmp_path, {"ch": on.channel}, ledger=url, policies=RETRYING)
        posts = [
            PostSpec("first", instant(soon(2)), "first"),
            PostSpec("second", instant(soon(5)), "second"),
        ]
        (tmp_path / "plans" / "c.yaml").write_text(campaign_text("c", ["ch"], posts))
        with daemon_process(config, token=on.token) as daemon:
            daemon.ready()
            # The second post goes out after the moment a retry of the first would have.
            wait_until(lambda: len(on.sent()) == 2, 30, what="the second post")
            assert daemon.stop() == 0, daemon.text()
        status = clarion(config, "status", "--format", "json")
    finally:
        on.fake.stop()
    assert on.sent() == ["first", "second"]
    key = KEY.format(channel="ch")
    assert state_of(url, key) == State.UNKNOWN
    with reading(url) as ledger:
        [row] = [row for row in ledger.rows("c") if row.key == key]
    assert row.last_error and "504" in row.last_error and "may have gone out" in row.last_error
    assert status.returncode == 0 and key in status.stdout


@pytest.mark.slow
def test_a_server_error_on_mastodon_is_settled_by_a_repeat_with_the_same_key(
    tmp_path: Path,
) -> None:
    """Mastodon made the status, then a gateway answered 502: the delivery is unknown, and
    the daemon settles it by sending again with the same Idempotency-Key: one status."""
    url = sqlite_url(tmp_path)
    fake = MastodonFake()
    with fake:
        fake.fail_after(502, "<html>502 Bad Gateway</html>", path="/api/v1/statuses")
        config = write_config(
            tmp_path, mastodon_channels(["m"], [fake.base_url]), ledger=url, policies=RETRYING
        )
        posts = [PostSpec("first", instant(soon(2)), "first")]
        (tmp_path / "plans" / "c.yaml").write_text(campaign_text("c", ["m"], posts))
        key = KEY.format(channel="m")
        with daemon_process(config, token=ACCESS_TOKEN) as daemon:
            daemon.ready()
            wait_until(lambda: state_of(url, key) == State.SENT, 60, what="reconciliation")
            assert daemon.stop() == 0, daemon.text()
        with reading(url) as ledger:
            states = [step.to_state for step in ledger.history(key)]
    assert len(fake.posts) == 1
    assert State.UNKNOWN in states and states[-1] == State.SENT


# -- secrets a platform echoes ------------------------------------------------------------

CANARY = "CANARY-mastodon-token-7f3a9c"


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_token_echoed_in_an_error_reaches_no_output_and_no_ledger(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = ledger_url(backend, tmp_path, request)
    fake = MastodonFake(access_token=CANARY)
    with fake:
        fake.echo_credentials = True  # every error quotes "Authorization: Bearer <token>"
        fake.respond(422, {"error": "Validation failed"}, path="/api/v1/statuses")
        config = write_config(
            tmp_path,
            mastodon_channels(["m"], [fake.base_url]),
            ledger=url,
            policies=FAST,
            level="debug",
        )
        posts = [PostSpec("first", instant(soon(2)), "first")]
        (tmp_path / "plans" / "c.yaml").write_text(campaign_text("c", ["m"], posts))
        key = KEY.format(channel="m")
        with daemon_process(config, token=CANARY) as daemon:
            daemon.ready()
            wait_until(lambda: state_of(url, key) == State.FAILED, 30, what="the refusal")
            assert daemon.stop() == 0, daemon.text()
        fake.revoke()  # `check` meets an echoed 401
        shown = [
            clarion(config, "status"),
            clarion(config, "status", "--format", "json"),
            clarion(config, "history", key),
            clarion(config, "history", key, "--format", "json"),
            clarion(config, "check", token=CANARY),
        ]
    assert "Validation failed" in shown[2].stdout and "[redacted]" in shown[2].stdout
    assert json.loads(shown[1].stdout)
    assert "[redacted]" in shown[4].stdout + shown[4].stderr
    for done in shown:
        assert CANARY not in done.stdout + done.stderr
        assert "Traceback" not in done.stderr
    assert CANARY not in daemon.text()
    if backend == "sqlite":
        for stored in (tmp_path / "state").glob("ledger.db*"):
            assert CANARY.encode() not in stored.read_bytes()


SECRET_PATH = "/services/T0CANARY/B0CANARY/CANARYsecretPath123"


@pytest.mark.slow
def test_a_redirect_naming_a_webhook_secret_path_stays_out_of_the_debug_log(
    tmp_path: Path,
) -> None:
    """httpcore logs response headers at debug level, Location included: that record passes
    the redactor too, which knows the webhook address's path as a secret of its own."""
    fake = WebhookFake()
    with fake:
        fake.respond(307, "", {"Location": f"{SECRET_PATH}?moved=1"})
        channel = {
            "platform": "webhook",
            "credentials": {"url": "${" + TOKEN_ENV + "}"},
            "options": {"format": "slack"},
            "timeout": "5s",
        }
        config = write_config(tmp_path, {"hook": channel}, policies=FAST, level="debug")
        posts = [PostSpec("first", instant(soon(2)), "first")]
        (tmp_path / "plans" / "c.yaml").write_text(campaign_text("c", ["hook"], posts))
        url = sqlite_url(tmp_path)
        key = KEY.format(channel="hook")
        with daemon_process(config, token=fake.base_url + SECRET_PATH) as daemon:
            daemon.ready()
            wait_until(lambda: state_of(url, key) == State.FAILED, 30, what="the refusal")
            assert daemon.stop() == 0, daemon.text()
    log = daemon.text()
    assert "receive_response_headers.complete" in log and "Location" in log
    assert "CANARYsecretPath123" not in log
    assert "B0CANARY" not in log


# -- base_url -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "says"),
    [
        ("https://masto.example\r\n", "a control character (U+000D)"),
        ("https://masto.example:99999", "ports go from 1 to 65535"),
        ("https://masto.example:0", "ports go from 1 to 65535"),
        ("https://clarion:CANARYpw@masto.example", "user name or password"),
        ("http://clarion:CANARYpw@127.0.0.1:8080", "user name or password"),
        ("https://masto_don.example", "not a host name"),
        ("https://masto .example", "a space"),
    ],
)
@pytest.mark.parametrize("command", ["validate", "check", "run"])
def test_a_bad_base_url_is_a_located_error_from_every_command(
    tmp_path: Path, command: str, base_url: str, says: str
) -> None:
    channels = {
        "m": {
            "platform": "mastodon",
            "base_url": base_url,
            "credentials": {"access_token": "${" + TOKEN_ENV + "}"},
        }
    }
    config = write_config(tmp_path, channels)
    done = clarion(config, command, token="token")
    assert done.returncode == 2, done.stdout + done.stderr
    assert re.search(rf"{re.escape(str(config))}:\d+:\d+: error: ", done.stderr), done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    assert "CANARYpw" not in done.stdout + done.stderr
