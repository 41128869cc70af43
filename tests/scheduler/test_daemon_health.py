"""/healthz and /metrics: 200 while the daemon works, 503 (and a log line) when its scheduler
thread is dead or its heartbeat and sweeper have stopped."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from scheduler.daemon import Daemon
from scheduler.ledger.api import State
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


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def healthz(daemon: Daemon) -> tuple[int, dict[str, Any]]:
    assert daemon.health is not None
    status, body = get(daemon.health.url + "/healthz")
    return status, json.loads(body)


def failing(daemon: Daemon) -> dict[str, str] | None:
    """The checks, when /healthz answers 503."""
    status, body = healthz(daemon)
    return body["checks"] if status == 503 else None


def stale(checks: dict[str, str] | None) -> set[str]:
    return {name for name, v in (checks or {}).items() if v != "ok"}


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(TOKEN_ENV, ACCESS_TOKEN)
    with MastodonFake() as fake:
        path = write_config(tmp_path, mastodon_channels(["m0"], [fake.base_url]))
        post = PostSpec("one", instant(soon(1)), "hello")
        (tmp_path / "plans" / "h.yaml").write_text(campaign_text("h", ["m0"], [post]))
        yield path


def metrics(daemon: Daemon) -> dict[str, Metric]:
    assert daemon.health is not None
    status, text = get(daemon.health.url + "/metrics")
    assert status == 200
    return {family.name: family for family in text_string_to_metric_families(text)}


def sent_gauge(daemon: Daemon) -> float:
    samples = metrics(daemon)["clarion_deliveries"].samples
    return next(s.value for s in samples if s.labels["state"] == "sent")


def test_healthy_daemon_answers_200_and_metrics_parse(config: Path) -> None:
    with daemon_in_process(config) as (daemon, _):
        wait_until(lambda: daemon.ledger.counts()[State.SENT] == 1, 20, what="the post")
        wait_until(lambda: healthz(daemon)[0] == 200, 10, what="a healthy daemon")
        body = healthz(daemon)[1]
        assert body["status"] == "ok"
        assert set(body["checks"]) == {"scheduler", "heartbeat", "sweeper", "ledger", "workers"}
        wait_until(lambda: sent_gauge(daemon) == 1, 5, what="the sweeper's refresh")
        families = metrics(daemon)
        for name in (
            "clarion_deliveries",
            "clarion_publish_seconds",
            "clarion_lateness_seconds",
            "clarion_retries",
            "clarion_errors",
            "clarion_late_alerts",
            "clarion_heartbeat_timestamp_seconds",
        ):
            assert name in families, name
        assert daemon.health is not None
        assert get(daemon.health.url + "/nothing")[0] == 404


def test_a_stalled_scheduler_turns_health_red_and_back(
    config: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO), daemon_in_process(config) as (daemon, _):
        wait_until(lambda: healthz(daemon)[0] == 200, 10, what="a healthy daemon")
        daemon.alarms.scheduler.pause()  # no job runs: neither heartbeat nor sweeper
        # the heartbeat goes stale before the sweeper: wait for both
        wait_until(
            lambda: {"heartbeat", "sweeper"} <= stale(failing(daemon)), 20, what="503 on both"
        )
        wait_until(
            lambda: any(r.getMessage().startswith("health: failing") for r in caplog.records),
            5,
            what="the log line",
        )
        daemon.alarms.scheduler.resume()
        wait_until(lambda: healthz(daemon)[0] == 200, 10, what="health back")
        wait_until(lambda: any(r.getMessage() == "health: ok again" for r in caplog.records), 5)


def test_a_dead_scheduler_thread_turns_health_red(config: Path) -> None:
    with daemon_in_process(config) as (daemon, _):
        wait_until(lambda: healthz(daemon)[0] == 200, 10, what="a healthy daemon")
        daemon.alarms.scheduler.shutdown(wait=False)
        checks = wait_until(lambda: failing(daemon), 10, what="503")
        assert checks["scheduler"] == "the scheduler thread has stopped"
