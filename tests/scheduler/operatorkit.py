"""What the tests of the operator's commands build on: the `clarion` command run in-process,
and deliveries settled in the ledger. The commands run on the real clock, so deliveries are
placed around it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from scheduler.cli import cli
from scheduler.ledger.api import Outcome
from scheduler.ledger.sql import SqlLedger
from tests.scheduler.ledgerkit import LEASE, delivery

NOW = datetime.now(UTC).replace(microsecond=0)
HOUR = timedelta(hours=1)


def clarion(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--config", str(config)])


def settle(ledger: SqlLedger, post: str, outcome: Outcome, at: datetime = NOW, **kw: Any) -> str:
    """Add a delivery due an hour ago, claim it `at`, and record `outcome`; returns its key."""
    item = delivery(post, due=NOW - HOUR, channel=f"ch-{post}", **kw)
    ledger.sync([*(r.delivery for r in ledger.rows()), item], at)
    claim = ledger.claim(item.channel, "host:9", LEASE, at)
    assert claim is not None and ledger.finish(claim, outcome, at)
    return item.key
