from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from campaigns.localtime import zone
from campaigns.recurrence import (
    TooManyOccurrences,
    check_cron,
    cron_occurrences,
    interval_occurrences,
)

from .plan_helpers import at

BRUSSELS = zone("Europe/Brussels")


@pytest.mark.parametrize("sunday", ["0 10 * * 0", "0 10 * * 7", "0 10 * * SUN", "0 10 * * sun"])
def test_sunday_is_0_7_and_sun(sunday: str) -> None:
    found = cron_occurrences(check_cron(sunday), at(2027, 1, 1), at(2027, 2, 1), BRUSSELS)
    assert [o.wall.day for o in found] == [3, 10, 17, 24, 31]
    assert all(o.wall.weekday() == 6 for o in found)


def test_cron_keeps_local_time_across_dst() -> None:
    found = cron_occurrences("0 10 * * MON", at(2027, 3, 20), at(2027, 4, 6), BRUSSELS)
    assert [o.utc for o in found] == [at(2027, 3, 22, 9), at(2027, 3, 29, 8), at(2027, 4, 5, 8)]


def test_cron_bounds_are_included() -> None:
    found = cron_occurrences("0 10 * * MON", at(2027, 3, 22, 9), at(2027, 3, 29, 8), BRUSSELS)
    assert len(found) == 2


def test_cron_in_the_gap_is_moved_with_a_note() -> None:
    found = cron_occurrences("30 2 * * *", at(2027, 3, 27), at(2027, 3, 29), BRUSSELS)
    assert [o.utc for o in found] == [at(2027, 3, 27, 1, 30), at(2027, 3, 28, 1, 30)]
    assert found[0].note is None and found[1].note and "does not exist" in found[1].note


def test_cron_in_the_fold_goes_out_once() -> None:
    found = cron_occurrences("30 2 * * *", at(2027, 10, 30), at(2027, 11, 1), BRUSSELS)
    assert [o.utc for o in found] == [at(2027, 10, 30, 0, 30), at(2027, 10, 31, 0, 30)]
    assert found[1].note and "happens twice" in found[1].note


def test_cron_month_names_and_impossible_dates() -> None:
    assert len(cron_occurrences("0 9 1 FEB,MAR *", at(2027, 1, 1), at(2027, 12, 31), BRUSSELS)) == 2
    assert cron_occurrences("0 0 30 2 *", at(2027, 1, 1), at(2028, 1, 1), BRUSSELS) == []


@pytest.mark.parametrize("bad", ["0 10 * *", "0 0 10 * * MON", "61 10 * * *", "0 10 * * MOON"])
def test_bad_cron(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a cron expression"):
        check_cron(bad)


def test_too_many() -> None:
    with pytest.raises(TooManyOccurrences):
        cron_occurrences("* * * * *", at(2027, 1, 1), at(2027, 2, 1), BRUSSELS)
    with pytest.raises(TooManyOccurrences):
        interval_occurrences(
            timedelta(minutes=1), at(2027, 1, 1), datetime(2027, 1, 1, 1), at(2027, 2, 1), BRUSSELS
        )


def test_day_intervals_keep_the_local_time() -> None:
    found = interval_occurrences(
        timedelta(days=2), at(2027, 3, 25, 8), datetime(2027, 3, 25, 9), at(2027, 4, 1), BRUSSELS
    )
    assert [o.utc for o in found] == [at(2027, 3, 25, 8), at(2027, 3, 27, 8), at(2027, 3, 29, 7),
                                      at(2027, 3, 31, 7)]  # fmt: skip


def test_shorter_intervals_count_elapsed_time() -> None:
    found = interval_occurrences(
        timedelta(hours=1),
        at(2027, 3, 28, 0),
        datetime(2027, 3, 28, 1),
        at(2027, 3, 28, 2),
        BRUSSELS,
    )
    assert [o.utc for o in found] == [at(2027, 3, 28, 0), at(2027, 3, 28, 1), at(2027, 3, 28, 2)]
    assert [o.wall.hour for o in found] == [1, 3, 4]
