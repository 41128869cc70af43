"""What each platform refuses, said the platform's way, becomes the same error everywhere:
a rate limit waits for the time the platform gives; revoked credentials hold the channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import AuthFailed, Connector, MediaFile, RetryLater
from connectors.fakes.server import FakePlatform, Made
from tests.connectors.social import post


def test_a_rate_limit_waits_until_the_platform_says(
    fake: FakePlatform, connector: Connector, required: tuple[MediaFile, ...]
) -> None:
    until = datetime.now(UTC) + timedelta(minutes=7)
    method, path = fake.publish_route
    fake.answer(fake.throttle(until), method=method, path=path)
    with pytest.raises(RetryLater) as caught:
        connector.publish(post("Contract: throttled", media=required))
    assert fake.published() == []
    if fake.throttle_tells_time:
        assert caught.value.retry_at is not None
        assert until - timedelta(seconds=2) <= caught.value.retry_at
        assert caught.value.retry_at <= until + timedelta(seconds=61)  # Meta says minutes
    connector.publish(post("Contract: throttled", media=required))
    assert fake.published() == [Made("Contract: throttled", tuple(m.mime for m in required))]


def test_revoked_credentials_fail_authentication(
    fake: FakePlatform, connector: Connector, required: tuple[MediaFile, ...]
) -> None:
    fake.revoke()
    with pytest.raises(AuthFailed):
        connector.publish(post("Contract: revoked", media=required))
    assert fake.published() == []
