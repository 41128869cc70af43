"""/metrics follows Prometheus' naming conventions, read back with prometheus-client's own
parser from a daemon that has just posted: names in snake_case with the `clarion_` prefix,
units as suffixes, counters ending in `_total`, an info metric naming the version and the
ledger schema, and a series for every delivery state."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from scheduler.ledger.api import State
from scheduler.ledger.migrate import head
from scheduler.scaffold import clarion_version
from tests.scheduler.daemonkit import (
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

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
LABEL = re.compile(r"^[a-z][a-z0-9_]*$")
UNITS = ("_seconds", "_bytes", "_timestamp_seconds")
FORBIDDEN_UNITS = re.compile(r"_(ms|milliseconds|minutes|hours|days|kb|mb|percent)(_|$)")


@pytest.fixture
def families(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Metric]]:
    monkeypatch.setenv(TOKEN_ENV, ACCESS_TOKEN)
    with MastodonFake() as fake:
        path = write_config(tmp_path, mastodon_channels(["m0"], [fake.base_url]))
        post = PostSpec("one", instant(soon(1)), "hello")
        (tmp_path / "plans" / "h.yaml").write_text(campaign_text("h", ["m0"], [post]))
        with daemon_in_process(path) as (daemon, _):
            wait_until(lambda: daemon.ledger.counts().get(State.SENT) == 1, 30, what="the post")
            assert daemon.health is not None
            url = daemon.health.url + "/metrics"

            def scraped() -> dict[str, Metric] | None:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    text = answer.read().decode()
                found = {f.name: f for f in text_string_to_metric_families(text)}
                sent = [
                    s for s in found["clarion_deliveries"].samples if s.labels["state"] == "sent"
                ]
                return found if sent and sent[0].value == 1 else None

            yield wait_until(scraped, 20, what="the sweeper's refresh")


def test_names_types_and_help_follow_the_conventions(families: dict[str, Metric]) -> None:
    ours = {name: f for name, f in families.items() if name.startswith("clarion_")}
    assert len(ours) > 15
    for name, family in families.items():
        assert NAME.match(name), name
        assert name.startswith(("clarion_", "process_", "python_")), name
        assert not FORBIDDEN_UNITS.search(name), f"{name}: use base units (seconds, bytes)"
        assert not name.endswith("_created"), f"{name}: no created series"
        assert family.documentation.strip(), f"{name} has no HELP"
    for name, family in ours.items():
        assert family.type in ("counter", "gauge", "histogram", "info"), name
        for sample in family.samples:
            for label in sample.labels:
                assert LABEL.match(label) and not label.startswith("__"), (name, label)
            if family.type == "counter":
                assert sample.name == name + "_total", sample.name
        if family.type != "counter":
            assert not name.endswith("_total"), f"{name}: only counters end in _total"
        if family.type == "histogram":
            assert name.endswith(UNITS), f"{name}: a histogram names its unit"
        if "timestamp" in name:
            assert name.endswith("_timestamp_seconds"), name


def test_delivery_states_are_all_present(families: dict[str, Metric]) -> None:
    states = {s.labels["state"]: s.value for s in families["clarion_deliveries"].samples}
    assert set(states) == {state.value for state in State}
    assert states["sent"] == 1
    assert states["unknown"] == 0


def test_the_build_info_names_the_version_and_the_ledger_schema(
    families: dict[str, Metric],
) -> None:
    (sample,) = families["clarion_build_info"].samples
    assert sample.name == "clarion_build_info"
    assert sample.value == 1
    assert sample.labels == {"version": clarion_version(), "ledger_schema": head()}


def test_the_sent_post_is_counted_with_channel_and_outcome(families: dict[str, Metric]) -> None:
    finished = families["clarion_deliveries_finished"].samples
    assert [(s.labels, s.value) for s in finished] == [({"channel": "m0", "outcome": "sent"}, 1)]
    assert any(
        s.name == "clarion_publish_seconds_count"
        for s in families["clarion_publish_seconds"].samples
    )
