"""Who may act: operators log in with a name and a password from config.yaml's references;
a signed session cookie (HttpOnly, SameSite=Strict, Secure when the request came over TLS)
remembers them, and every change carries the session's CSRF token. Failed sign-ins slow the
next ones down, per name and per address; the key that signs the cookies is kept in the
state folder, so that operators stay signed in when `clarion serve` or the daemon restarts."""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from flask import Flask, Request, abort, request, session
from flask.sessions import SecureCookieSessionInterface

CSRF_FIELD = "csrf"
KEY_FILE = "web-session.key"
"""In the state folder, mode 0600; delete it to sign every operator out."""

FAILURES = 5
"""Failed sign-ins in a row (for one name, or from one address) before the next must wait."""
BACKOFF = 30.0
"""Seconds of the first wait; each further failure doubles it, up to MAX_BACKOFF."""
MAX_BACKOFF = 900.0
FORGET = 900.0
"""Seconds without a failure after which a name or address starts afresh."""


class SessionCookies(SecureCookieSessionInterface):
    """Secure cookies whenever the request itself came over TLS (directly, or as the
    reverse proxy says with X-Forwarded-Proto when --behind-proxy is given)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(request) and request.is_secure


def configure(app: Flask, key_file: Path | None) -> None:
    """`key_file`: where the signing key is kept (created on first use); None for a key that
    lasts as long as the process (a read-only view or an export has no sessions to keep)."""
    app.secret_key = signing_key(key_file) if key_file else secrets.token_bytes(32)
    app.session_interface = SessionCookies()
    app.config.update(
        SESSION_COOKIE_NAME="clarion_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
    )


def signing_key(path: Path) -> bytes:
    """The key in `path`, written first (0600, atomically: `clarion serve` and the daemon may
    start together) when there is none."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{os.getpid()}.new")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(secrets.token_bytes(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process wrote it first: use theirs
        finally:
            draft.unlink()
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return path.read_bytes()


def check_password(operators: Mapping[str, str], name: str, password: str) -> bool:
    """Constant time whatever the name, so that a wrong name and a wrong password look alike."""
    expected = operators.get(name, secrets.token_hex(16))
    same = hmac.compare_digest(expected.encode(), password.encode())
    return same and name in operators


class Throttle:
    """Failed sign-ins per name and per address: after FAILURES in a row, the next attempt
    waits BACKOFF seconds, doubled at each further failure (up to MAX_BACKOFF); a success
    or FORGET quiet seconds start afresh. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], tuple[int, float]] = {}
        """(kind, value) -> (failures in a row, when the last one was)."""

    def wait(self, name: str, address: str) -> float:
        """Seconds before this name, from this address, may try again (0: now)."""
        now = self._clock()
        with self._lock:
            waits = [self._until(key, now) - now for key in _keys(name, address)]
        return max(0.0, *waits)

    def failed(self, name: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) > 10_000:
                self._forget_quiet(now)
            for key in _keys(name, address):
                count, last = self._failures.get(key, (0, now))
                self._failures[key] = (1 if now - last > FORGET else count + 1, now)

    def succeeded(self, name: str, address: str) -> None:
        with self._lock:
            for key in _keys(name, address):
                self._failures.pop(key, None)

    def _until(self, key: tuple[str, str], now: float) -> float:
        count, last = self._failures.get(key, (0, now))
        if count < FAILURES or now - last > FORGET:
            return now
        return last + min(BACKOFF * 2.0 ** (count - FAILURES), MAX_BACKOFF)

    def _forget_quiet(self, now: float) -> None:
        for key, (_count, last) in list(self._failures.items()):
            if now - last > FORGET:
                del self._failures[key]


def _keys(name: str, address: str) -> tuple[tuple[str, str], ...]:
    return (("name", name), ("address", address))


def csrf_token() -> str:
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def require_csrf(req: Request) -> None:
    """403 unless the form carries this session's token."""
    sent = req.form.get(CSRF_FIELD, "")
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str) or not sent or not hmac.compare_digest(token, sent):
        abort(403, "the form's security token is missing or out of date: reload the page")


def current_user() -> str | None:
    user = session.get("user")
    return user if isinstance(user, str) else None
