"""Structured logs: text and JSON lines with the delivery's fields, and no secret anywhere in
them, whichever library logs it (docs/design.md rule 8)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from connectors.platforms.telegram.fake import TelegramFake
from connectors.redaction import REDACTED
from scheduler.config import LogSettings
from scheduler.logs import Redactor, configure, delivery_fields

CANARY = "987654321:CANARY-secret/with+symbols&more"
KEY = "sayno-2027/tips/fr/x-main/2"


@pytest.fixture
def logs() -> Iterator[tuple[io.StringIO, Redactor]]:
    """Our root handler writing JSON to a buffer, with the canary known as a secret."""
    stream = io.StringIO()
    redactor = Redactor()
    redactor.add([CANARY, ""])
    handler = configure(LogSettings(format="json", level="debug"), redactor, stream)
    yield stream, redactor
    logging.getLogger().removeHandler(handler)


def records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


def test_delivery_fields_come_from_the_key() -> None:
    assert delivery_fields(KEY) == {"key": KEY, "campaign": "sayno-2027", "channel": "x-main"}
    assert delivery_fields("odd") == {"key": "odd", "campaign": "odd"}


def test_json_lines_carry_the_delivery_fields(logs: tuple[io.StringIO, Redactor]) -> None:
    stream, _ = logs
    logging.getLogger("clarion.test").info(
        "sent: %s", "https://x.com/1", extra=delivery_fields(KEY)
    )
    [line] = records(stream)
    assert line["message"] == "sent: https://x.com/1"
    assert (line["key"], line["campaign"], line["channel"]) == (KEY, "sayno-2027", "x-main")
    assert line["level"] == "info" and str(line["ts"]).endswith("Z")


def test_text_lines_carry_the_delivery_fields() -> None:
    stream = io.StringIO()
    handler = configure(LogSettings(format="text"), Redactor(), stream)
    try:
        logging.getLogger("clarion.test").warning("late", extra={"note": "two words", "key": KEY})
    finally:
        logging.getLogger().removeHandler(handler)
    line = stream.getvalue().strip()
    assert line.endswith(f'WARNING clarion.test: late note="two words" key={KEY}')


def test_configure_replaces_its_own_handler_only() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    first = configure(LogSettings(), Redactor(), io.StringIO())
    second = configure(LogSettings(), Redactor(), io.StringIO())
    try:
        assert first not in root.handlers and second in root.handlers
        assert [h for h in root.handlers if h is not second] == before
    finally:
        root.removeHandler(second)


def test_secrets_are_redacted_everywhere_in_a_record(logs: tuple[io.StringIO, Redactor]) -> None:
    stream, redactor = logs
    log = logging.getLogger("clarion.test")
    log.error("token %s in an argument", CANARY)
    log.error(f"token {CANARY} in the message")
    log.error("in a field", extra={"url": f"https://api.telegram.org/bot{CANARY}/getMe"})
    log.error("url-encoded: %s", httpx.URL("https://h/x", params={"t": CANARY}))
    try:
        raise RuntimeError(f"failed with {CANARY}")
    except RuntimeError:
        log.exception("and in a traceback")
    log.error("bad arguments %s %s", CANARY)  # one argument short: still logged, redacted
    text = stream.getvalue()
    assert CANARY not in text
    assert "CANARY-secret" not in text
    assert text.count(REDACTED) >= 6
    assert redactor.redact(f"a{CANARY}b") == f"a{REDACTED}b"


def test_httpx_request_lines_are_redacted(logs: tuple[io.StringIO, Redactor]) -> None:
    """Telegram puts the bot token in the URL path; httpx logs every URL at INFO/DEBUG."""
    stream, _ = logs
    fake = TelegramFake(token=CANARY)
    with fake, httpx.Client(base_url=fake.base_url) as client:
        client.post(f"/bot{CANARY}/getMe")
    text = stream.getvalue()
    assert "HTTP Request: POST" in text
    assert "CANARY-secret" not in text


WEBHOOK = "https://hooks.slack.com/services/T0CANARY/B0CANARY/CANARYhookSecret42"
LIBRARIES = [
    *("httpx", "httpcore.http11", "tweepy.client", "urllib3.connectionpool", "oauthlib"),
    *("requests_oauthlib", "apscheduler.scheduler", "some.library.nobody.configured"),
]


@pytest.mark.parametrize("name", LIBRARIES)
def test_every_library_record_passes_the_redactor_at_debug_level(name: str) -> None:
    """The filter sits on the handler, so a library's logger needs nothing of ours; a
    webhook address is matched as a whole and by its secret path and token alone, as a
    redirect's Location header (logged by httpcore) or a bare token may show them."""
    stream = io.StringIO()
    redactor = Redactor()
    redactor.add([WEBHOOK])
    handler = configure(LogSettings(format="text", level="debug"), redactor, stream)
    try:
        log = logging.getLogger(name)
        log.debug(
            "receive_response_headers.complete return_value=%r",
            (b"HTTP/1.1", 307, [(b"Location", b"/services/T0CANARY/B0CANARY/CANARYhookSecret42")]),
        )
        log.debug("token alone: %s; url: %s", "CANARYhookSecret42", WEBHOOK)
        log.debug("json-escaped: %s", json.dumps({"url": WEBHOOK.replace("/", "\\/")}))
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert text.count(name) == 3
    assert "CANARYhookSecret42" not in text and "B0CANARY" not in text
    assert "services" in text  # a plain word of the path is no secret
