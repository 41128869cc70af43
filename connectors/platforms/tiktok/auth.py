"""TikTok's user access tokens: they last 24 hours; the refresh token that renews them lasts
a year, and each renewal may hand back a new one.

The channel's credentials give the app's client key and secret and the refresh token that
`clarion login` obtained. The connector renews the access token itself, when it has none, when
it is about to expire, and when TikTok refuses it. Renewed tokens are kept in a token file
(`options.token_file`, by default beside the channel's other state under state_dir): readable
only by its owner, replaced atomically, under a lock every clarion process shares. The file
remembers which configured refresh token it descends from, so that a new `clarion login`
(a new refresh token in config.yaml's variable) starts again from that one.
"""

from __future__ import annotations

import hashlib
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from connectors.base import AuthFailed, RetryLater
from connectors.http import json_body, send_safe
from connectors.statefile import locked, read_json, write_json

TOKEN_PATH = "/v2/oauth/token/"
EARLY = timedelta(minutes=5)
"""Renew this long before the access token expires, so that no request meets its end."""


def token_request(client: httpx.Client, form: dict[str, str], action: str) -> dict[str, Any]:
    """POST to TikTok's token endpoint; its answer when it holds an access token."""
    request = client.build_request("POST", TOKEN_PATH, data=form)
    response = send_safe(client, request, "TikTok")
    body = json_body(response)
    found = body if isinstance(body, dict) else {}
    if response.status_code == 429 or response.status_code >= 500:
        raise RetryLater(
            f"TikTok could not {action} now ({response.status_code})",
            status=response.status_code,
        )
    if not isinstance(found.get("access_token"), str):
        code = found.get("error") if isinstance(found.get("error"), str) else None
        words = found.get("error_description") or code or response.status_code
        raise AuthFailed(
            f"TikTok refused to {action} ({words}): run `clarion login` for the channel again",
            status=response.status_code,
            code=code,
        )
    return found


class Tokens:
    def __init__(self, credentials: dict[str, str], file: Path | None) -> None:
        self.client_key = credentials["client_key"]
        self.client_secret = credentials["client_secret"]
        self.refresh_token = credentials["refresh_token"]
        self.origin = hashlib.sha256(self.refresh_token.encode()).hexdigest()[:16]
        self.access_token: str | None = None
        self.expires_at = datetime(2000, 1, 1, tzinfo=UTC)
        self.file = file
        self._load()

    def secrets(self) -> list[str]:
        """Tokens obtained since the channel's credentials were read."""
        return [self.access_token or "", self.refresh_token]

    def bearer(self, client: httpx.Client) -> str:
        if self.access_token is None or datetime.now(UTC) >= self.expires_at - EARLY:
            self.renew(client, failed=self.access_token)
        assert self.access_token is not None
        return self.access_token

    def renew(self, client: httpx.Client, *, failed: str | None) -> None:
        """A fresh access token, unless another process renewed the failed one meanwhile."""
        with self._lock():
            self._load()
            fresh = datetime.now(UTC) < self.expires_at - EARLY
            if self.access_token and self.access_token != failed and fresh:
                return
            answer = token_request(
                client,
                {
                    "client_key": self.client_key,
                    "client_secret": self.client_secret,
                    "grant_type": "refresh_token",
                    "refresh_token": self.refresh_token,
                },
                "renew the access token",
            )
            self.access_token = str(answer["access_token"])
            self.expires_at = datetime.now(UTC) + timedelta(seconds=_seconds(answer, "expires_in"))
            self.refresh_token = str(answer.get("refresh_token") or self.refresh_token)
            self._save()

    def _load(self) -> None:
        if self.file is None:
            return
        data = read_json(self.file)
        if data.get("origin") != self.origin:
            return  # none yet, or from before the last `clarion login`
        self.access_token = str(data["access_token"])
        self.refresh_token = str(data["refresh_token"])
        self.expires_at = datetime.fromisoformat(str(data["expires_at"]))

    def _save(self) -> None:
        if self.file is None:
            return
        try:
            write_json(
                self.file,
                {
                    "origin": self.origin,
                    "access_token": self.access_token,
                    "expires_at": self.expires_at.isoformat(),
                    "refresh_token": self.refresh_token,
                },
            )
        except OSError as error:
            raise RetryLater(
                f"cannot keep TikTok's renewed tokens in {self.file}: {error.strerror}"
            ) from None

    def _lock(self) -> AbstractContextManager[None]:
        return locked(self.file) if self.file else nullcontext()


def _seconds(answer: dict[str, Any], name: str) -> int:
    value = answer.get(name)
    return value if isinstance(value, int) and value > 0 else 3600
