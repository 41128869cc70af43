"""The daemon collects the figures of what it posted, and shows their totals in /metrics."""

from __future__ import annotations

import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connectors.base import Figures, PlatformRef
from connectors.fakes.mastodon import ACCESS_TOKEN, MastodonFake
from connectors.mastodon import MastodonConnector
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


@pytest.fixture
def mastodon_figures(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Mastodon answers figures in this test (its own reading is tested with its connector)."""
    asked: list[str] = []

    def figures(self: MastodonConnector, ref: PlatformRef) -> Figures:
        asked.append(ref.id)
        return Figures(likes=5, reposts=2, replies=1)

    capabilities = replace(MastodonConnector.capabilities, figures=True)
    monkeypatch.setattr(MastodonConnector, "capabilities", capabilities)
    monkeypatch.setattr(MastodonConnector, "figures", figures)
    return asked


def test_the_daemon_reads_figures_at_each_moment_and_exports_totals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mastodon_figures: list[str]
) -> None:
    monkeypatch.setenv(TOKEN_ENV, ACCESS_TOKEN)
    policies = {**FAST, "figures": {"after": ["1s", "2s"], "every": "200ms"}}
    with MastodonFake() as fake:
        path = write_config(tmp_path, mastodon_channels(["m0"], [fake.base_url]), policies=policies)
        post = PostSpec("one", instant(soon(1)), "hello")
        (tmp_path / "plans" / "h.yaml").write_text(campaign_text("h", ["m0"], [post]))
        with daemon_in_process(path) as (daemon, _):
            wait_until(lambda: daemon.ledger.counts().get(State.SENT) == 1, 30, what="the post")
            (row,) = daemon.ledger.rows(states=[State.SENT])
            store = FigureStore(daemon.ledger)  # type: ignore[arg-type]

            def finished() -> bool:
                found = store.collection(row.key)
                return found is not None and found.next_at is None

            wait_until(finished, 30, what="two readings")
            readings = [s.figures for s in store.snapshots(key=row.key)]
            assert daemon.health is not None
            with urllib.request.urlopen(daemon.health.url + "/metrics", timeout=5) as answer:
                text = answer.read().decode()
    assert readings == [Figures(likes=5, reposts=2, replies=1)] * 2
    assert row.ref is not None and mastodon_figures == [row.ref.id] * 2
    families = {f.name: f for f in text_string_to_metric_families(text)}
    (likes,) = families["clarion_post_likes"].samples
    assert (likes.labels, likes.value) == ({"campaign": "h", "platform": "mastodon"}, 5)
    assert families["clarion_figure_reads"].samples[0].value == 2
