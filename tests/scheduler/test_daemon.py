"""`clarion run` as an operator meets it: start-up errors, one daemon per ledger, a channel
without credentials, a clean stop, --once, --dry-run and --demo."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MastodonFake
from scheduler.config import load_config
from scheduler.daemon import Daemon, RunOptions, StartupError, dry_run_paths
from scheduler.ledger.api import State
from scheduler.logs import Redactor
from tests.scheduler.daemonkit import (
    CLARION,
    TOKEN_ENV,
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


def run_clarion(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLARION), *args], capture_output=True, text=True, timeout=60, cwd=cwd
    )


def test_config_errors_are_located_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("campaigns: [plans]\npolicies:\n  lease: soon\n  horizn: 6h\n")
    done = run_clarion("run", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 2
    assert f"{config}:3:10: error:" in done.stderr
    assert f"{config}:4:3: error:" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_second_daemon_on_the_same_ledger_exits_2(tmp_path: Path) -> None:
    with MastodonFake() as fake:
        config = write_config(tmp_path, mastodon_channels(["m0"], [fake.base_url]), listen=None)
        with daemon_process(config, token=ACCESS_TOKEN) as first:
            first.ready()
            second = run_clarion("run", "--config", str(config), cwd=tmp_path)
            assert second.returncode == 2
            assert "another clarion daemon is already running" in second.stderr
            assert "Traceback" not in second.stderr
            assert first.stop() == 0


class Requests:
    """Stands in for the daemon's workers: what the sweeper asks of them, in order."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def request(self, channel: str, task: str = "dispatch") -> None:
        self.asked.append((channel, task))

    def request_all(self, task: str = "dispatch") -> None:
        self.asked.append(("*", task))

    def stop(self, grace: float) -> list[str]:
        return []


def test_a_daemon_refused_at_start_up_leaves_nothing_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built whole or not at all: refused for its health port, it has let go of the ledger's
    lock and recorded its stop, so the next start goes ahead."""
    monkeypatch.setenv(TOKEN_ENV, "token")
    channels = mastodon_channels(["m0"], ["http://127.0.0.1:9"])
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        listen = f"127.0.0.1:{busy.getsockname()[1]}"
        config = load_config(write_config(tmp_path, channels, listen=listen))
        with pytest.raises(StartupError, match=f"cannot serve /healthz on {listen}"):
            Daemon(config, RunOptions(), Redactor())
    with Daemon(config, RunOptions(), Redactor()) as daemon:
        alive = daemon.ledger.daemons(datetime.now(UTC))
        assert [d.process for d in alive] == [daemon.ledger.process]


def test_the_sweeper_asks_for_reconciliation_before_publishing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker woken to publish a backlog does nothing else until it is done: after a crash,
    the unknown deliveries (the oldest) waited behind the whole backlog."""
    monkeypatch.setenv(TOKEN_ENV, "token")
    config = write_config(tmp_path, mastodon_channels(["m0"], ["http://127.0.0.1:9"]), listen=None)
    post = PostSpec("due", instant(soon(-5)), "due already")
    (tmp_path / "plans" / "c.yaml").write_text(campaign_text("c", ["m0"], [post]))
    daemon = Daemon(load_config(config), RunOptions(once=True), Redactor())
    daemon.start()  # with --once no thread starts: the sweep is called here
    try:
        daemon.workers = requests = Requests()  # type: ignore[assignment]
        daemon._sweep()
    finally:
        daemon.close()
    assert requests.asked == [("*", "reconcile"), ("m0", "dispatch")]


def test_a_channel_without_credentials_is_held_and_the_others_run(tmp_path: Path) -> None:
    with MastodonFake() as fake:
        channels = mastodon_channels(["ok", "broken"], [fake.base_url])
        channels["broken"]["credentials"] = {"access_token": "${CLARION_TEST_UNSET_TOKEN}"}
        config = write_config(tmp_path, channels, listen=None)
        post = PostSpec("hello", instant(soon(2)), "hello")
        (tmp_path / "plans" / "c.yaml").write_text(campaign_text("c", ["ok", "broken"], [post]))
        with daemon_process(config, token=ACCESS_TOKEN) as daemon:
            held = daemon.wait_log(lambda x: x["message"].startswith("channel broken is held"))
            assert "CLARION_TEST_UNSET_TOKEN is not set" in held["message"]
            assert held["channel"] == "broken"
            daemon.ready()
            wait_until(lambda: len(fake.posts) == 1, 20, what="the post on the working channel")
            assert daemon.stop() == 0
    with reading(sqlite_url(tmp_path)) as ledger:
        assert set(ledger.held_channels()) == {"broken"}
        states = {row.channel: row.state for row in ledger.rows("c")}
    assert states == {"ok": State.SENT, "broken": State.PLANNED}


def test_sigterm_lets_the_publish_in_flight_finish_and_claims_nothing_more(
    tmp_path: Path,
) -> None:
    fake = MastodonFake(latency=2.0)
    with fake:
        config = write_config(tmp_path, mastodon_channels(["m0"], [fake.base_url]), listen=None)
        posts = [PostSpec(f"p{i}", instant(soon(2)), f"post {i}") for i in range(3)]
        (tmp_path / "plans" / "t.yaml").write_text(campaign_text("t", ["m0"], posts))
        with daemon_process(config, token=ACCESS_TOKEN) as daemon:
            daemon.wait_log(lambda x: x["message"].startswith("clarion is running"))
            wait_until(lambda: len(fake.requests) >= 1, 20, 0.02, "a publish under way")
            daemon.signal(signal.SIGTERM)
            assert daemon.wait(20) == 0
    with reading(sqlite_url(tmp_path)) as ledger:
        counts = ledger.counts("t")
    assert counts[State.SENT] == 1 and counts[State.PLANNED] == 2
    assert counts[State.CLAIMED] == 0 and len(fake.posts) == 1


