"""Runs the web view inside the daemon's own HTTP endpoint (a standard-library server), so
that `server.web: true` serves the pages next to /healthz and /metrics on one address."""

from __future__ import annotations

import sys
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import unquote
from wsgiref.simple_server import ServerHandler

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

    from scheduler.config import Config


class _Handler(ServerHandler):
    os_environ: dict[str, str] = {}  # noqa: RUF012  (the daemon's environment holds secrets)


def daemon_pages(config: Config) -> WSGIApplication:
    """The web view of the daemon's configuration, as a WSGI application."""
    from scheduler.web.app import create_app
    from scheduler.web.board import Source

    return create_app(Source(config), operators=config.operators())


def serve(request: BaseHTTPRequestHandler, app: WSGIApplication) -> None:
    """Answer one request of a BaseHTTPRequestHandler with a WSGI application."""
    path, _, query = request.path.partition("?")
    host, port = request.server.server_address[:2]  # type: ignore[index,str-unpack]
    environ = {
        "REQUEST_METHOD": request.command,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(path, "latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": host.decode() if isinstance(host, bytes) else str(host),
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": request.request_version,
        "REMOTE_ADDR": request.client_address[0],
        "CONTENT_TYPE": request.headers.get("Content-Type", ""),
        "CONTENT_LENGTH": request.headers.get("Content-Length", ""),
    }
    for name, value in request.headers.items():
        key = "HTTP_" + name.upper().replace("-", "_")
        if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            environ[key] = value
    handler = _Handler(request.rfile, request.wfile, sys.stderr, environ, multithread=True)  # type: ignore[arg-type]
    handler.request_handler = request  # type: ignore[attr-defined]
    handler.run(app)
