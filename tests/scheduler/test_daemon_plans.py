"""What a plan load does to the ledger when the files are not as they should be: a campaign
whose file has errors, or cannot even be read, or whose folder is missing or empty, keeps its
plan; a deleted file cancels its campaign's planned deliveries; no campaign listed touches
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import PlatformRef
from scheduler.config import load_config
from scheduler.ledger import SqlLedger, open_ledger
from scheduler.ledger.api import Sent, State
from scheduler.reload import Planner
from tests.scheduler.daemonkit import (
    PostSpec,
    campaign_text,
    instant,
    mastodon_channels,
    soon,
    sqlite_url,
    write_config,
)

NOW = datetime.now(UTC)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[SqlLedger]:
    opened = open_ledger(sqlite_url(tmp_path))
    yield opened
    opened.close()


def planner(tmp_path: Path, ledger: SqlLedger, campaigns: list[str] | None = None) -> Planner:
    channels = mastodon_channels(["m0"], ["http://127.0.0.1:9"])
    path = write_config(tmp_path, channels, campaigns=campaigns or ["plans"], listen=None)
    return Planner(load_config(path), ledger, NOW)


def write(tmp_path: Path, name: str, *posts: str) -> Path:
    file = tmp_path / "plans" / f"{name}.yaml"
    file.parent.mkdir(exist_ok=True)
    specs = [PostSpec(post, instant(soon(3600)), f"{post} text") for post in posts]
    file.write_text(campaign_text(name, ["m0"], specs))
    return file


def planned(ledger: SqlLedger, campaign: str) -> set[str]:
    return {row.post for row in ledger.rows(campaign, [State.PLANNED])}


def test_a_campaign_with_errors_keeps_its_plan_even_after_a_restart(
    tmp_path: Path, ledger: SqlLedger
) -> None:
    write(tmp_path, "a", "one", "two")
    write(tmp_path, "b", "three")
    assert planner(tmp_path, ledger).update(NOW) is not None
    # A later edit breaks campaign a; a new daemon (nothing in memory) loads it.
    (tmp_path / "plans" / "a.yaml").write_text(
        (tmp_path / "plans" / "a.yaml").read_text().replace('"one"', '"One!"')
    )
    update = planner(tmp_path, ledger).update(NOW)
    assert update is not None
    assert update.kept == ["a"]
    assert any(p.severity == "error" and p.where.file.endswith("a.yaml") for p in update.problems)
    assert update.report.cancelled == []
    assert planned(ledger, "a") == {"one", "two"}


def test_a_file_too_broken_to_name_its_campaign_keeps_it(tmp_path: Path, ledger: SqlLedger) -> None:
    file = write(tmp_path, "a", "one")
    planner(tmp_path, ledger).update(NOW)
    file.write_text("campaign: [unclosed\n")
    update = planner(tmp_path, ledger).update(NOW)
    assert update is not None and update.kept == ["a"]
    assert planned(ledger, "a") == {"one"}


def test_a_linked_file_too_broken_to_name_its_campaign_keeps_it(
    tmp_path: Path, ledger: SqlLedger
) -> None:
    """The ledger stores a file by its real path; the problem names it by its link."""
    real = tmp_path / "repo" / "a.yaml"
    real.parent.mkdir()
    real.write_text(write(tmp_path, "a", "one").read_text())
    (tmp_path / "plans" / "a.yaml").unlink()
    (tmp_path / "plans" / "a.yaml").symlink_to(real)
    planner(tmp_path, ledger).update(NOW)
    assert ledger.rows("a")[0].delivery.source.startswith(f"{real}:")
    real.write_text("campaign: [unclosed\n")
    update = planner(tmp_path, ledger).update(NOW)
    assert update is not None and update.kept == ["a"]
    assert planned(ledger, "a") == {"one"}


def test_a_missing_folder_cancels_nothing(tmp_path: Path, ledger: SqlLedger) -> None:
    write(tmp_path, "a", "one")
    planner(tmp_path, ledger).update(NOW)
    update = planner(tmp_path, ledger, ["plans-gone"]).update(NOW)  # a wrong path
    assert update is not None and update.report.cancelled == []
    [problem] = [p for p in update.problems if p.severity == "error"]
    assert "campaign folder or file not found" in problem.message
    assert problem.where.file.endswith("config.yaml")
    assert planned(ledger, "a") == {"one"}


def test_an_empty_folder_cancels_nothing(tmp_path: Path, ledger: SqlLedger) -> None:
    """A mount point whose disk is not mounted is an empty folder."""
    write(tmp_path, "a", "one")
    planner(tmp_path, ledger).update(NOW)
    (tmp_path / "plans" / "a.yaml").unlink()
    update = planner(tmp_path, ledger).update(NOW)
    assert update is not None and update.report.cancelled == []
    assert planned(ledger, "a") == {"one"}


def test_a_deleted_file_cancels_its_planned_deliveries(tmp_path: Path, ledger: SqlLedger) -> None:
    """Deleted, with other campaign files still in its folder."""
    write(tmp_path, "a", "one")
    write(tmp_path, "b", "two")
    planner(tmp_path, ledger).update(NOW)
    (tmp_path / "plans" / "a.yaml").unlink()
    update = planner(tmp_path, ledger).update(NOW)
    assert update is not None and update.kept == []
    assert [key.split("/")[1] for key in update.report.cancelled] == ["one"]
    assert planned(ledger, "a") == set() and planned(ledger, "b") == {"two"}


def test_no_campaign_listed_leaves_the_ledger_alone(tmp_path: Path, ledger: SqlLedger) -> None:
    write(tmp_path, "a", "one")
    planner(tmp_path, ledger).update(NOW)
    channels = mastodon_channels(["m0"], ["http://127.0.0.1:9"])
    path = write_config(tmp_path, channels, campaigns=[], listen=None)
    assert Planner(load_config(path), ledger, NOW).update(NOW) is None
    assert planned(ledger, "a") == {"one"}


def test_an_edit_after_sending_is_reported_once_per_new_content(
    tmp_path: Path, ledger: SqlLedger
) -> None:
    """Every reload found the same edit again and warned again (seen reloading other files
    while the daemon ran)."""
    file = write(tmp_path, "a", "one")
    loads = planner(tmp_path, ledger)
    loads.update(NOW)
    (row,) = ledger.rows("a")
    claim = ledger.claim(row.channel, "host:1", timedelta(minutes=5), row.due_utc)
    assert claim is not None
    assert ledger.finish(claim, Sent(PlatformRef("1")), row.due_utc)

    file.write_text(file.read_text().replace('"one text"', '"one, better"'))
    update = loads.update(NOW)
    assert update is not None and update.new_edits == [row.key]
    write(tmp_path, "b", "two")  # another file changes: the same edit is not news
    update = loads.update(NOW)
    assert update is not None and update.report.edited_after_sending == [row.key]
    assert update.new_edits == []
    file.write_text(file.read_text().replace('"one, better"', '"one, best"'))
    update = loads.update(NOW)
    assert update is not None and update.new_edits == [row.key]
