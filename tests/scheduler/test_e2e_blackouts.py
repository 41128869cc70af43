"""A blackout added to a running daemon's campaign, in a save that also has a typo elsewhere:
once the reload is applied, no delivery starts inside it; what it held goes out when it ends
(or expires past its not_after), a `skip` blackout cancels what was planned inside it, and
`clarion status` and the log say which blackout holds what."""

from __future__ import annotations

import json
import signal
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
    CLARION,
    FAST,
    PostSpec,
    campaign_text,
    daemon_process,
    instant,
    mastodon_channels,
    reading,
    soon,
    sqlite_url,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow

LEAD = 25
"""Seconds from start-up to the first post held: time enough to save and reload, loaded."""


def plan(start: datetime, blackouts: list[dict[str, Any]] | None = None) -> str:
    def at(seconds: int) -> str:
        return instant(start + timedelta(seconds=seconds))

    posts = [
        PostSpec("held", at(LEAD), "held by the blackout"),
        PostSpec("tips", at(LEAD + 1), "", thread=["tip 1/2", "tip 2/2"]),
        PostSpec("brief", at(LEAD + 2), "its not_after passes inside the blackout"),
        PostSpec("skipped", at(LEAD + 3), "planned inside the skip blackout"),
    ]
    data = json.loads(campaign_text("bo", ["m0"], posts))
    data["posts"][2]["not_after"] = "4s"
    if blackouts is not None:
        data["blackouts"] = blackouts
        data["posts"].append({"id": "typo", "at": at(LEAD), "txt": "an unrelated mistake"})
    return json.dumps(data, indent=1)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_a_blackout_added_mid_run_holds_everything_inside_it(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")
    fake = MastodonFake(status_limit=None)
    start = soon(0)
    end = start + timedelta(seconds=LEAD + 10)
    with fake:
        config = write_config(tmp_path, mastodon_channels(["m0"], [fake.base_url]), ledger=url)
        campaign = tmp_path / "plans" / "bo.yaml"
        campaign.write_text(plan(start))
        with daemon_process(config, token=ACCESS_TOKEN) as daemon:
            daemon.ready()
            mark = daemon.mark()
            campaign.write_text(
                plan(
                    start,
                    [
                        {"from": instant(start), "until": instant(end), "reason": "Mourning"},
                        {
                            "from": instant(start + timedelta(seconds=LEAD + 3)),
                            "until": instant(start + timedelta(seconds=LEAD + 4)),
                            "reason": "Strike",
                            "then": "skip",
                        },
                    ],
                )
            )
            daemon.signal(signal.SIGHUP)
            in_force = daemon.wait_log(
                lambda x: x["message"].startswith("blackout in force: 'Mourning'"), after=mark
            )
            applied = datetime.fromisoformat(in_force["ts"])
            assert applied < start + timedelta(seconds=LEAD), "the reload came too late to test"
            assert "no post of campaign bo starts inside it" in in_force["message"]
            assert "the 5 deliveries planned inside wait until it ends" in in_force["message"]
            assert daemon.find(
                lambda x: "campaign bo has errors, but its blackouts" in x["message"]
            )
            assert daemon.find(lambda x: "'txt'" in x["message"] and x["level"] == "error")

            # While it holds them: status names the blackout and what it holds.
            wait_until(
                lambda: datetime.now(start.tzinfo) > start + timedelta(seconds=LEAD + 3),
                timeout=LEAD + 30,
            )
            status = subprocess.run(
                [str(CLARION), "status", "--config", str(config), "--format", "json"],
                capture_output=True,
                text=True,
                check=True,
            )
            report = json.loads(status.stdout)
            mourning = next(b for b in report["blackouts"] if b["reason"] == "Mourning")
            assert mourning["in_force"] and mourning["holds"] >= 3
            assert report["daemons"] and report["daemons"][0]["process"]
            waiting = {item["key"]: item for item in report["late"]}
            held = next(item for key, item in waiting.items() if "/held/" in key)
            assert held["waiting_kind"] == "blackout" and "Mourning" in held["waiting_for"]

            with reading(url) as ledger:
                wait_until(
                    lambda: ledger.counts()[State.SENT] == 3, timeout=LEAD + 60, what="the release"
                )
                rows = {row.post + str(row.delivery.thread_index): row for row in ledger.rows()}
                claims = [
                    step.at
                    for row in rows.values()
                    for step in ledger.history(row.key)
                    if step.to_state == State.CLAIMED
                ]
        assert claims and not [at for at in claims if applied <= at < end]
        assert all(rows[p].state == State.SENT for p in ("held0", "tips0", "tips1"))
        assert rows["tips1"].sent_utc >= rows["tips0"].sent_utc >= end  # type: ignore[operator]
        assert rows["brief0"].state == State.EXPIRED
        assert "the blackout 'Mourning'" in (rows["brief0"].last_error or "")
        assert rows["skipped0"].state == State.CANCELLED
        assert "skipped: planned inside the blackout 'Strike'" in (
            rows["skipped0"].last_error or ""
        )
        assert len(fake.posts) == 3


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_a_blackout_added_while_a_post_waits_claimed_ahead_holds_it(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A post is claimed `prepare_ahead` before its time; a blackout that a reload adds in
    between still holds it: it goes out when the blackout ends, once."""
    url = sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")
    fake = MastodonFake(status_limit=None)
    due = soon(12)
    end = due + timedelta(seconds=4)
    with fake:
        config = write_config(
            tmp_path,
            mastodon_channels(["m0"], [fake.base_url]),
            ledger=url,
            policies={**FAST, "prepare_ahead": "15s"},
        )
        campaign = tmp_path / "plans" / "bo.yaml"
        posts = [PostSpec("held", instant(due), "held by a blackout added at the last moment")]
        campaign.write_text(campaign_text("bo", ["m0"], posts))
        with daemon_process(config, token=ACCESS_TOKEN) as daemon:
            daemon.ready()
            with reading(url) as ledger:
                wait_until(
                    lambda: [r for r in ledger.rows("bo") if r.state == State.CLAIMED],
                    timeout=10,
                    what="the claim ahead of the post's time",
                )
            data = json.loads(campaign.read_text())
            window = {"from": instant(due - timedelta(seconds=1)), "until": instant(end)}
            data["blackouts"] = [{**window, "reason": "Mourning"}]
            campaign.write_text(json.dumps(data))
            daemon.signal(signal.SIGHUP)
            with reading(url) as ledger:
                wait_until(lambda: ledger.counts()[State.SENT] == 1, timeout=60, what="the post")
                (row,) = ledger.rows("bo")
                reasons = [step.reason or "" for step in ledger.history(row.key)]
            assert daemon.stop() == 0
        assert row.sent_utc is not None and row.sent_utc >= end
        assert "not sent: the blackout 'Mourning' began before its due time" in reasons
        assert len(fake.posts) == 1
