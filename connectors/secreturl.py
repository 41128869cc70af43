"""Secrets that travel in a URL, added below everything that logs or reports.

Telegram puts the bot token in the path, a Slack, Discord or Teams webhook address is a
secret as a whole, and Meta's Graph API documents the access token as a query parameter.
httpx logs every request's URL at INFO and keeps it on requests, responses and errors, so
our requests carry a placeholder and the transport completes the URL on its way to the
wire: nothing above the socket ever holds the secret.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import quote

import httpx

from connectors.base import ChannelAccess
from connectors.http import (
    FRESH_CONNECTIONS,
    PreopeningTransport,
    build_client,
    environment_proxy,
    tls_context,
)

Completion = Callable[[httpx.URL], httpx.URL]


class SecretURLTransport(httpx.BaseTransport):
    def __init__(self, complete: Completion, target: httpx.URL) -> None:
        self._complete = complete
        # A client given its own transport no longer mounts the environment's proxies.
        proxy = environment_proxy(target)
        self._inner = (
            PreopeningTransport()
            if proxy is None
            else httpx.HTTPTransport(
                proxy=proxy, trust_env=True, limits=FRESH_CONNECTIONS, verify=tls_context()
            )
        )
        self.preopened = getattr(self._inner, "preopened", None)
        """Where `connectors.http.warm` opens connections ahead (not through a proxy)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        wire = httpx.Request(
            request.method,
            self._complete(request.url),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return self._inner.handle_request(wire)

    def close(self) -> None:
        self._inner.close()


def secret_client(
    config: ChannelAccess,
    default_base_url: str,
    complete: Completion,
    headers: Mapping[str, str] | None = None,
) -> httpx.Client:
    target = httpx.URL(config.base_url or default_base_url)
    return build_client(
        config, default_base_url, headers, transport=SecretURLTransport(complete, target)
    )


def replace_in_path(placeholder: str, secret_path: str) -> Completion:
    """Swap a placeholder part of the path for the secret one (Telegram's `/bot<token>/`)."""
    marker, value = placeholder.encode(), quote(secret_path, safe=":/").encode()

    def complete(url: httpx.URL) -> httpx.URL:
        return url.copy_with(raw_path=url.raw_path.replace(marker, value, 1))

    return complete


def with_query(name: str, secret: str) -> Completion:
    """Add a query parameter (Graph's `access_token`)."""

    def complete(url: httpx.URL) -> httpx.URL:
        return url.copy_merge_params({name: secret})

    return complete
