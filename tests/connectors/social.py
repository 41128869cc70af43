"""Helpers shared by the tests of the connectors: posts, media files, connectors built as
config.yaml would build them, a closed port, failures collected, and the secret canary."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest

from connectors.base import (
    ChannelAccess,
    Connector,
    MediaFile,
    PlatformRef,
    Post,
    PublishError,
    RetryLater,
)
from connectors.fakes.server import FakePlatform
from scheduler.logs import QUIET_LOGGERS

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
LOGGERS = ("clarion", *QUIET_LOGGERS)
"""Ours, and the libraries the daemon quiets (a test before may have configured its logging)."""
IMPATIENT = 1.0
"""A connector's time-out in the tests where a platform hangs: a loopback request answered at
once stays well inside it on a machine busy with the rest of the suite."""
HANG = 3.0
"""How long a platform hangs or stalls in those tests: well past IMPATIENT."""

C = TypeVar("C", bound=Connector)


def post(
    text: str = "One week to #SaferInternetDay. #SayNo",
    *,
    key: str = "sayno-2027/countdown/en/chan",
    media: Iterable[MediaFile] = (),
    link: str | None = None,
    reply_to: PlatformRef | None = None,
    thread_root: PlatformRef | None = None,
    language: str | None = "en",
    due: datetime | None = None,
) -> Post:
    return Post(
        key=key,
        text=text,
        due=due or datetime(2027, 2, 2, 8, 0, tzinfo=UTC),
        language=language,
        media=tuple(media),
        link=link,
        reply_to=reply_to,
        thread_root=thread_root,
    )


def images(tmp_path: Path, count: int, mime: str = "image/png") -> list[MediaFile]:
    files = []
    for i in range(count):
        path = tmp_path / f"card-{i}.png"
        path.write_bytes(PNG + bytes([i]))
        files.append(MediaFile(path, f"Card {i}: a hand saying no", mime))
    return files


@dataclass(frozen=True)
class Connectors(Generic[C]):
    """Connectors of one channel, to a fake or to any address: `connector(fake, timeout=IMPATIENT,
    token=..., option=...)` changes what a test needs and keeps the rest."""

    build: Callable[[ChannelAccess], C]
    name: str
    platform: str
    credentials: Mapping[str, str]
    options: Mapping[str, Any] = field(default_factory=dict)

    def __call__(
        self,
        fake: FakePlatform | None = None,
        *,
        base_url: str | None = None,
        token: str | None = None,
        credentials: Mapping[str, str] | None = None,
        account: str | None = None,
        timeout: float = 2.0,
        **options: Any,
    ) -> C:
        """`token` replaces the credential of a platform that has only one."""
        if token is not None:
            [credential] = self.credentials
            credentials = {credential: token}
        return self.build(
            ChannelAccess(
                name=self.name,
                platform=self.platform,
                account=account,
                credentials=dict(self.credentials if credentials is None else credentials),
                base_url=base_url or (fake.base_url if fake else None),
                options={**self.options, **options},
                timeout=timeout,
            )
        )


def closed_port() -> str:
    """A loopback address where nothing listens: the connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def failures(
    connector: Connector, posts: Iterable[Post], kind: type[PublishError] = PublishError
) -> list[PublishError]:
    """Publish each post; each must fail with `kind`. Returns the errors."""
    errors = []
    for sent in posts:
        with pytest.raises(kind) as caught:
            connector.publish(sent)
        errors.append(caught.value)
    return errors


def assert_retries_after(connector: Connector, delay: timedelta) -> RetryLater:
    """Publishing must be put off by `delay`, counted from the attempt."""
    before = datetime.now(UTC)
    with pytest.raises(RetryLater) as caught:
        connector.publish(post())
    assert caught.value.retry_at is not None
    assert before + delay <= caught.value.retry_at
    assert caught.value.retry_at <= datetime.now(UTC) + delay
    return caught.value


def capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)


def assert_secret_absent(
    secret: str,
    caplog: pytest.LogCaptureFixture,
    texts: Iterable[object] = (),
    *,
    requests_logged: str = "HTTP Request",
) -> None:
    """The canary appears nowhere: not in a log record, an error, its reason or its repr.
    The log must hold `requests_logged` (how the HTTP client logs a request), or the test
    would prove nothing."""
    logged = "\n".join(record.getMessage() + repr(record.args) for record in caplog.records)
    assert requests_logged in logged, "no request was logged: the test would prove nothing"
    assert secret not in logged
    for text in texts:
        assert secret not in str(text)
        assert secret not in repr(text)
        assert secret not in str(getattr(text, "reason", ""))
