"""The daemon's HTTP endpoint: `/healthz` for liveness probes, `/metrics` for Prometheus.

`/healthz` answers 200 while every probe passes and 503 with the failing ones named, so a
supervisor (systemd watchdog script, Kubernetes, a load balancer) restarts or pages.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST

from scheduler.config import parse_listen

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

log = logging.getLogger("clarion.health")

Probe = Callable[[], str | None]
"""Returns what is wrong, or None when all is well."""


@dataclass(frozen=True, slots=True)
class HealthReport:
    problems: dict[str, str]
    passing: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        checks = {name: "ok" for name in self.passing} | self.problems
        return {"status": "ok" if self.ok else "failing", "checks": checks}


def check(probes: Mapping[str, Probe]) -> HealthReport:
    problems: dict[str, str] = {}
    passing: list[str] = []
    for name, probe in probes.items():
        try:
            problem = probe()
        except Exception as exc:  # a probe that breaks is itself a failing check
            problem = f"probe failed: {type(exc).__name__}"
        if problem is None:
            passing.append(name)
        else:
            problems[name] = problem
    return HealthReport(problems, passing)


class HealthServer:
    def __init__(
        self,
        listen: str,
        report: Callable[[], HealthReport],
        metrics: Callable[[], bytes],
        pages: WSGIApplication | None = None,
    ) -> None:
        """`pages`: the web view (server.web), answering every other address."""
        self._report = report
        self._metrics = metrics
        self._pages = pages
        host, port = parse_listen(listen)
        server_class = _V6Server if ":" in host else ThreadingHTTPServer
        self._server = server_class((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="health", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop serving (if it started) and close the socket."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                log.debug("health endpoint: " + format, *args)

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    report = outer._report()
                    body = json.dumps(report.as_json()).encode()
                    self._send(200 if report.ok else 503, body, "application/json")
                elif path == "/metrics":
                    self._send(200, outer._metrics(), CONTENT_TYPE_LATEST)
                elif outer._pages is not None:
                    from scheduler.web.bridge import serve

                    serve(self, outer._pages)
                else:
                    self._send(404, b"not found: try /healthz or /metrics\n", "text/plain")

            def do_POST(self) -> None:
                if outer._pages is None:
                    self._send(405, b"this endpoint takes no changes\n", "text/plain")
                    return
                from scheduler.web.bridge import serve

                serve(self, outer._pages)

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6
