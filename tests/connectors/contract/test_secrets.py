"""No secret of a channel reaches a log or an error, on any platform, even when the platform
quotes the credentials it received in every error answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import Connector, MediaFile, Post, PublishError
from connectors.fakes.server import FakePlatform, Fault, Response
from connectors.registry import create
from tests.connectors.contract.steps import due_now, on_the_post
from tests.connectors.social import HANG, IMPATIENT, assert_secret_absent, capture_everything


def test_no_secret_in_logs_or_errors(
    fake: FakePlatform, required: tuple[MediaFile, ...], caplog: pytest.LogCaptureFixture
) -> None:
    capture_everything(caplog)
    fake.echo_credentials = True
    connector: Connector = create(replace(fake.channel(), timeout=IMPATIENT))
    said: list[object] = [connector.publish(due_now("Contract: ok", required, "c/ok/en/c"))]
    faults = [
        Fault("respond", fake.throttle(datetime.now(UTC) + timedelta(minutes=1))),
        Fault("respond", Response(500, "Internal Server Error")),
        Fault("respond", Response(400, "Bad Request")),
        Fault("hang_after", seconds=HANG),
    ]
    for number, fault in enumerate(faults):
        on_the_post(fake, fault)
        said += failures(connector, due_now(f"Contract: {number}", required, f"c/{number}/en/c"))
    said.append(connector.check())
    fake.revoke()
    said += failures(connector, due_now("Contract: revoked", required, "c/revoked/en/c"))
    said.append(connector.check())
    for secret in connector.secrets():
        assert_secret_absent(secret, caplog, said, requests_logged="127.0.0.1")
    connector.close()


def failures(connector: Connector, sent: Post) -> list[object]:
    try:
        connector.publish(sent)
    except PublishError as error:
        return [error]
    return []