def test_once_publishes_what_is_due_and_stops(tmp_path: Path) -> None:
    with MastodonFake() as fake:
        config = write_config(tmp_path, mastodon_channels(["m0"], [fake.base_url]), listen=None)
        posts = [
            PostSpec("due", instant(soon(-60)), "due already"),
            PostSpec("later", instant(soon(3600)), "later"),
        ]
        (tmp_path / "plans" / "o.yaml").write_text(campaign_text("o", ["m0"], posts))
        with daemon_process(config, "--once", token=ACCESS_TOKEN) as daemon:
            assert daemon.wait(30) == 0, daemon.text()
        assert [post["text"] for post in fake.posts] == ["due already"]
    with reading(sqlite_url(tmp_path)) as ledger:
        assert {row.post: row.state for row in ledger.rows("o")} == {
            "due": State.SENT,
            "later": State.PLANNED,
        }


def test_once_does_not_wait_for_a_later_rate_slot(tmp_path: Path) -> None:
    """With a minimum interval of 50 s between posts, --once sat for 50 s to post the second
    due delivery; it posts the first and leaves the second for the next run."""
    with MastodonFake() as fake:
        channels = mastodon_channels(["m0"], [fake.base_url])
        channels["m0"]["rate"] = {"posts": 10, "per": "1h", "min_interval": "50s"}
        config = write_config(tmp_path, channels, listen=None)
        posts = [PostSpec(f"due{i}", instant(soon(-60 + i)), f"due {i}") for i in range(2)]
        (tmp_path / "plans" / "o.yaml").write_text(campaign_text("o", ["m0"], posts))
        with daemon_process(config, "--once", token=ACCESS_TOKEN) as daemon:
            assert daemon.wait(120) == 0, daemon.text()
            assert daemon.find(lambda x: x["message"].startswith("still due on m0, waiting for"))
        assert [post["text"] for post in fake.posts] == ["due 0"]
    with reading(sqlite_url(tmp_path)) as ledger:
        states = {row.post: row.state for row in ledger.rows("o")}
        assert states == {"due0": State.SENT, "due1": State.PLANNED}
        assert ledger.daemons(soon(0)) == []  # it said goodbye


def test_a_restart_keeps_what_now_meant(tmp_path: Path) -> None:
    """A rehearsal whose plan is anchored on `now`: a restart re-read `now` as the new start,
    so the recurring occurrences got new keys ("24 added, 4 cancelled") and went out again."""
    plan = {
        "campaign": "rehearsal",
        "title": "Rehearsal",
        "timezone": "UTC",
        "anchors": {"start": "now"},
        "channels": ["m0"],
        "min_gap": "0s",
        "posts": [
            {
                "id": "reminder",
                "every": {"interval": "7m", "from": "start + 2s", "until": "start + 2h"},
                "text": "Reminder",
                "link": "none",
            }
        ],
    }
    config = write_config(tmp_path, mastodon_channels(["m0"], ["http://127.0.0.1:9"]), listen=None)
    (tmp_path / "plans" / "r.yaml").write_text(json.dumps(plan))
    runs = []
    for _ in range(2):
        with daemon_process(config, "--dry-run") as daemon:
            daemon.ready()
            runs.append(daemon.find(lambda x: x["message"].startswith("plans loaded"))[0])
            wait_until(lambda: (tmp_path / "state" / "outbox.jsonl").exists(), 60)
            assert daemon.stop() == 0
    assert "18 added, 0 updated, 0 cancelled" in runs[0]["message"]
    assert "0 added, 0 updated, 0 cancelled" in runs[1]["message"]
    with reading(dry_run_paths(load_config(config))[0]) as ledger:
        assert ledger.counts()[State.CANCELLED] == 0


def test_dry_run_writes_the_outbox_and_leaves_the_real_ledger_alone(tmp_path: Path) -> None:
    config = write_config(tmp_path, mastodon_channels(["m0"], ["http://127.0.0.1:9"]), listen=None)
    post = PostSpec("hello", instant(soon(1)), "hello, outbox")
    (tmp_path / "plans" / "d.yaml").write_text(campaign_text("d", ["m0"], [post]))
    with daemon_process(config, "--dry-run", "--exit-when-idle") as daemon:
        assert daemon.wait(30) == 0, daemon.text()
    [line] = (tmp_path / "state" / "outbox.jsonl").read_text().splitlines()
    assert json.loads(line)["text"] == "hello, outbox"
    assert not (tmp_path / "state" / "ledger.db").exists()
    assert (tmp_path / "state" / "dry-run-ledger.db").exists()


@pytest.mark.slow
def test_demo_shows_each_post_as_it_goes_out(tmp_path: Path) -> None:
    demo = subprocess.Popen(
        [str(CLARION), "run", "--demo"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert demo.stdout is not None
    lines = [demo.stdout.readline() for _ in range(5)]
    assert lines[0].startswith("Clarion demo:")
    first_post = lines[4]
    assert "UTC" in first_post and "Hello from Clarion" in first_post and "-> " in first_post
    demo.send_signal(signal.SIGINT)
    out, err = demo.communicate(timeout=30)
    assert demo.returncode == 0, err
    assert "Done in" in out and "outbox.jsonl" in out
    assert "Traceback" not in err
