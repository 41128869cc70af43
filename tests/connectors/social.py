"""Helpers shared by the tests of the Telegram, LinkedIn, Facebook, Threads and webhook
connectors: posts, media files, a closed port, and the secret canary."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import MediaFile, PlatformRef, Post

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
LOGGERS = ("httpx", "httpcore", "connectors")


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


def closed_port() -> str:
    """A loopback address where nothing listens: the connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)


def assert_secret_absent(
    secret: str, caplog: pytest.LogCaptureFixture, texts: Iterable[object] = ()
) -> None:
    """The canary appears nowhere: not in a log record, an error, its reason or its repr."""
    logged = "\n".join(record.getMessage() + repr(record.args) for record in caplog.records)
    assert "HTTP Request" in logged, "httpx logged nothing: the test would prove nothing"
    assert secret not in logged
    for text in texts:
        assert secret not in str(text)
        assert secret not in repr(text)
        assert secret not in str(getattr(text, "reason", ""))
