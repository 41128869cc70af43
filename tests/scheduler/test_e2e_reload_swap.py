"""Live reload follows what config.yaml names, however it is replaced (issue 7, point 5).

Deploy tools and people replace a campaign folder whole: a copy renamed over it, a symbolic
link pointed at a new release. The daemon then watches the new folder (a post deleted there
is cancelled, later edits are seen) and says so when the folder is gone.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
    DaemonProcess,
    PostSpec,
    campaign_text,
    daemon_process,
    instant,
    mastodon_channels,
    reading,
    soon,
    sqlite_url,
    write_config,
)

pytestmark = pytest.mark.slow


def plan(*names: str) -> str:
    at = instant(soon(3600))
    return campaign_text("sw", ["m0"], [PostSpec(name, at, f"{name} text") for name in names])


def loaded(line: dict[str, Any]) -> bool:
    return str(line["message"]).startswith("plans loaded (")


@pytest.fixture
def fake() -> Iterator[MastodonFake]:
    with MastodonFake(status_limit=None) as running:
        yield running


def configure(tmp_path: Path, fake: MastodonFake, campaigns: str) -> Path:
    return write_config(tmp_path, mastodon_channels(["m0"], [fake.base_url]), campaigns=[campaigns])


def states(tmp_path: Path) -> dict[str, State]:
    with reading(sqlite_url(tmp_path)) as ledger:
        return {row.post: row.state for row in ledger.rows("sw")}


def edit_and_see(daemon: DaemonProcess, file: Path, *names: str) -> dict[str, Any]:
    mark = daemon.mark()
    file.write_text(plan(*names))
    return daemon.wait_log(loaded, what="a reload after the edit", after=mark)


def test_a_folder_replaced_by_a_copy_is_watched(tmp_path: Path, fake: MastodonFake) -> None:
    config = configure(tmp_path, fake, "plans")
    plans = tmp_path / "plans"
    (plans / "sw.yaml").write_text(plan("keep", "doomed"))
    with daemon_process(config, token=ACCESS_TOKEN) as daemon:
        daemon.ready()
        # cp -r plans plans.new; mv plans plans.old; mv plans.new plans
        shutil.copytree(plans, tmp_path / "plans.new")
        plans.rename(tmp_path / "plans.old")
        (tmp_path / "plans.new").rename(plans)
        reloaded = edit_and_see(daemon, plans / "sw.yaml", "keep")
        assert "1 cancelled" in reloaded["message"], reloaded
        assert states(tmp_path) == {"keep": State.PLANNED, "doomed": State.CANCELLED}
        # Later edits are seen too, without SIGHUP.
        reloaded = edit_and_see(daemon, plans / "sw.yaml", "keep", "added")
        assert "1 added" in reloaded["message"], reloaded
        assert daemon.stop() == 0


def test_a_symbolic_link_pointed_at_a_new_release_is_watched(
    tmp_path: Path, fake: MastodonFake
) -> None:
    config = configure(tmp_path, fake, "current")
    releases = tmp_path / "releases"
    (releases / "r1").mkdir(parents=True)
    (releases / "r1" / "sw.yaml").write_text(plan("keep", "doomed"))
    (tmp_path / "current").symlink_to(releases / "r1")
    with daemon_process(config, token=ACCESS_TOKEN) as daemon:
        daemon.ready()
        # A release as deploy tools make it: a new folder, then the link swapped atomically.
        (releases / "r2").mkdir()
        (releases / "r2" / "sw.yaml").write_text(plan("keep"))
        mark = daemon.mark()
        (tmp_path / "current.new").symlink_to(releases / "r2")
        os.replace(tmp_path / "current.new", tmp_path / "current")
        reloaded = daemon.wait_log(loaded, what="a reload after the release", after=mark)
        assert "1 cancelled" in reloaded["message"], reloaded
        assert states(tmp_path) == {"keep": State.PLANNED, "doomed": State.CANCELLED}
        reloaded = edit_and_see(daemon, releases / "r2" / "sw.yaml", "keep", "added")
        assert "1 added" in reloaded["message"], reloaded
        # The old release is no longer watched.
        mark = daemon.mark()
        (releases / "r1" / "sw.yaml").write_text(plan("old"))
        edit_and_see(daemon, releases / "r2" / "sw.yaml", "keep", "added", "more")
        assert not [line for line in daemon.find(loaded, mark) if "1 cancelled" in line["message"]]
        assert daemon.stop() == 0


def test_a_folder_moved_away_is_an_error_and_its_return_is_seen(
    tmp_path: Path, fake: MastodonFake
) -> None:
    config = configure(tmp_path, fake, "plans")
    plans = tmp_path / "plans"
    (plans / "sw.yaml").write_text(plan("keep"))
    with daemon_process(config, token=ACCESS_TOKEN) as daemon:
        daemon.ready()
        mark = daemon.mark()
        plans.rename(tmp_path / "plans.old")
        error = daemon.wait_log(lambda x: x["level"] == "error", after=mark)
        assert error["message"].startswith(f"{config}:")
        assert f"campaign folder or file not found: {plans}" in error["message"]
        assert states(tmp_path) == {"keep": State.PLANNED}  # nothing cancelled
        mark = daemon.mark()
        (tmp_path / "plans.old").rename(plans)
        daemon.wait_log(loaded, what="a reload once the folder is back", after=mark)
        reloaded = edit_and_see(daemon, plans / "sw.yaml", "keep", "added")
        assert "1 added" in reloaded["message"], reloaded
        assert daemon.stop() == 0
