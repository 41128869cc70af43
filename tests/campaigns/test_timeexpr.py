from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from campaigns.problems import HintedError
from campaigns.timeexpr import TimeExpr, parse_time, resolve

from .plan_helpers import at

ANCHORS = {"sid": date(2027, 2, 9), "start": datetime(2027, 1, 1, 12, 0, tzinfo=UTC)}


def utc(text: str, zone: str = "Europe/Brussels", *, end: bool = False) -> datetime:
    return resolve(parse_time(text), ANCHORS, zone, end=end).utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-02-09 09:00", at(2027, 2, 9, 8)),
        ("2027-02-09T09:00", at(2027, 2, 9, 8)),
        ("2027-2-9 9:00", at(2027, 2, 9, 8)),
        ("2027-02-09 09:00:30", at(2027, 2, 9, 8, 0, 30)),
        ("2027-02-09T09:00+01:00", at(2027, 2, 9, 8)),
        ("2027-02-09T09:00-0330", at(2027, 2, 9, 12, 30)),
        ("2027-02-09T08:00Z", at(2027, 2, 9, 8)),
        ("2027-02-09 09:00 Europe/Helsinki", at(2027, 2, 9, 7)),
        ("sid 12:00", at(2027, 2, 9, 11)),
        ("sid - 7d 09:00", at(2027, 2, 2, 8)),
        ("sid-7d 09:00", at(2027, 2, 2, 8)),
        ("sid + 1d 18:30 Europe/Helsinki", at(2027, 2, 10, 16, 30)),
        ("sid - 1w 2d 10:00", at(2027, 1, 31, 9)),
        ("sid + 9h", at(2027, 2, 9, 8)),
        ("sid - 28d", at(2027, 1, 11, 23)),
        ("start + 5s", at(2027, 1, 1, 12, 0, 5)),
        ("start + 1d 09:00", at(2027, 1, 2, 8)),
        ("  sid   12:00  ", at(2027, 2, 9, 11)),
    ],
)
def test_resolve(text: str, expected: datetime) -> None:
    assert utc(text) == expected


def test_a_day_alone_ends_at_the_end_of_that_day_for_until() -> None:
    assert utc("sid", end=True) == at(2027, 2, 9, 23) - timedelta(microseconds=1)
    assert utc("sid + 14d", "Europe/Helsinki", end=True) == at(2027, 2, 23, 22) - timedelta(
        microseconds=1
    )
    assert utc("sid 10:00", end=True) == at(2027, 2, 9, 9)


def test_wall_clock_is_read_in_the_given_zone_unless_the_expression_names_one() -> None:
    assert utc("sid 09:00", "Europe/Dublin") == at(2027, 2, 9, 9)
    assert utc("sid 09:00", "Europe/Helsinki") == at(2027, 2, 9, 7)
    fixed = parse_time("sid 15:00 Europe/Brussels")
    assert fixed.fixed and not parse_time("sid 15:00").fixed
    assert utc("sid 15:00 Europe/Brussels", "Europe/Dublin") == at(2027, 2, 9, 14)
    assert utc("2027-02-09T08:00Z", "Asia/Tokyo") == at(2027, 2, 9, 8)


def test_days_keep_the_local_time_across_dst() -> None:
    assert utc("2027-03-29 09:00 Europe/Brussels") == at(2027, 3, 29, 7)
    assert resolve(parse_time("sid + 48d 09:00"), ANCHORS, "Europe/Brussels").utc == at(
        2027, 3, 29, 7
    )


def test_parts() -> None:
    expr = parse_time("sid - 1w 2d 10:00 Europe/Paris")
    assert expr == TimeExpr(
        "sid - 1w 2d 10:00 Europe/Paris",
        None,
        "sid",
        -9,
        timedelta(),
        time(10),
        None,
        "Europe/Paris",
    )
    assert parse_time("sid - 28d").day_only
    assert not parse_time("start + 5s").day_only


@pytest.mark.parametrize(
    ("zone", "gap", "moved", "fold"),
    [
        ("Europe/Brussels", "2027-03-28 02:30", at(2027, 3, 28, 1, 30), "2027-10-31 02:30"),
        ("Europe/Helsinki", "2027-03-28 03:30", at(2027, 3, 28, 1, 30), "2027-10-31 03:30"),
    ],
)
def test_dst_gap_moves_forward_and_fold_takes_the_first(
    zone: str, gap: str, moved: datetime, fold: str
) -> None:
    skipped = resolve(parse_time(gap), ANCHORS, zone)
    assert skipped.utc == moved
    assert skipped.note is not None
    assert "does not exist" in skipped.note and "moved to" in skipped.note
    twice = resolve(parse_time(fold), ANCHORS, zone)
    assert twice.utc == at(2027, 10, 31, 0, 30)  # still summer time: the first of the two
    assert twice.note is not None and "happens twice" in twice.note
    assert resolve(parse_time("2027-03-28 12:00"), ANCHORS, zone).note is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("09:00", "is not a time"),
        ("", "is not a time"),
        ("sid 25:00", "not a time of day"),
        ("sid 12:61", "not a time of day"),
        ("2027-02-30 09:00", "not a date"),
        ("sid 09:00 Europe/Pari", "unknown time zone 'Europe/Pari'"),
        ("sid 09:00 localtime", "unknown time zone"),
        ("2027-02-09T09:00+01:00 Europe/Paris", "both an offset and a time zone"),
        ("sid + 2h 10:00", "also gives a time of day"),
        ("2027-02-09T09:00+15:00", "not a UTC offset"),
        ("sid + 7x 10:00", "is not a time"),
        ("sid +", "is not a time"),
    ],
)
def test_bad_expressions(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_time(text)


def test_zone_suggestions_are_in_the_hint() -> None:
    with pytest.raises(HintedError) as caught:
        parse_time("sid 09:00 Europe/Brusels")
    assert caught.value.message == "unknown time zone 'Europe/Brusels'"
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("did you mean 'Europe/Brussels'")


def test_out_of_range() -> None:
    with pytest.raises(ValueError, match="too far"):
        utc("0001-01-01 00:00")
    with pytest.raises(ValueError, match="too far"):
        utc("sid + 999999d")


def test_unknown_anchor_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        utc("launch 09:00")
