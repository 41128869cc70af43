"""`clarion report` through the CLI: every format to standard output or a file, on both
ledgers; the period and bad input give clear errors, never a traceback."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.cli import EXIT_PROBLEMS, EXIT_USAGE, cli
from scheduler.ledger.sql import SqlLedger
from scheduler.report import FORMATS

SEEDED_DAY, LATER_DAY = date(2027, 2, 9), date(2027, 3, 11)
"""reportkit's deliveries: seven on the first day, one planned a month later."""


@pytest.fixture
def config(tmp_path: Path, ledger_url: str, seeded: SqlLedger) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"ledger: '{ledger_url}'\n")
    return path


def clarion(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["report", "--config", str(config), *args])


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_prints_the_report(config: Path, fmt: str) -> None:
    result = clarion(config, "sayno", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "sayno/launch/en/mastodon-main" in result.stdout


def test_the_report_goes_to_a_file(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = clarion(config, "--format", "json", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"Wrote the json report to {out}." in result.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["health"]["total"] == 8


def test_the_period_and_the_days_follow_the_zone(config: Path) -> None:
    result = clarion(config, "sayno", "--format", "json", "--from", "2027-02-09", "--until",
                     "2027-02-09 10:00", "--tz", "Europe/Brussels")  # fmt: skip
    document = json.loads(result.stdout)
    assert document["from_utc"] == "2027-02-08T23:00:00Z"
    assert document["until_utc"] == "2027-02-09T09:00:00Z"
    assert document["health"]["total"] == 2  # broken at 08:00 UTC and launch/en
    assert document["day_zone"] == "Europe/Brussels"


def test_refresh_reads_the_figures_first(
    config: Path, ledger_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    telegram = {"platform": "telegram", "credentials": {"bot_token": "${TG_TOKEN}"}}
    telegram["options"] = {"chat_id": "@news"}
    document = {"ledger": ledger_url, "channels": {"telegram-news": telegram}}
    config.write_text(json.dumps(document))
    monkeypatch.setenv("TG_TOKEN", "123:abc")
    result = clarion(config, "sayno", "--refresh", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "1 post have no figures: their platform offers none (telegram-news 1)" in result.stderr
    posts = json.loads(result.stdout)["posts"]
    (post,) = [p for p in posts if p["channel"] == "telegram-news"]
    assert (post["figures"], post["figures_note"]) == (
        "unsupported",
        "telegram offers no figures for posts",
    )


def test_an_unknown_campaign_is_named_with_the_known_ones(config: Path) -> None:
    result = clarion(config, "sayn")
    assert result.exit_code == EXIT_PROBLEMS
    assert "no campaign 'sayn'. Did you mean: sayno?" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "yesterday-ish"], "'yesterday-ish' is not a date or time"),
        (["--from", "2027-02-10", "--until", "2027-02-09"], "--until must come after --from"),
        (["--tz", "Europe/Brusels"], "did you mean 'Europe/Brussels'?"),
        (["--format", "pdf"], "'pdf' is not one of"),
    ],
)
def test_bad_input_gets_a_clear_error(config: Path, args: list[str], message: str) -> None:
    result = clarion(config, *args)
    assert result.exit_code == EXIT_USAGE
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_an_unwritable_output_is_an_error_not_a_traceback(config: Path, tmp_path: Path) -> None:
    result = clarion(config, "--output", str(tmp_path / "missing" / "report.txt"))
    assert result.exit_code == EXIT_USAGE
    assert "cannot write" in result.stderr


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=st.dates(date(1900, 1, 1), date(2200, 12, 31)),
    length=st.integers(-400, 400),
)
def test_any_two_dates_give_a_report_or_a_clear_error(
    config: Path, start: date, length: int
) -> None:
    end = start + timedelta(days=length)
    result = clarion(
        config, "--format", "json", "--from", start.isoformat(), "--until", end.isoformat()
    )
    if length >= 0:  # --until includes its whole day
        assert result.exit_code == 0, result.output
        within = json.loads(result.stdout)["health"]["total"]
        assert within == 7 * (start <= SEEDED_DAY <= end) + (start <= LATER_DAY <= end)
    else:
        assert result.exit_code == EXIT_USAGE
        assert "--until must come after --from" in result.stderr
