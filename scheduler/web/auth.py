"""Who may act: operators log in with a name and a password from config.yaml's references;
a signed session cookie (HttpOnly, SameSite=Strict, Secure when the request came over TLS)
remembers them, and every change carries the session's CSRF token."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping

from flask import Flask, Request, abort, request, session
from flask.sessions import SecureCookieSessionInterface

CSRF_FIELD = "csrf"


class SessionCookies(SecureCookieSessionInterface):
    """Secure cookies whenever the request itself came over TLS (directly, or as the
    reverse proxy says with X-Forwarded-Proto when --behind-proxy is given)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(request) and request.is_secure


def configure(app: Flask) -> None:
    app.secret_key = secrets.token_bytes(32)
    app.session_interface = SessionCookies()
    app.config.update(
        SESSION_COOKIE_NAME="clarion_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
    )


def check_password(operators: Mapping[str, str], name: str, password: str) -> bool:
    """Constant time whatever the name, so that a wrong name and a wrong password look alike."""
    expected = operators.get(name, secrets.token_hex(16))
    same = hmac.compare_digest(expected.encode(), password.encode())
    return same and name in operators


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
