from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns.localtime import suggest_zones, to_utc, to_wall, zone


def test_an_ordinary_time_has_no_note() -> None:
    instant, note = to_utc(datetime(2027, 2, 9, 9, 0), zone("Europe/Brussels"))
    assert instant == datetime(2027, 2, 9, 8, 0, tzinfo=UTC)
    assert note is None


def test_gap_moves_forward_by_the_gap() -> None:
    brussels = zone("Europe/Brussels")
    instant, note = to_utc(datetime(2027, 3, 28, 2, 30), brussels)
    assert to_wall(instant, brussels) == datetime(2027, 3, 28, 3, 30)
    assert note == (
        "2027-03-28 02:30 in Europe/Brussels does not exist (clocks go forward by 1h): "
        "moved to 03:30 CEST"
    )


def test_fold_takes_the_first_occurrence() -> None:
    helsinki = zone("Europe/Helsinki")
    instant, note = to_utc(datetime(2027, 10, 31, 3, 30), helsinki)
    assert instant == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert note is not None and "03:30 EEST = 00:30 UTC" in note


def test_zone_never_accepts_host_files() -> None:
    for name in ("localtime", "posixrules", "posix/Europe/Paris", "", "/etc/localtime", "../x"):
        with pytest.raises(ValueError, match="unknown time zone"):
            zone(name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("europe/paris", "Europe/Paris"),
        ("Europe/Brusels", "Europe/Brussels"),
        ("Helsinki", "Europe/Helsinki"),
        ("america/new york", "America/New_York"),
    ],
)
def test_suggestions(name: str, expected: str) -> None:
    assert expected in suggest_zones(name)
