"""Issue 7 point 19: two daemons whose config.yaml names the same plans by different paths
(relative and absolute, through symbolic links and hard links) agree that nothing changed,
instead of re-marking every row "changed in the plan" at each load."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from tests.scheduler.daemonkit import (
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


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_daemons_naming_the_plans_by_different_paths_see_no_change(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")
    later = instant(soon(3600))
    plans = tmp_path / "plans"
    plans.mkdir()
    for name in ("c1", "c2"):
        posts = [PostSpec(f"{name}-{i}", later, f"{name} post {i}") for i in range(3)]
        (plans / f"{name}.yaml").write_text(campaign_text(name, ["m0"], posts))
    deploy = tmp_path / "deploy"  # what a deploy tool might make: links to the real files
    deploy.mkdir()
    (deploy / "c1.yaml").symlink_to(plans / "c1.yaml")
    os.link(plans / "c2.yaml", deploy / "c2.yaml")
    fake = MastodonFake(status_limit=None)
    with fake:
        channels = mastodon_channels(["m0"], [fake.base_url])
        configs = []
        for folder, campaigns in (("a", "../plans"), ("b", str(deploy))):
            (tmp_path / folder).mkdir()
            configs.append(
                write_config(tmp_path / folder, channels, ledger=url, campaigns=[campaigns])
            )
        loads = []
        for config in (*configs, *configs):
            with daemon_process(config, token=ACCESS_TOKEN) as daemon:
                daemon.ready()
                loaded = daemon.wait_log(lambda x: x["message"].startswith("plans loaded ("))
                loads.append(loaded["message"])
                assert daemon.stop() == 0
    assert "6 added" in loads[0]
    for message in loads[1:]:
        assert "0 added, 0 updated, 0 cancelled" in message and "6 unchanged" in message
    with reading(url) as ledger:
        rows = ledger.rows()
        assert len(rows) == 6
        for row in rows:
            assert [step.reason for step in ledger.history(row.key)][1:] == []
        c1 = next(row for row in rows if row.campaign == "c1")
        assert c1.delivery.source.startswith(f"{plans / 'c1.yaml'}:")  # the real path
