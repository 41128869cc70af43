"""Local time becomes UTC once, at load; the daemon never uses the host's zone
(docs/design.md rule 2).

A campaign across the spring-forward and autumn weekends of 2027 in Europe/Brussels and
Europe/Helsinki: the alarms the daemon sets, and the ledger's due instants, are exactly the
instants `clarion preview --format json` shows, with the host's zone set to something odd.
A short campaign then runs end to end with TZ=America/New_York and posts on Helsinki time.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
    CLARION,
    FAST,
    TOKEN_ENV,
    daemon_in_process,
    daemon_process,
    mastodon_channels,
    reading,
    soon,
    sqlite_url,
    wait_until,
    write_config,
)

DST_CAMPAIGN = """\
campaign: dst
title: Posts across the daylight-saving weekends of 2027
timezone: Europe/Brussels
channels: [mastodon-main]
languages: [en]
audiences:
  - {name: be, language: en, timezone: Europe/Brussels}
  - {name: fi, language: en, timezone: Europe/Helsinki}
defaults: {not_after: 2h}
posts:
  - id: spring-gap
    at: 2027-03-28 02:30          # does not exist in Brussels: moves forward by the gap
    text: In the spring-forward gap in Brussels
  - id: spring-gap-helsinki
    at: 2027-03-28 03:30          # does not exist in Helsinki
    text: In the spring-forward gap in Helsinki
  - id: autumn-fold
    at: 2027-10-31 02:30          # happens twice in Brussels: the first one
    text: Twice on the clock in Brussels
  - id: autumn-fold-helsinki
    at: 2027-10-31 03:30          # happens twice in Helsinki
    text: Twice on the clock in Helsinki
  - id: daily-spring
    every: {cron: "30 2 * * *", from: 2027-03-26, until: 2027-03-30}
    text: Every day at half past two
  - id: daily-autumn
    every: {cron: "30 3 * * *", from: 2027-10-29, until: 2027-11-02}
    text: Every day at half past three
"""


@pytest.fixture
def odd_host_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's local zone is Chatham (UTC+12:45, DST on the other side of the year)."""
    monkeypatch.setenv("TZ", "Pacific/Chatham")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def preview_instants(config: Path) -> dict[str, datetime]:
    done = subprocess.run(
        [str(CLARION), "preview", "--config", str(config), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"TZ": "Asia/Kathmandu", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return {d["key"]: datetime.fromisoformat(d["due_utc"]) for d in json.loads(done.stdout)}


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_alarms_and_ledger_match_the_preview_across_dst(
    backend: str,
    tmp_path: Path,
    odd_host_zone: None,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    url = sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")
    monkeypatch.setenv(TOKEN_ENV, ACCESS_TOKEN)
    with MastodonFake() as fake:
        channels = mastodon_channels(["mastodon-main"], [fake.base_url])
        policies = {**FAST, "horizon": "500d"}  # every 2027 delivery gets its alarm now
        config = write_config(tmp_path, channels, ledger=url, policies=policies, listen=None)
        (tmp_path / "plans" / "dst.yaml").write_text(DST_CAMPAIGN)
        preview = preview_instants(config)
        assert len(preview) == 28
        with daemon_in_process(config) as (daemon, _):
            wait_until(lambda: daemon.alarms.armed == len(preview), 30, what="the alarms")
            early = daemon.policies.prepare_ahead  # an alarm rings that long before its post
            jobs = {
                job.id: job.next_run_time + early
                for job in daemon.alarms.scheduler.get_jobs()
                if not job.id.startswith("@")
            }
            ledger = {row.key: row.due_utc for row in daemon.ledger.rows("dst")}
    assert jobs == preview
    assert ledger == preview
    assert all(when.utcoffset() == timedelta(0) for when in jobs.values())


def test_a_campaign_posts_on_its_own_zones_time_whatever_the_hosts(tmp_path: Path) -> None:
    helsinki = ZoneInfo("Europe/Helsinki")
    due = soon(5)
    wall = due.astimezone(helsinki).strftime("%Y-%m-%d %H:%M:%S")  # no zone: the campaign's
    campaign = {
        "campaign": "tz",
        "title": "Helsinki time",
        "timezone": "Europe/Helsinki",
        "channels": ["m0"],
        "posts": [{"id": "now", "at": wall, "text": "On Helsinki time", "link": "none"}],
    }
    fake = MastodonFake()
    with fake:
        url = sqlite_url(tmp_path)
        config = write_config(tmp_path, mastodon_channels(["m0"], [fake.base_url]), listen=None)
        (tmp_path / "plans" / "tz.yaml").write_text(json.dumps(campaign))
        env = {"TZ": "America/New_York"}
        with daemon_process(config, "--exit-when-idle", token=ACCESS_TOKEN, env=env) as daemon:
            assert daemon.wait(60) == 0, daemon.text()
        [post] = fake.posts
    with reading(url) as ledger:
        [row] = ledger.rows("tz")
    assert row.state == State.SENT and row.due_utc == due
    assert due <= post["created_at"] < due + timedelta(seconds=5)
