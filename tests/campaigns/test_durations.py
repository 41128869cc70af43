"""Durations are one type with one rule, in campaign files and config.yaml alike (issue 8):
a number needs its unit, `true` is no duration, and zero is refused where it means nothing."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.durations import parse_duration
from campaigns.problems import InputError
from campaigns.yamlsource import parse_yaml
from scheduler.config import parse_config
from tests.campaigns.plan_helpers import campaign, load

SCALARS = st.one_of(
    st.integers(-5, 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.from_regex(r"\A[0-9]{1,4}(ms|s|m|h|d|w)\Z"),
    st.from_regex(r"\A[0-9a-z ]{0,6}\Z"),
)


def yaml_value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def plan_verdict(folder: Path, key: str, value: object) -> timedelta | str:
    header = (
        f"campaign: c\ntitle: T\ntimezone: UTC\nchannels: [x-main]\n{key}: {yaml_value(value)}\n"
    )
    plan = load(folder, campaign("- {id: p, at: 2027-03-01 10:00, text: hi}", header))
    errors = [p.message for p in plan.problems if p.severity == "error"]
    if errors:
        return errors[0]
    found = plan.campaigns[0].definition.min_gap
    return found if found is not None else "none"


def config_verdict(key: str, value: object) -> timedelta | str:
    text = f"policies:\n  {key}: {yaml_value(value)}\n"
    try:
        config = parse_config(parse_yaml(text, "config.yaml"), Path("config.yaml"))
    except InputError as exc:
        return exc.problems[0].message
    found = config.file.policies.min_gap
    return found


@settings(max_examples=150, deadline=None)
@given(SCALARS)
def test_min_gap_reads_the_same_in_a_plan_and_in_config(value: object) -> None:
    with tempfile.TemporaryDirectory() as folder:
        in_plan = plan_verdict(Path(folder), "min_gap", value)
    in_config = config_verdict("min_gap", value)
    if parse_yaml(f"v: {yaml_value(value)}", "f").data["v"] is None:
        return  # no value: a plan falls back to config, which has no such fallback
    assert isinstance(in_plan, timedelta) == isinstance(in_config, timedelta), (
        in_plan,
        in_config,
    )
    if isinstance(in_plan, timedelta):
        assert in_plan == in_config
    else:
        assert in_plan.split(" | ")[0] == str(in_config).split(" | ")[0]


@pytest.mark.parametrize("value", [5, 0.5, True, False])
def test_numbers_and_booleans_are_no_durations(value: object) -> None:
    verdict = config_verdict("min_gap", value)
    assert isinstance(verdict, str) and ("needs a unit" in verdict or "not a duration" in verdict)


def test_zero_is_refused_where_it_means_nothing() -> None:
    assert config_verdict("min_gap", "0s") == timedelta(0)
    for key in ("lease", "sweep_interval", "not_after", "horizon"):
        text = f"policies:\n  {key}: 0s\n"
        with pytest.raises(InputError, match="longer than zero"):
            parse_config(parse_yaml(text, "config.yaml"), Path("config.yaml"))


def test_milliseconds_for_sub_second_intervals() -> None:
    assert parse_duration("500ms") == timedelta(milliseconds=500)
    assert parse_duration("1m30s") == timedelta(seconds=90)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("defaults: {not_after: true}", "true is not a duration"),
        ("defaults: {not_after: 0s}", "the duration must be longer than zero"),
        ("min_gap: 30", "a duration needs a unit: 30 of what?"),
    ],
)
def test_validate_refuses_what_is_no_duration(tmp_path: Path, line: str, words: str) -> None:
    path = tmp_path / "c.yaml"
    header = f"campaign: c\ntitle: T\ntimezone: UTC\nchannels: [x-main]\n{line}\n"
    path.write_text(campaign("- {id: p, at: 2030-03-01 10:00, text: hi}", header))
    done = subprocess.run(
        [str(Path(sys.executable).parent / "clarion"), "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"{path}:5:" in done.stdout and words in done.stdout
