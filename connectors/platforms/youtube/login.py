"""`clarion login` for YouTube: Google's OAuth 2.0 flow for installed (desktop) apps.

Clarion listens on a loopback address (`http://127.0.0.1:PORT`, a port the system picks),
prints Google's authorization address with a PKCE challenge (S256), and waits. The user opens
the address in a browser, signs in as the owner of the channel and allows access; Google
sends the browser back to the loopback address with a code, which Clarion trades at the
token endpoint (with the PKCE verifier) for a refresh token. When the browser runs on
another machine than Clarion (a server over SSH), its last page cannot load: the user pastes
that page's address instead, which holds the same code.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from connectors.base import AuthFailed, ChannelAccess
from connectors.http import build_client, json_body, send_safe
from connectors.login import LoginIO
from connectors.platforms.youtube.connector import API
from connectors.platforms.youtube.oauth import SCOPE, endpoints, token_error

WAIT = 5.0
"""Seconds to wait for the browser's redirect after the user says it is done."""
DONE_PAGE = (
    "<!doctype html><meta charset=utf-8><title>Clarion</title>"
    "<p>Clarion has the answer from Google. You can close this tab and go back to the terminal."
)


class _Loopback:
    """The one-request server Google sends the browser back to."""

    def __init__(self) -> None:
        self.query: dict[str, str] = {}
        self.arrived = threading.Event()
        loopback = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                if "code" in query or "error" in query:
                    loopback.query = {k: v[-1] for k, v in query.items()}
                    loopback.arrived.set()
                page = DONE_PAGE.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def login(io: LoginIO, config: ChannelAccess) -> dict[str, str]:
    app = {name: config.credentials.get(name, "") for name in ("client_id", "client_secret")}
    asked = {
        name: io.ask(question, secret=secret).strip()
        for name, question, secret in (
            ("client_id", "Client ID of your OAuth client (Desktop app)", False),
            ("client_secret", "Client secret of your OAuth client", True),
        )
        if not app[name]
    }
    app |= asked
    authorize, token_url = endpoints(config)
    verifier = secrets.token_urlsafe(64)
    state = secrets.token_urlsafe(16)
    loopback = _Loopback()
    try:
        query = {
            "client_id": app["client_id"],
            "redirect_uri": loopback.address,
            "response_type": "code",
            "scope": SCOPE,
            "code_challenge": _challenge(verifier),
            "code_challenge_method": "S256",
            "state": state,
            "access_type": "offline",
            "prompt": "consent",
        }
        io.say(
            "Open this address in a browser, sign in with the Google account that owns the "
            f"YouTube channel, and allow Clarion:\n\n    {authorize}?{urlencode(query)}\n\n"
            f"Google then sends the browser back to {loopback.address} on this machine. If "
            "the browser runs on another computer, that last page does not load: copy the "
            "address from its address bar and paste it here."
        )
        pasted = io.ask(
            "Press Enter once the browser says Clarion has the answer (or paste the address)"
        ).strip()
        loopback.arrived.wait(0 if pasted else WAIT)
        answer = loopback.query or {k: v[-1] for k, v in parse_qs(urlsplit(pasted).query).items()}
    finally:
        loopback.close()
    code = _code(answer, state)
    with build_client(config, API) as client:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": loopback.address,
            **app,
        }
        request = client.build_request("POST", token_url, data=form)
        response = send_safe(client, request, "Google's sign-in service")
        body = json_body(response)
        body = body if isinstance(body, dict) else {}
        if response.status_code != 200 or not body.get("refresh_token"):
            if response.status_code == 200:
                raise AuthFailed(
                    "Google gave no refresh token: remove Clarion's access at "
                    "https://myaccount.google.com/permissions and run `clarion login` again"
                )
            raise token_error(response.status_code, body)
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        mine = client.build_request(
            "GET",
            "/youtube/v3/channels",
            params={"part": "snippet", "mine": "true"},
            headers=headers,
        )
        channels = json_body(send_safe(client, mine, "YouTube"))
    items = channels.get("items") if isinstance(channels, dict) else None
    title = items[0].get("snippet", {}).get("title") if items else None
    if title:
        io.say(f"Authorized: videos will go out on the YouTube channel {title}.")
    else:
        io.say("Authorized, but this Google account has no YouTube channel yet: create it first.")
    return asked | {"refresh_token": str(body["refresh_token"])}


def _code(answer: dict[str, str], state: str) -> str:
    if answer.get("error"):
        raise AuthFailed(
            f"Google did not authorize Clarion ({answer['error']}): allow access in the "
            "browser, or, if the app's consent screen is in Testing, add the account as a "
            "test user in the Google Cloud console"
        )
    if not answer.get("code"):
        raise AuthFailed(
            "no answer came from Google: open the address in a browser and allow Clarion, or "
            "paste the address the browser ended on"
        )
    if answer.get("state") != state:
        raise AuthFailed(
            "the answer does not belong to this login (its state differs): start again"
        )
    return answer["code"]
