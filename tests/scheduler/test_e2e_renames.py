"""Issue 7 point 3, through the installed command: renaming a campaign (and a post) after its
posts went out re-posts nothing. `clarion validate` warns beforehand, the daemon logs each
one and records it as sent, `clarion status` lists it, and only `clarion retry --force` posts
one again."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from scheduler.ledger.api import State
from tests.scheduler.daemonkit import (
    CLARION,
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


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLARION), *args, "--config", str(config)], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_renaming_a_campaign_after_its_posts_went_out_posts_nothing_twice(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")
    fake = MastodonFake(status_limit=None)
    early = instant(soon(2))
    posts = [PostSpec("a", early, "first words"), PostSpec("b", early, "second words")]
    with fake:
        config = write_config(tmp_path, mastodon_channels(["m0"], [fake.base_url]), ledger=url)
        campaign = tmp_path / "plans" / "rn.yaml"
        campaign.write_text(campaign_text("rn", ["m0"], posts))
        with daemon_process(config, token=ACCESS_TOKEN) as daemon:
            daemon.ready()
            wait_until(lambda: len(fake.posts) == 2, 30, what="the first two posts")
            assert daemon.stop() == 0

        # The campaign id changes, post b is renamed too, and a post is added: due in 3 s.
        renamed = [posts[0], PostSpec("b-renamed", early, "second words")]
        renamed.append(PostSpec("c", instant(soon(3)), "third words"))
        campaign.write_text(campaign_text("rn-2027", ["m0"], renamed))
        checked = run(config, "validate")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert (
            f"{campaign}:2:14: warning: campaign id 'rn-2027' was 'rn' when 2 of its deliveries "
            "went out (or may have): the daemon records them under the new id and does not "
            "post them again"
        ) in checked.stdout
        assert "clarion retry KEY --force" in checked.stdout

        with daemon_process(config, token=ACCESS_TOKEN) as daemon:
            daemon.ready()
            wait_until(lambda: len(fake.posts) == 3, 30, what="the added post")
            lines = daemon.find(lambda x: x["message"].startswith("went out (or may have)"))
            assert {(x["key"], x["went_out_as"]) for x in lines} == {
                ("rn-2027/a/-/m0", "rn/a/-/m0"),
                ("rn-2027/b-renamed/-/m0", "rn/b/-/m0"),
            }
            loaded = daemon.find(lambda x: x["message"].startswith("plans loaded"))
            assert "2 renamed after they went out (not re-posted)" in loaded[0]["message"]

            status = run(config, "status", "--format", "json")
            assert status.returncode == 0, status.stderr
            renames = json.loads(status.stdout)["renamed_after_sending"]
            assert {item["key"] for item in renames} == {
                "rn-2027/a/-/m0",
                "rn-2027/b-renamed/-/m0",
            }
            assert "Renamed after they went out" in run(config, "status").stdout

            refused = run(config, "retry", "rn-2027/a/-/m0")
            assert refused.returncode == 1
            assert "Add --force" in refused.stderr
            forced = run(config, "retry", "rn-2027/a/-/m0", "--force")
            assert forced.returncode == 0, forced.stderr
            wait_until(lambda: len(fake.posts) == 4, 30, what="the post asked for again")
            assert daemon.stop() == 0
    texts = [p["text"] for p in fake.posts]
    assert texts == ["first words", "second words", "third words", "first words"]
    with reading(url) as ledger:
        assert ledger.find("rn-2027/b-renamed/-/m0").state == State.SENT
        assert ledger.find("rn/b/-/m0").state == State.SENT
