"""Deployment files as written: the systemd unit passes `systemd-analyze verify`, the
container recipe installs a wheel and runs as a numeric user with a health check that asks
the daemon, the ignore file keeps history, environments and ledgers out, and the docs show
these very files. Monitoring: the alert rules and the Grafana dashboard only name metrics
the daemon exports."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scheduler.metrics import Metrics
from tests.scheduler.daemonkit import CLARION, daemon_process, wait_until, write_config

ROOT = Path(__file__).parents[2]
UNIT = ROOT / "deploy" / "clarion.service"
CONTAINERFILE = ROOT / "Containerfile"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"


def fenced(markdown: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", markdown, re.DOTALL)


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    # verify checks that ExecStart's program exists: point it at this environment's clarion.
    text = UNIT.read_text().replace("/opt/clarion/bin/clarion", str(CLARION))
    unit = tmp_path / "clarion.service"
    unit.write_text(text)
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr  # unknown keys and bad values only warn


def test_the_unit_runs_clarion_as_documented() -> None:
    unit = UNIT.read_text()
    assert "ExecStart=/opt/clarion/bin/clarion run\n" in unit
    assert "Environment=CLARION_CONFIG=/etc/clarion/config.yaml" in unit
    assert "User=clarion" in unit and "StateDirectory=clarion" in unit
    assert "Documentation=https://" in unit
    doc = DEPLOY_DOC.read_text()
    assert UNIT.read_text() in fenced(doc, "ini"), "docs/deploy.md shows deploy/clarion.service"


def test_the_container_recipe_installs_a_wheel_as_a_numeric_user() -> None:
    recipe = CONTAINERFILE.read_text()
    stages = re.split(r"^FROM ", recipe, flags=re.MULTILINE)[1:]
    assert len(stages) == 2 and stages[0].startswith("python:3.12-slim AS wheel")
    final = stages[1]
    assert "COPY . " not in final  # only the wheel reaches the image
    assert (
        "COPY --from=wheel /dist/" in final
        and "pip install --no-cache-dir /tmp/dist/*.whl" in final
    )
    (user,) = re.findall(r"^USER (\S+)$", final, re.MULTILINE)
    assert re.fullmatch(r"\d+:\d+", user) and not user.startswith("0")
    assert 'CMD ["clarion", "health"]' in final
    assert "docs/deploy.md" in recipe
    doc = DEPLOY_DOC.read_text()
    assert recipe in fenced(doc, "dockerfile"), "docs/deploy.md shows the Containerfile"


def test_the_ignore_file_keeps_history_environments_and_ledgers_out() -> None:
    ignored = {
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()
    }
    for entry in (".git", ".venv", ".clarion", "**/*.db", "**/*.db-wal", "**/*.jsonl", "dist"):
        assert entry in ignored, entry
    assert not any(line.startswith("!") for line in ignored)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_health_check_asks_the_daemon(tmp_path: Path) -> None:
    """What the container's HEALTHCHECK runs: 0 while the daemon is healthy, 1 once it is
    gone, with the reason."""
    port = free_port()
    config = write_config(tmp_path, {}, listen=f"127.0.0.1:{port}")
    env = {k: v for k, v in os.environ.items() if k != "CLARION_CONFIG"}
    env["CLARION_CONFIG"] = str(config)

    def health() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CLARION), "health"], capture_output=True, text=True, env=env, timeout=60
        )

    with daemon_process(config, "--dry-run") as daemon:
        daemon.ready(60)
        wait_until(lambda: health().returncode == 0, 30, what="healthy")
        assert health().stdout.startswith("ok: scheduler, heartbeat")
        assert daemon.stop() == 0
    gone = health()
    assert gone.returncode == 1
    assert f"no daemon answers at http://127.0.0.1:{port}/healthz" in gone.stderr


def test_health_without_an_endpoint_is_a_usage_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, {}, listen=None)
    done = subprocess.run(
        [str(CLARION), "health", "--config", str(config)], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "server.listen is null" in done.stderr


def exported_names() -> set[str]:
    names = set()
    for family in Metrics().registry.collect():
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names |= {family.name + s for s in ("_bucket", "_count", "_sum")}
        elif family.type == "info":
            names.add(family.name + "_info")
        else:
            names.add(family.name)
    return names


def referenced(expression: str) -> set[str]:
    return set(re.findall(r"\bclarion_[a-z0-9_]+", expression))


def test_the_alert_rules_cover_the_issues_and_name_real_metrics() -> None:
    rules = yaml.safe_load((ROOT / "docs" / "monitoring" / "clarion-alerts.yaml").read_text())
    (group,) = rules["groups"]
    alerts = {rule["alert"]: rule for rule in group["rules"]}
    for needed in (
        "ClarionUnknownDeliveries",
        "ClarionChannelHeld",
        "ClarionPostsLate",
        "ClarionLedgerErrors",
    ):
        assert needed in alerts
    known = exported_names()
    for name, rule in alerts.items():
        assert referenced(rule["expr"]) <= known, (name, referenced(rule["expr"]) - known)
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"]


def test_the_dashboard_names_real_metrics() -> None:
    dashboard = json.loads((ROOT / "docs" / "monitoring" / "grafana-dashboard.json").read_text())
    known = exported_names()
    expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(expressions) >= 10
    for expression in expressions:
        assert referenced(expression) <= known, expression
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert sys.version_info >= (3, 11)


def ignored_by(patterns: list[str], path: str) -> bool:
    """Docker's rule, enough for our file: a pattern matches from the context's top (`**/`
    at any depth, `*` within one name), and excludes a folder with everything in it."""
    parts = path.split("/")
    for pattern in patterns:
        body = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
        rule = re.compile(body + r"\Z")
        if any(rule.match("/".join(parts[: i + 1])) for i in range(len(parts))):
            return True
    return False


@pytest.mark.slow
def test_the_build_context_builds_the_wheel_and_holds_no_ledger(tmp_path: Path) -> None:
    """The first stage of the Containerfile, on what the ignore file lets through."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    context = tmp_path / "context"
    for name in tracked:
        source = ROOT / name
        if ignored_by(patterns, name) or not source.exists():
            continue
        target = context / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    copied = {str(p.relative_to(context)) for p in context.rglob("*")}
    assert not any(name.endswith((".db", ".jsonl")) or name.startswith(".git/") for name in copied)
    assert ignored_by(patterns, ".venv/bin/python") and ignored_by(patterns, "a/b/ledger.db")
    assert not ignored_by(patterns, "scheduler/cli.py")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--wheel-dir", "dist", "."],
        cwd=context,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    assert list((context / "dist").glob("clarion-*-py3-none-any.whl"))
