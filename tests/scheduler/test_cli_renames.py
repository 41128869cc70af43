"""`clarion validate` reads the ledger to warn of a post renamed after it went out (issue 7
point 3), only for the plan the daemon loads, and never creates or changes a ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from campaigns.loader import LoadOptions, load_plan
from scheduler.cli import cli
from scheduler.config import load_config
from scheduler.ledger import open_ledger
from scheduler.ledger.api import Sent
from tests.scheduler.daemonkit import PostSpec, campaign_text, instant
from tests.scheduler.ledgerkit import LEASE, ref

NOW = datetime.now(UTC).replace(microsecond=0)


def write(tmp_path: Path, ledger_url: str, posts: list[PostSpec]) -> Path:
    config = tmp_path / "config.yaml"
    channel = {
        "platform": "mastodon",
        "base_url": "https://mastodon.example",
        "credentials": {"access_token": "${UNUSED_TOKEN}"},
    }
    data = {"campaigns": ["plans"], "ledger": ledger_url, "channels": {"m0": channel}}
    config.write_text(json.dumps(data))
    (tmp_path / "plans").mkdir(exist_ok=True)
    (tmp_path / "plans" / "c.yaml").write_text(campaign_text("c", ["m0"], posts))
    return config


def validate(config: Path, *paths: Path) -> Result:
    return CliRunner().invoke(cli, ["validate", *map(str, paths), "--config", str(config)])


def send_everything(config: Path, ledger_url: str) -> None:
    """Load the plan as the daemon does, and record each delivery as sent."""
    loaded = load_config(config)
    options = LoadOptions(loaded.known_channels(), strict_channels=True, now=NOW)
    plan = load_plan(loaded.campaign_paths, options)
    ledger = open_ledger(ledger_url, process="test:1")
    try:
        ledger.sync(plan.deliveries, NOW)
        for n, item in enumerate(plan.deliveries):
            claim = ledger.claim(item.channel, "test", LEASE, NOW)
            assert claim is not None and ledger.finish(claim, Sent(ref(n)), NOW)
    finally:
        ledger.close()


def test_validate_warns_of_a_post_renamed_after_it_went_out(
    tmp_path: Path, ledger_url: str
) -> None:
    due = instant(NOW - timedelta(minutes=1))
    config = write(tmp_path, ledger_url, [PostSpec("a", due, "words"), PostSpec("b", due, "b")])
    send_everything(config, ledger_url)
    write(tmp_path, ledger_url, [PostSpec("a2", due, "words"), PostSpec("b", due, "b")])
    result = validate(config)
    assert result.exit_code == 0, result.output
    warning = next(line for line in result.output.splitlines() if "'a2'" in line)
    assert warning.endswith(
        "warning: post 'a2' went out (or may have) under another key before it was renamed "
        "(c/a/-/m0 is now c/a2/-/m0): the daemon records it under its new key and does not "
        "post it again"
    )
    assert result.output.count("went out (or may have)") == 1  # b kept its key
    copy = tmp_path / "copy.yaml"  # another plan than the daemon's: not compared
    copy.write_text((tmp_path / "plans" / "c.yaml").read_text())
    assert "went out (or may have)" not in validate(config, copy).output
    assert "went out (or may have)" in validate(config, tmp_path / "plans").output


def test_validate_creates_no_ledger(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/state/ledger.db"
    config = write(tmp_path, url, [PostSpec("a", instant(NOW + timedelta(hours=1)), "words")])
    result = validate(config)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize("paths", [(), ("plans",)])
def test_without_a_ledger_validate_says_nothing_of_renames(
    tmp_path: Path, paths: tuple[str, ...]
) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # nothing listens there
    config = write(tmp_path, url, [PostSpec("a", instant(NOW + timedelta(hours=1)), "words")])
    result = validate(config, *(tmp_path / p for p in paths))
    assert result.exit_code == 0, result.output
    assert "0 warnings" in result.output
