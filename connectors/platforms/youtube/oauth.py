"""Google's OAuth 2.0 endpoints, as an installed (desktop) app uses them.

A channel keeps a refresh token (from `clarion login`); the connector trades it for an
access token at the token endpoint when it needs one, and again shortly before that one
expires (after about an hour) or when the API refuses it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from connectors.base import AuthFailed, ChannelAccess, PublishError, RetryLater
from connectors.http import json_body, retry_after, send_safe

AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"
SCOPE = "https://www.googleapis.com/auth/youtube.force-ssl"
"""Upload videos, captions and thumbnails, comment, and read the channel: one scope covers
every call Clarion makes (youtube.upload alone does not cover captions or comments)."""
EARLY = 120.0
"""Seconds before its stated expiry that an access token is replaced."""


def endpoints(config: ChannelAccess) -> tuple[str, str]:
    """The authorization and token addresses: Google's, or the channel's base_url (a test
    fake or a proxy) for both."""
    if config.base_url:
        base = config.base_url.rstrip("/")
        return f"{base}/o/oauth2/v2/auth", f"{base}/token"
    return AUTHORIZE_URL, TOKEN_URL


@dataclass(slots=True)
class _Token:
    value: str
    expires: float
    """time.monotonic() after which it is not used."""


class AccessTokens:
    """The channel's current access token, refreshed as needed."""

    def __init__(self, client: httpx.Client, config: ChannelAccess) -> None:
        self._client = client
        self._url = endpoints(config)[1]
        self._form = {
            "grant_type": "refresh_token",
            "client_id": config.credentials["client_id"],
            "client_secret": config.credentials["client_secret"],
            "refresh_token": config.credentials["refresh_token"],
        }
        self._token: _Token | None = None
        self.scope: str | None = None
        """What the last refresh said the token may do."""
        self.issued: list[str] = []
        """Every access token obtained: secrets to redact."""

    def current(self) -> str:
        token = self._token
        if token is None or time.monotonic() >= token.expires:
            token = self._token = self._refresh()
        return token.value

    def forget(self) -> None:
        """The API refused the token: the next call gets a new one."""
        self._token = None

    def _refresh(self) -> _Token:
        request = self._client.build_request("POST", self._url, data=self._form)
        response = send_safe(self._client, request, "Google's sign-in service")
        body = json_body(response)
        body = body if isinstance(body, dict) else {}
        if response.status_code != 200 or not isinstance(body.get("access_token"), str):
            raise token_error(response.status_code, body, response.headers.get("retry-after"))
        self.scope = str(body.get("scope") or "") or None
        value = body["access_token"]
        self.issued.append(value)
        lifetime = body.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) else 3600.0
        return _Token(value, time.monotonic() + max(0.0, seconds - EARLY))


def token_error(status: int, body: dict[str, object], wait: str | None = None) -> PublishError:
    """What an answer of the token endpoint other than a token means."""
    error = str(body.get("error") or f"HTTP {status}")
    said = str(body.get("error_description") or error)
    if status == 429 or status >= 500:
        return RetryLater(
            f"Google's sign-in service answered {status} ({said})",
            retry_at=retry_after(wait),
            status=status,
            code=error,
        )
    if error == "invalid_grant":
        return AuthFailed(
            f"Google no longer accepts the channel's refresh token ({said}): run `clarion "
            "login` for the channel again. A refresh token ends when the account revokes "
            "access, changes its password, or after 7 days while the app's OAuth consent "
            "screen is in Testing (publish the app to keep tokens)",
            status=status,
            code=error,
        )
    if error in ("invalid_client", "unauthorized_client"):
        return AuthFailed(
            f"Google refused the app's client_id or client_secret ({said}): copy both again "
            "from the OAuth client (Desktop app) in the Google Cloud console",
            status=status,
            code=error,
        )
    return AuthFailed(f"Google's sign-in service refused ({status}: {said})", status=status)
