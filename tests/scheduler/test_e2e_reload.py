"""Reloading a running daemon, by SIGHUP and by saving a campaign file (docs/design.md
rules 3 and 7).

An edit to a planned post updates it; an edit to a post already sent is reported, never
re-posted; a post removed while planned is cancelled; an invalid edit keeps the last good
plan running (a post due afterwards still goes out) and logs the errors with their place.
"""

from __future__ import annotations

import json
import signal
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
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


def plan(posts: dict[str, tuple[datetime, str]]) -> str:
    return campaign_text(
        "rl", ["m0"], [PostSpec(name, instant(at), text) for name, (at, text) in posts.items()]
    )


def loaded(reason: str) -> Any:
    return lambda line: line["message"].startswith("plans loaded (") and reason in line["message"]


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_reload_by_sighup_and_by_file_change(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")
    fake = MastodonFake(status_limit=None)
    later = soon(3600)
    posts = {
        "early": (soon(3), "early v1"),
        "later": (later, "later v1"),
        "gone": (later, "gone v1"),
    }
    with fake:
        config = write_config(tmp_path, mastodon_channels(["m0"], [fake.base_url]), ledger=url)
        campaign = tmp_path / "plans" / "rl.yaml"
        campaign.write_text(plan(posts))
        with daemon_process(config, token=ACCESS_TOKEN) as daemon:
            daemon.ready()
            wait_until(lambda: len(fake.posts) == 1, 30, what="the early post")
            with reading(url) as ledger:
                keys = {row.post: row.key for row in ledger.rows("rl")}

            # Edits: a sent post's text, a planned post's text, a removal, a post due soon.
            posts["early"] = (posts["early"][0], "early v2")
            posts["later"] = (later, "later v2")
            del posts["gone"]
            posts["soon"] = (soon(6), "soon v1")
            mark = daemon.mark()
            campaign.write_text(plan(posts))
            daemon.signal(signal.SIGHUP)
            daemon.wait_log(loaded("SIGHUP"), what="the SIGHUP reload", after=mark)
            edited = daemon.wait_log(lambda x: x["message"].startswith("edited after"))
            assert edited["key"] == keys["early"] and edited["channel"] == "m0"
            cancelled = daemon.wait_log(lambda x: x["message"].startswith("cancelled"))
            assert cancelled["key"] == keys["gone"]
            with reading(url) as ledger:
                rows = {row.post: row for row in ledger.rows("rl")}
            assert rows["later"].state == State.PLANNED
            assert rows["later"].delivery.text == "later v2"
            assert rows["gone"].state == State.CANCELLED
            assert rows["early"].state == State.SENT

            # An invalid edit: the errors are logged where they are, the last good plan runs.
            broken = json.loads(plan(posts))
            broken["posts"][0]["at"] = "2027-13-45 25:00"
            mark = daemon.mark()
            campaign.write_text(json.dumps(broken, indent=1))
            daemon.signal(signal.SIGHUP)
            error = daemon.wait_log(lambda x: x["level"] == "error", after=mark)
            assert error["message"].startswith(f"{campaign}:15:")  # file:line:col: error: ...
            daemon.wait_log(lambda x: x["message"].startswith("campaign rl has errors"), after=mark)
            wait_until(lambda: len(fake.posts) == 2, 30, what="the post of the last good plan")
            assert fake.posts[-1]["text"] == "soon v1"
            with reading(url) as ledger:
                assert ledger.get(keys["later"]).state == State.PLANNED  # type: ignore[union-attr]

            # Saving the file again, mended and with one more post: the watcher reloads it.
            posts["added"] = (later, "added v1")
            mark = daemon.mark()
            campaign.write_text(plan(posts))
            reloaded = daemon.wait_log(loaded("changed: rl.yaml"), what="the watcher", after=mark)
            assert "1 added" in reloaded["message"]
            with reading(url) as ledger:
                assert {row.post for row in ledger.rows("rl", [State.PLANNED])} == {
                    "later",
                    "added",
                }
            assert daemon.stop() == 0
        assert [p["text"] for p in fake.posts] == ["early v1", "soon v1"]  # nothing re-posted
