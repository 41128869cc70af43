"""`clarion login` for TikTok: Login Kit for desktop apps.

The browser goes to TikTok's consent page and comes back to a one-time server on this
machine (`http://127.0.0.1:PORT/callback/`, which the app must have registered: TikTok takes
`http://127.0.0.1:*/callback/` for any port). Where the browser runs on another machine, the
address it ends on can be pasted instead. The code is traded, with its PKCE verifier (TikTok
wants the challenge as the hex SHA-256 of the verifier), for a refresh token, which is what
the channel keeps.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from connectors.base import AuthFailed, ChannelAccess
from connectors.http import build_client, json_body, send_safe
from connectors.login import LoginIO
from connectors.platforms.tiktok.api import API
from connectors.platforms.tiktok.auth import token_request

AUTHORIZE = "https://www.tiktok.com"
WAIT = 10.0
"""Seconds to wait for the browser's redirect after Enter is pressed."""


def login(io: LoginIO, config: ChannelAccess) -> dict[str, str]:
    app = {name: config.credentials.get(name, "") for name in ("client_key", "client_secret")}
    asked = {
        name: io.ask(question, secret=True).strip()
        for name, question in (
            ("client_key", "Client key of your TikTok app"),
            ("client_secret", "Client secret of your TikTok app"),
        )
        if not app[name]
    }
    app |= asked
    direct = config.options.get("mode") == "direct"
    scopes = "user.info.basic,video.upload" + (",video.publish" if direct else "")
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(16)
    port = int(config.options.get("redirect_port") or 0)
    with _Callback(port) as callback:
        redirect = f"http://127.0.0.1:{callback.port}/callback/"
        query = {
            "client_key": app["client_key"],
            "scope": scopes,
            "response_type": "code",
            "redirect_uri": redirect,
            "state": state,
            "code_challenge": hashlib.sha256(verifier.encode()).hexdigest(),
            "code_challenge_method": "S256",
        }
        site = (config.base_url or AUTHORIZE).rstrip("/")
        io.say(
            "Open this address in a browser where you are logged in to TikTok as the account "
            f"that will post, and authorize the app ({scopes}):\n\n    "
            f"{site}/v2/auth/authorize/?{urlencode(query)}\n\n"
            "The browser then comes back to this machine. If it runs on another machine, it "
            "ends on a page that does not load: copy that page's address."
        )
        pasted = io.ask("Press Enter when TikTok is done, or paste the address")
        answer = _answer(pasted) if pasted.strip() else callback.wait(WAIT)
    if answer.get("error"):
        raise AuthFailed(
            "TikTok did not authorize the app: "
            + (answer.get("error_description") or answer["error"])
        )
    if answer.get("state") != state or not answer.get("code"):
        raise AuthFailed("TikTok's answer did not come back from this login: start again")
    with build_client(config, API) as client:
        tokens = token_request(
            client,
            {
                "client_key": app["client_key"],
                "client_secret": app["client_secret"],
                "code": answer["code"],
                "grant_type": "authorization_code",
                "redirect_uri": redirect,
                "code_verifier": verifier,
            },
            "accept the authorization",
        )
        granted = str(tokens.get("scope") or "").split(",")
        missing = [scope for scope in scopes.split(",") if scope not in granted]
        if missing:
            raise AuthFailed(
                f"the account did not grant {', '.join(missing)}: run `clarion login` again "
                "and accept every permission"
            )
        request = client.build_request(
            "GET",
            "/v2/user/info/",
            params={"fields": "open_id,display_name"},
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        user = _object(_object(json_body(send_safe(client, request, "TikTok"))).get("data"))
    name = _object(user.get("user")).get("display_name") or "the account you logged in as"
    io.say(
        f"Authorized: posts will go out as {name}. The refresh token lasts a year; clarion "
        "renews access by itself."
    )
    return asked | {"refresh_token": str(tokens["refresh_token"])}


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _answer(pasted: str) -> dict[str, str]:
    """The code and state in a pasted address (or a code pasted alone)."""
    text = pasted.strip()
    query = urlsplit(text).query if "?" in text else ""
    if not query:
        return {"code": text}
    return {name: values[-1] for name, values in parse_qs(query).items()}


class _Callback:
    """A one-time server on 127.0.0.1 that catches the browser coming back from TikTok."""

    def __init__(self, port: int) -> None:
        self.answer: dict[str, str] = {}
        self.arrived = threading.Event()
        callback = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                split = urlsplit(self.path)
                if split.path.rstrip("/") != "/callback":
                    self.send_error(404)
                    return
                callback.answer = {k: v[-1] for k, v in parse_qs(split.query).items()}
                callback.arrived.set()
                page = b"Clarion has TikTok's answer: you can close this page."
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

        self._server = HTTPServer(("127.0.0.1", port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> _Callback:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, seconds: float) -> dict[str, str]:
        if not self.arrived.wait(seconds):
            raise AuthFailed(
                "the browser did not come back to this machine: start again, and paste the "
                "address the browser ends on"
            )
        return self.answer
