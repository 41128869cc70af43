"""Trouble on the way, on every platform: what may be retried is retried, what may have gone
out is never sent twice, and what went out is found again."""

from __future__ import annotations

import pytest

from connectors.base import Ambiguous, Connector, MediaFile, PublishError, RetryLater
from connectors.fakes.server import FakePlatform, Fault, Made, Response
from tests.connectors.contract.steps import (
    UNAVAILABLE,
    before_the_post,
    due_now,
    on_the_post,
    sent_before,
    settled,
)
from tests.connectors.social import HANG

GATEWAY = {
    500: "Internal Server Error",
    502: "<html>Bad Gateway</html>",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
"""Server errors as a front end or gateway words them, whatever the platform's own shape."""


def types(media: tuple[MediaFile, ...]) -> tuple[str, ...]:
    return tuple(m.mime for m in media)


def test_an_unreachable_platform_is_only_a_retry(
    fake: FakePlatform, connector: Connector, required: tuple[MediaFile, ...]
) -> None:
    fake.stop()  # its port is closed: nothing can be sent
    with pytest.raises(RetryLater):
        connector.publish(due_now("Contract: unreachable", required))


def test_a_server_closing_idle_connections_never_makes_a_post_ambiguous(
    fake: FakePlatform, connector: Connector, required: tuple[MediaFile, ...]
) -> None:
    """The platform drops each connection after answering, without saying so: the next
    request finds it closed before anything was sent, which is no reason to doubt a post."""
    fake.close_silently = True
    texts = [f"Contract: post {number}" for number in range(5)]
    for number, text in enumerate(texts):
        connector.publish(due_now(text, required, f"contract/idle/en/c/{number}"))
    assert fake.published() == [Made(text, types(required)) for text in texts]


def test_a_time_out_before_the_post_is_only_a_retry(
    fake: FakePlatform, impatient: Connector, uploaded: tuple[MediaFile, ...]
) -> None:
    sent = due_now("Contract: slow upload", uploaded)
    before_the_post(fake, Fault("stall", seconds=HANG))
    try:
        impatient.publish(sent)
    except RetryLater:
        assert fake.published() == []
    else:
        assert not sent_before(fake)
        pytest.skip("every request of this platform's post is the post itself")
    impatient.publish(sent)
    assert fake.published() == [Made("Contract: slow upload", types(uploaded))]


def test_a_server_error_before_the_post_is_only_a_retry(
    fake: FakePlatform, connector: Connector, uploaded: tuple[MediaFile, ...]
) -> None:
    sent = due_now("Contract: upload refused", uploaded)
    before_the_post(fake, Fault("respond", UNAVAILABLE))
    try:
        connector.publish(sent)
    except RetryLater:
        assert fake.published() == []
    else:
        assert not sent_before(fake)
        pytest.skip("every request of this platform's post is the post itself")
    connector.publish(sent)
    assert fake.published() == [Made("Contract: upload refused", types(uploaded))]


@pytest.mark.parametrize("status", list(GATEWAY))
def test_a_server_error_that_made_nothing_leads_to_one_post(
    fake: FakePlatform, connector: Connector, required: tuple[MediaFile, ...], status: int
) -> None:
    """Retried (by the connector itself, where the platform lets it resume) or told."""
    sent = due_now("Contract: unavailable", required)
    on_the_post(fake, Fault("respond", Response(status, GATEWAY[status])))
    try:
        connector.publish(sent)
    except (RetryLater, Ambiguous) as error:
        assert fake.published() == []
        if not isinstance(error, Ambiguous) or settled(connector, sent) is None:
            connector.publish(sent)
    assert fake.published() == [Made("Contract: unavailable", types(required))]


@pytest.mark.parametrize(
    "fault",
    [
        *(Fault("respond_after", Response(status, GATEWAY[status])) for status in GATEWAY),
        Fault("hang_after", seconds=HANG),
    ],
    ids=[*(str(status) for status in GATEWAY), "time-out"],
)
def test_trouble_after_sending_never_makes_a_second_post(
    fake: FakePlatform, impatient: Connector, required: tuple[MediaFile, ...], fault: Fault
) -> None:
    sent = due_now("Contract: sent", required)
    on_the_post(fake, fault)
    capabilities = impatient.capabilities
    repeatable = capabilities.idempotency in ("key", "record-key")
    try:
        impatient.publish(sent)  # a connector may settle it at once (YouTube asks its session)
    except PublishError as error:
        assert isinstance(error, Ambiguous) or (repeatable and isinstance(error, RetryLater)), (
            f"{error!r}: the post went out; only a repeat the platform recognises is safe"
        )
        found = settled(impatient, sent)
        if repeatable or capabilities.lookup:
            assert found is not None, "the post went out: the platform's tools must find it"
    assert fake.published() == [Made("Contract: sent", types(required))]


def test_a_post_published_again_is_recognised(
    fake: FakePlatform, connector: Connector, required: tuple[MediaFile, ...]
) -> None:
    sent = due_now("Contract: once", required)
    first = connector.publish(sent)
    found = settled(connector, sent)
    capabilities = connector.capabilities
    if capabilities.idempotency in ("key", "record-key") or capabilities.lookup:
        assert found == first.ref.id
    assert fake.published() == [Made("Contract: once", types(required))]
