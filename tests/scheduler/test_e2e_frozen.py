"""A daemon frozen mid-publish (SIGSTOP) past its lease must not post when it wakes (SIGCONT).

Two daemons share a PostgreSQL ledger (an SQLite ledger admits one daemon, whose frozen claim
nobody else can take). Daemon A is frozen after the first request of a LinkedIn publish with
an image (the upload, which makes nothing public) and before the request that creates the
post. Its lease runs out, the other daemon makes the delivery unknown, and it is settled
without A: by daemon B's own look-up (nothing found, so B posts it), or by an operator who
checks the account and runs `clarion resolve KEY --not-sent` (B posts it). Then A wakes: its
claim is gone, so its next request never leaves. Before the fix, A posted it a second time.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from campaigns import delivery as delivery_module
from connectors.fakes.server import Fault
from connectors.platforms.linkedin.fake import ORGANIZATION, TOKEN, LinkedInFake
from scheduler.ledger.api import Row, State
from tests.scheduler.daemonkit import (
    CLARION,
    FAST,
    TOKEN_ENV,
    DaemonProcess,
    daemon_process,
    instant,
    reading,
    soon,
    wait_until,
    write_config,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

FROZEN = {**FAST, "lease": "6s"}


def linkedin(base_url: str) -> dict[str, object]:
    return {
        "platform": "linkedin",
        "base_url": base_url,
        "credentials": {"access_token": "${" + TOKEN_ENV + "}"},
        "options": {"author": ORGANIZATION},
        "timeout": "3s",
    }


def write_campaign(folder: Path) -> None:
    media = folder / "plans" / "media"
    media.mkdir(parents=True)
    examples = Path(delivery_module.__file__).parent / "examples" / "media"
    shutil.copy(examples / "sayno-card.png", media / "card.png")
    campaign = {
        "campaign": "frozen",
        "title": "A frozen daemon",
        "timezone": "UTC",
        "channels": ["li"],
        "min_gap": "0s",
        "defaults": {"not_after": "10m"},
        "posts": [
            {
                "id": "card",
                "at": instant(soon(3)),
                "text": "One week to #SaferInternetDay. #SayNo",
                "link": "none",
                "media": [{"file": "media/card.png", "alt": "The #SayNo card"}],
            }
        ],
    }
    (folder / "plans" / "frozen.yaml").write_text(json.dumps(campaign))


def the_delivery(url: str) -> Row:
    with reading(url) as ledger:
        (row,) = ledger.rows("frozen")
    return row


def owner_pid(url: str) -> int | None:
    row = the_delivery(url)
    if row.state != State.CLAIMED or not row.lease_owner:
        return None
    return int(row.lease_owner.rpartition(":")[2])


def state(url: str) -> State:
    return the_delivery(url).state


class Frozen(NamedTuple):
    frozen: DaemonProcess
    """The daemon that held the claim, stopped (SIGSTOP) while its request was held."""
    other: DaemonProcess
    key: str
    config: Path


@contextmanager
def owner_frozen_mid_request(
    tmp_path: Path, pg_url: str, fake: LinkedInFake, policies: Mapping[str, Any], method: str
) -> Iterator[Frozen]:
    """Two daemons on one ledger; the one whose claim is in flight is frozen while the fake
    holds its first `method` request."""
    config = write_config(
        tmp_path, {"li": linkedin(fake.base_url)}, ledger=pg_url, policies=policies, listen=None
    )
    write_campaign(tmp_path)
    with (
        daemon_process(config, token=TOKEN) as first,
        daemon_process(config, token=TOKEN) as second,
    ):
        first.ready()
        second.ready()
        wait_until(lambda: any(r.method == method for r in fake.requests), 60, 0.01, f"a {method}")
        pid = wait_until(lambda: owner_pid(pg_url), 10, 0.01, "the claim's owner")
        key = the_delivery(pg_url).key
        frozen, other = (first, second) if first.process.pid == pid else (second, first)
        assert frozen.process.pid == pid
        frozen.signal(signal.SIGSTOP)
        yield Frozen(frozen, other, key, config)


def resolve_not_sent(config: Path, key: str) -> None:
    resolved = subprocess.run(
        [str(CLARION), "resolve", key, "--not-sent", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert resolved.returncode == 0, resolved.stderr


@pytest.mark.parametrize("settled_by", ["look-up", "operator"])
def test_a_daemon_frozen_past_its_lease_posts_nothing_when_it_wakes(
    settled_by: str, tmp_path: Path, pg_url: str
) -> None:
    policies = FROZEN if settled_by == "look-up" else {**FROZEN, "recheck_interval": "1h"}
    fake = LinkedInFake()
    # The image upload of the first attempt takes a while: the daemon is frozen meanwhile.
    fake.inject(Fault("stall", seconds=2.0, method="PUT", path="dms-uploads"))
    with fake, owner_frozen_mid_request(tmp_path, pg_url, fake, policies, "PUT") as stopped:
        frozen, key = stopped.frozen, stopped.key
        try:
            wait_until(lambda: state(pg_url) != State.CLAIMED, 60, 0.1, "the lease to end")
            if settled_by == "operator":
                assert not fake.posts  # the operator checks the account: not there
                resolve_not_sent(stopped.config, key)
            wait_until(lambda: state(pg_url) == State.SENT, 60, 0.1, "the other daemon")
            assert len(fake.posts) == 1
        finally:
            frozen.signal(signal.SIGCONT)
        lost = frozen.wait_log(
            lambda line: line.get("key") == key and "not recorded" in line["message"],
            30,
            "the woken daemon to give up its lost claim",
        )
        assert "(retry)" in lost["message"]
        assert any(
            "claim ran out before the request left" in line["message"] for line in frozen.lines()
        )
        assert frozen.stop() == 0 and stopped.other.stop() == 0
        assert stopped.other.find(lambda line: line["message"].startswith("sent"))
        assert len(fake.posts) == 1, fake.posts
    row = the_delivery(pg_url)
    assert row.state == State.SENT and row.ref is not None


def test_a_post_answered_after_the_lease_ran_out_is_recorded_not_posted_again(
    tmp_path: Path, pg_url: str
) -> None:
    """Daemon A is frozen while the platform holds its answer to the create request (the post
    is made); its lease runs out, the delivery becomes unknown, and an operator runs
    `resolve --not-sent` without checking. A wakes to the answer: the post is recorded as
    sent, and daemon B does not post it again. Before the fix, A only logged it and B posted
    a duplicate."""
    fake = LinkedInFake()
    fake.inject(Fault("stall", seconds=2.0, method="POST", path="/rest/posts$"))
    policies = {**FROZEN, "recheck_interval": "1h"}
    with fake, owner_frozen_mid_request(tmp_path, pg_url, fake, policies, "POST") as stopped:
        frozen, other, key = stopped.frozen, stopped.other, stopped.key
        try:
            wait_until(lambda: state(pg_url) == State.UNKNOWN, 60, 0.1, "the lease to end")
            other.signal(signal.SIGSTOP)  # so that A's answer comes first
            try:
                resolve_not_sent(stopped.config, key)
            finally:
                frozen.signal(signal.SIGCONT)
            wait_until(lambda: state(pg_url) == State.SENT, 60, 0.1, "A's late answer")
        finally:
            frozen.signal(signal.SIGCONT)
            other.signal(signal.SIGCONT)
        frozen.wait_log(
            lambda line: line.get("key") == key and "recorded as sent" in line["message"],
            30,
            "the woken daemon to record its post",
        )
        assert frozen.stop() == 0 and other.stop() == 0
        assert len(fake.posts) == 1, fake.posts
    row = the_delivery(pg_url)
    assert row.state == State.SENT and row.ref is not None
    with reading(pg_url) as ledger:
        reasons = [t.reason or "" for t in ledger.history(key)]
    assert any("the answer came after its claim ran out" in r for r in reasons), reasons
