"""What every HTTP connector shares: the client, transport failures and rate-limit headers."""

from __future__ import annotations

import contextlib
import re
import ssl
import weakref
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any
from urllib.request import getproxies, proxy_bypass

import httpcore
import httpx

from connectors.base import Ambiguous, ChannelAccess, PublishError, RetryLater, before_sending
from connectors.preopened import Preopened, keep
from connectors.settings import base_url_problem

USER_AGENT = "clarion (+https://github.com/clarion-campaigns/clarion)"
KEEP_ALIVE = 2.0
"""Seconds a channel's connection is kept idle after a request, for its next one (a burst of
posts, a thread's parts, an upload and its post), if the server said it keeps it
(`Connection: keep-alive`, as nginx, Apache and Node.js answer), and at most half the idle
time it announced (`Keep-Alive: timeout=5`). A server may close an idle connection without
saying so, and a post sent on it just then fails as if it might have gone out (ambiguous):
servers keep idle connections 5 s (Apache, Node.js) to minutes, so one kept at most 2 s is
almost never closed under a request. A connection whose server did not say it keeps it is not
used again: a server may close each connection right after its answer, and the next request
would meet that close in flight. A connection the server did close is seen before the request
(`connectors.preopened`), and a first write that fails sends the request on a new connection:
nothing of it left."""

FRESH_CONNECTIONS = httpx.Limits(max_keepalive_connections=0)
"""Through a proxy (httpx's own transport), every request on a new connection: there a first
write that fails cannot be told from a request that left, so a connection the server closed
while kept would make a post ambiguous."""


@cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client: building one reads the CA bundle (about 20 ms), which
    50 channels would otherwise pay 50 times at start-up. httpx reads certifi's CA bundle, or
    the one SSL_CERT_FILE (or the folder SSL_CERT_DIR) names: see docs/operations.md for a
    private CA."""
    return httpx.create_ssl_context()


class PreopeningTransport(httpx.HTTPTransport):
    """httpx's transport, whose connections may be opened ahead (`warm`) and are kept
    `KEEP_ALIVE` seconds between requests.

    httpx 0.28 takes no network backend (encode/httpx#3749 adds one), so its connection pool
    is made again, as httpx makes it, with one."""

    def __init__(self) -> None:
        super().__init__(verify=tls_context(), limits=FRESH_CONNECTIONS)
        self.preopened = Preopened()
        self._pool = httpcore.ConnectionPool(
            ssl_context=tls_context(),
            max_connections=FRESH_CONNECTIONS.max_connections,
            keepalive_expiry=KEEP_ALIVE,
            network_backend=self.preopened,
        )

    def close(self) -> None:
        super().close()
        self.preopened.close()


_PREOPENED: weakref.WeakKeyDictionary[httpx.Client, Preopened] = weakref.WeakKeyDictionary()


def environment_proxy(url: httpx.URL) -> str | None:
    """The proxy that HTTPS_PROXY, ALL_PROXY and NO_PROXY choose for this address."""
    if not url.host or proxy_bypass(url.host):
        return None
    proxies = getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if not proxy:
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def warm(client: httpx.Client) -> None:
    """Open the connection the client's next request to its base URL will use, so that the
    TCP and TLS handshakes are done before it is sent. A failure is left to that request,
    which connects again and meets it (a client made with a transport of its own, a test's,
    opens nothing)."""
    preopened = _PREOPENED.get(client)
    if preopened is None:
        return
    url, timeout = client.base_url, client.timeout.connect
    with contextlib.suppress(httpcore.ConnectError, httpcore.ConnectTimeout):
        preopened.open(url.scheme, url.raw_host.decode("ascii"), url.port, tls_context(), timeout)


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
    if transport is None and environment_proxy(httpx.URL(base)) is None:
        # Through a proxy, httpx's own transports (the client mounts the environment's).
        transport = PreopeningTransport()
    client = httpx.Client(
        base_url=base,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        timeout=httpx.Timeout(config.timeout, connect=min(10.0, config.timeout)),
        follow_redirects=False,
        limits=FRESH_CONNECTIONS,
        transport=transport,
        verify=tls_context(),
        event_hooks={"request": [_before_sending], "response": [_kept]},
    )
    preopened = getattr(transport, "preopened", None)
    if isinstance(preopened, Preopened):
        _PREOPENED[client] = preopened
    return client


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


_ANNOUNCED_TIMEOUT = re.compile(r"(?:^|[,;\s])timeout\s*=\s*(\d+)", re.IGNORECASE)


def _kept(response: httpx.Response) -> None:
    """Keep the response's connection for the next request if the server said it keeps it
    (`KEEP_ALIVE`)."""
    said = {token.strip().lower() for token in response.headers.get("connection", "").split(",")}
    if "keep-alive" not in said:
        return
    seconds = KEEP_ALIVE
    announced = _ANNOUNCED_TIMEOUT.search(response.headers.get("keep-alive", ""))
    if announced is not None:
        seconds = min(seconds, int(announced.group(1)) / 2)
    keep(response.extensions.get("network_stream"), seconds)


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
