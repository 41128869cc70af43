"""Whom X requests speak for: OAuth 1.0a user keys, or an OAuth 2.0 user access token.

OAuth 1.0a user tokens never expire. OAuth 2.0 user tokens last two hours; given a refresh
token and the app's client id, the connector trades them for a new pair when X answers 401.
X's refresh tokens are single-use, so the new pair has to outlive the process: with
`options.token_file` it is written there (mode 0600, replaced atomically, under a lock that
every clarion process on the machine shares) and read back on start; without it the pair
lives in memory only, and the refresh token in config.yaml is spent by the first refresh.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, Protocol

import requests
import tweepy

from connectors.base import AuthFailed, ChannelAccess, RetryLater
from connectors.statefile import locked, read_json, write_json

OAUTH1_NAMES = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


class UserAuth(Protocol):
    def requests_auth(self) -> requests.auth.AuthBase: ...

    def refresh(self, session: requests.Session, base_url: str, timeout: float) -> bool:
        """New credentials after a 401; False when there is no way to get them."""

    def secrets(self) -> list[str]:
        """Tokens obtained since the channel's credentials were read."""


class OAuth1:
    def __init__(self, credentials: Mapping[str, str]) -> None:
        ck, cs, token, secret = (credentials[name] for name in OAUTH1_NAMES)
        self._auth: requests.auth.AuthBase = tweepy.OAuth1UserHandler(
            ck, cs, token, secret
        ).apply_auth()

    def requests_auth(self) -> requests.auth.AuthBase:
        return self._auth

    def refresh(self, session: requests.Session, base_url: str, timeout: float) -> bool:
        return False

    def secrets(self) -> list[str]:
        return []


class OAuth2:
    def __init__(self, credentials: Mapping[str, str], token_file: Path | None) -> None:
        self.access_token = credentials["oauth2_access_token"]
        self.refresh_token = credentials.get("oauth2_refresh_token") or None
        self.client_id = credentials.get("oauth2_client_id") or None
        self.client_secret = credentials.get("oauth2_client_secret") or None
        self.token_file = token_file
        self._load()

    def requests_auth(self) -> requests.auth.AuthBase:
        auth: requests.auth.AuthBase = tweepy.OAuth2BearerHandler(self.access_token)
        return auth

    def secrets(self) -> list[str]:
        found = [self.access_token, self.refresh_token or ""]
        if self.client_secret:  # the token exchange sends it as HTTP basic authentication
            found.append(
                base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            )
        return found

    def refresh(self, session: requests.Session, base_url: str, timeout: float) -> bool:
        if not (self.refresh_token and self.client_id):
            return False
        with self._lock():
            failed = self.access_token
            self._load()
            if self.access_token != failed:
                return True  # another clarion process refreshed first
            self._exchange(session, base_url, timeout)
            self._save()
        return True

    def _exchange(self, session: requests.Session, base_url: str, timeout: float) -> None:
        assert self.refresh_token and self.client_id
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.refresh_token,
            "client_id": self.client_id,
        }
        basic = (self.client_id, self.client_secret) if self.client_secret else None
        try:
            response = session.post(
                f"{base_url}/2/oauth2/token", data=form, auth=basic, timeout=timeout
            )
        except requests.RequestException as exc:
            raise RetryLater(
                f"could not reach X to refresh the OAuth 2.0 token: {type(exc).__name__}"
            ) from None
        status = response.status_code
        if status == 429 or status >= 500:
            raise RetryLater(
                f"X could not refresh the OAuth 2.0 token now ({status})", status=status
            )
        body = json_object(response)
        if status != 200 or not isinstance(body.get("access_token"), str):
            code = body.get("error") if isinstance(body.get("error"), str) else None
            raise AuthFailed(
                f"X refused the OAuth 2.0 refresh token ({status}{', ' + code if code else ''}): "
                "authorize the app again and update the channel's credentials",
                status=status,
                code=code,
            )
        self.access_token = body["access_token"]
        self.refresh_token = body.get("refresh_token") or self.refresh_token

    def _load(self) -> None:
        if self.token_file is None:
            return
        try:
            data = read_json(self.token_file)
            if not data:
                return
            self.access_token = str(data["oauth2_access_token"])
            self.refresh_token = data.get("oauth2_refresh_token") or self.refresh_token
        except (ValueError, KeyError):
            raise ValueError(
                f"{self.token_file} is not a token file that clarion wrote: remove it to start "
                "again from the credentials in config.yaml"
            ) from None

    def _save(self) -> None:
        if self.token_file is not None:
            data = {
                "oauth2_access_token": self.access_token,
                "oauth2_refresh_token": self.refresh_token,
            }
            write_json(self.token_file, data)

    def _lock(self) -> AbstractContextManager[None]:
        return locked(self.token_file) if self.token_file else nullcontext()


def json_object(response: requests.Response) -> dict[str, Any]:
    """The response's JSON object, or {} when its body is anything else."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def user_auth(config: ChannelAccess) -> UserAuth:
    """The channel's credentials: OAuth 1.0a when all four keys are given, else OAuth 2.0."""
    credentials = config.credentials
    if all(credentials.get(name) for name in OAUTH1_NAMES):
        return OAuth1(credentials)
    if credentials.get("oauth2_access_token"):
        token_file = config.options.get("token_file")
        return OAuth2(credentials, Path(token_file).expanduser() if token_file else None)
    raise ValueError(
        "x needs the credentials consumer_key, consumer_secret, access_token and "
        "access_token_secret (OAuth 1.0a), or oauth2_access_token (OAuth 2.0)"
    )
