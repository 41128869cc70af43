"""What every HTTP connector shares: the client, transport failures and rate-limit headers."""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any

import httpx

from connectors.base import Ambiguous, ChannelAccess, PublishError, RetryLater, before_sending
from connectors.settings import base_url_problem

USER_AGENT = "clarion (+https://github.com/clarion-campaigns/clarion)"
FRESH_CONNECTIONS = httpx.Limits(max_keepalive_connections=0)
"""Every request on a new connection. A server may close an idle kept-alive connection at
any moment without saying so; a post sent on it just then fails as if it might have gone out
(ambiguous). Clarion sends a few requests a minute, so reuse saves nothing worth that."""


@cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client: building one reads the CA bundle (about 20 ms), which
    50 channels would otherwise pay 50 times at start-up."""
    return httpx.create_ssl_context()


def build_client(
    config: ChannelAccess,
    default_base_url: str,
    headers: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    base = (config.base_url or default_base_url).rstrip("/")
    problem = base_url_problem(base)
    if problem:
        raise ValueError(problem)
    return httpx.Client(
        base_url=base,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        timeout=httpx.Timeout(config.timeout, connect=min(10.0, config.timeout)),
        follow_redirects=False,
        limits=FRESH_CONNECTIONS,
        transport=transport,
        verify=tls_context(),
        event_hooks={"request": [_before_sending]},
    )


_HEADERS_LEAVE = ("http11.send_request_headers.started", "http2.send_request_headers.started")


def _before_sending(request: httpx.Request) -> None:
    """Before a request leaves, the scheduler may refuse it (SendRefused): here, and once
    more after the connection is made (which may take a while), as its first bytes are about
    to be written (httpcore's trace extension)."""
    before_sending()
    earlier = request.extensions.get("trace")

    def trace(event: str, info: dict[str, Any]) -> None:
        if event in _HEADERS_LEAVE:
            before_sending()
        if earlier is not None:
            earlier(event, info)

    request.extensions["trace"] = trace


def send(client: httpx.Client, request: httpx.Request, platform: str) -> httpx.Response:
    """Send a request that creates something, classifying transport failures.

    A failure before any byte left (no connection) is safe to retry; anything later may have
    reached the platform, so it is ambiguous. Reasons never quote the URL, which can hold a
    secret (Telegram puts the bot token in the path).
    """
    try:
        return client.send(request)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise RetryLater(f"could not reach {platform}: {type(exc).__name__}") from None
    except httpx.HTTPError as exc:
        raise Ambiguous(
            f"{type(exc).__name__} after sending to {platform}: the post may have gone out"
        ) from None


def send_safe(client: httpx.Client, request: httpx.Request, platform: str) -> httpx.Response:
    """Send a request that cannot make anything public: a read, an upload, an unpublished
    photo, a Threads container. Whatever happens in transit, trying again cannot publish
    twice, so every transport failure is a RetryLater."""
    try:
        return client.send(request)
    except httpx.HTTPError as exc:
        raise RetryLater(
            f"{type(exc).__name__} from {platform} before anything was published"
        ) from None


def server_error(
    reason: str, *, harmless: bool, retry_at: datetime | None = None, **kw: Any
) -> PublishError:
    """What a 5xx answer means. The request arrived: the platform, or a gateway in front of
    it, may have made the post before failing (a 504 after a slow write, a 500 after the
    commit), so for a request that creates a post it is ambiguous. It is tried again only
    where that is `harmless`: the request cannot make anything public (a read, an upload),
    the platform recognises a repeat (a record key), or its documentation says this answer
    means nothing was done."""
    if harmless:
        return RetryLater(reason, retry_at=retry_at, **kw)
    return Ambiguous(f"{reason}; a server error does not say whether the post was made", **kw)


EPOCH_FLOOR = 1_000_000_000
"""Unix seconds in 2001: a smaller reset can only be a delay in seconds."""


def epoch_reset(value: str | None, now: datetime | None = None) -> datetime | None:
    """A reset time given as Unix seconds (X, Bluesky). A small number is read as seconds from
    now, as the IETF RateLimit header draft writes it, rather than as a moment in 1970."""
    if not value:
        return None
    try:
        seconds = float(value)
        if 0 <= seconds < EPOCH_FLOOR:
            return (now or datetime.now(UTC)) + timedelta(seconds=seconds)
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def iso_reset(value: str | None) -> datetime | None:
    """A reset time given as ISO 8601 (Mastodon: `2026-08-01T15:00:00.754511Z`)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def retry_after(value: str | None, now: datetime | None = None) -> datetime | None:
    """A `Retry-After` header: delay seconds or an HTTP date."""
    if not value:
        return None
    now = now or datetime.now(UTC)
    if re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        return now + timedelta(seconds=float(value))
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def json_body(response: httpx.Response) -> Any:
    """The response's JSON, or None when it has none (HTML error pages from proxies)."""
    try:
        return response.json()
    except ValueError:
        return None
