from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import ChannelAccess, SendRefused, send_guard
from connectors.fakes.server import FakeServer
from connectors.http import build_client, epoch_reset, iso_reset, retry_after

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


def _refused_at(check: int) -> Callable[[], None]:
    """A guard that refuses at its `check`-th call."""
    calls: list[int] = []

    def guard() -> None:
        calls.append(1)
        if len(calls) == check:
            raise SendRefused("the claim ran out")

    return guard


@pytest.mark.parametrize("check", [1, 2])
def test_a_refused_request_never_reaches_the_platform(check: int) -> None:
    """Checked before the request is handed to the transport, and again once its connection
    is made, as its first bytes are about to be written."""
    with FakeServer() as fake, build_client(ChannelAccess("c", "x"), fake.base_url) as client:
        with send_guard(_refused_at(check)), pytest.raises(SendRefused):
            client.get("/anything")
        assert fake.requests == []
        with send_guard(lambda: None):
            assert client.get("/anything").status_code == 404
        assert len(fake.requests) == 1
