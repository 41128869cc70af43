from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.http import epoch_reset, iso_reset, retry_after

NOW = datetime(2027, 2, 9, 8, 0, tzinfo=UTC)


def test_a_reset_in_unix_seconds_is_that_moment() -> None:
    assert epoch_reset("1801123200") == datetime(2027, 1, 28, 8, 0, tzinfo=UTC)
    assert epoch_reset("1801123200.5") == datetime(2027, 1, 28, 8, 0, 0, 500000, tzinfo=UTC)


def test_a_small_reset_is_seconds_from_now() -> None:
    """The IETF RateLimit draft writes the reset as a delay; never read it as 1970."""
    assert epoch_reset("30", NOW) == NOW + timedelta(seconds=30)
    assert epoch_reset("0", NOW) == NOW


@pytest.mark.parametrize("value", [None, "", "soon", "-5e400", "1e400"])
def test_an_unreadable_reset_is_none(value: str | None) -> None:
    assert epoch_reset(value) is None


def test_iso_and_retry_after_forms() -> None:
    assert iso_reset("2027-02-09T08:00:00.754511Z") == NOW.replace(microsecond=754511)
    assert retry_after("120", NOW) == NOW + timedelta(minutes=2)
    assert retry_after("Tue, 09 Feb 2027 08:00:00 GMT", NOW) == NOW
