"""The daemon reads the figures of what it posted from the platform (Mastodon's fake), and
shows their totals in /metrics; on both ledgers."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from scheduler.ledger.api import State
from scheduler.ledger.figures import FigureStore
from tests.scheduler.daemonkit import (
    FAST,
    TOKEN_ENV,
    PostSpec,
    campaign_text,
    daemon_in_process,
    instant,
    mastodon_channels,
    soon,
    wait_until,
    write_config,
)


def test_the_daemon_reads_figures_at_each_moment_and_exports_totals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ledger_url: str
) -> None:
    monkeypatch.setenv(TOKEN_ENV, ACCESS_TOKEN)
    policies = {**FAST, "figures": {"after": ["2s", "3s"], "every": "200ms"}}
    with MastodonFake() as fake:
        channels = mastodon_channels(["m0"], [fake.base_url])
        path = write_config(tmp_path, channels, ledger=ledger_url, policies=policies)
        post = PostSpec("one", instant(soon(1)), "hello")
        (tmp_path / "plans" / "h.yaml").write_text(campaign_text("h", ["m0"], [post]))
        with daemon_in_process(path) as (daemon, _):
            wait_until(lambda: daemon.ledger.counts().get(State.SENT) == 1, 30, what="the post")
            (row,) = daemon.ledger.rows(states=[State.SENT])
            assert row.ref is not None
            fake.react(row.ref.id, likes=5, reposts=2, replies=1)
            store = FigureStore(daemon.ledger)

            def finished() -> bool:
                found = store.collection(row.key)
                return found is not None and found.next_at is None

            wait_until(finished, 30, what="two readings")
            readings = [s.figures for s in store.snapshots(key=row.key)]
            assert daemon.health is not None
            url = daemon.health.url + "/metrics"

            def scraped() -> dict[str, Metric] | None:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    text = answer.read().decode()
                found = {f.name: f for f in text_string_to_metric_families(text)}
                reads = [s.value for s in found["clarion_figure_reads"].samples]
                likes = [s.value for s in found["clarion_post_likes"].samples]
                return found if reads == [2] and likes == [5] else None

            families = wait_until(scraped, 10, what="the totals after the second reading")
    assert len(readings) == 2
    latest = readings[-1]
    assert (latest.likes, latest.reposts, latest.replies) == (5, 2, 1)
    (likes,) = families["clarion_post_likes"].samples
    assert (likes.labels, likes.value) == ({"campaign": "h", "platform": "mastodon"}, 5)
