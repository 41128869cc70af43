"""A loopback HTTP server that plays a platform, for tests: ours and our users'.

Each platform fake subclasses `FakePlatform`, declares its routes and keeps its own state
(posts made, sessions, idempotency keys). Tests script failures with `inject()`: a status
with the platform's own body and headers, a stall, or a time-out *after* the platform did
the work, which is what makes a publish ambiguous. `FakeServer` is the same loopback server
without a platform behind it (a web site, for link cards).

`FakePlatform` is also the contract each platform's fake keeps for the connector contract
suite (tests/connectors/contract): a channel it accepts, its own rate-limit answer, revoked
credentials, the posts it made, and which request makes a post.
"""

from __future__ import annotations

import json
import re
import ssl
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Literal, Self
from urllib.parse import parse_qs, urlsplit

from connectors.base import ChannelAccess


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Header names in lower case."""
    body: bytes
    match: dict[str, str] = field(default_factory=dict)
    """Named groups of the route pattern."""
    target: str = ""
    """The request line's target as sent: path and query."""
    received: float = 0.0
    """When the whole request had arrived (`time.time()`)."""

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass(slots=True)
class Response:
    status: int = 200
    body: Any = None
    """JSON-encoded unless bytes or str."""
    headers: Mapping[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        if self.body is None:
            return b"", "application/json"
        return json.dumps(self.body).encode(), "application/json; charset=utf-8"


FaultKind = Literal["respond", "respond_after", "stall", "hang_after", "drop_after", "drop_before"]


@dataclass(slots=True)
class Fault:
    """What the next matching request meets instead of, or after, normal handling.

    `respond` answers without handling (nothing is done); `respond_after` handles the request
    (the post is made) and then answers with the scripted error instead, as a gateway does
    when it gives up on a slow server (a 504 after the write)."""

    kind: FaultKind
    response: Response | None = None
    seconds: float = 0.0
    method: str | None = None
    path: str | None = None
    """A regular expression the path must match (search), or None for any path."""

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or re.search(self.path, path) is not None
        )


Handler = Callable[[Request], Response]


class _Server(ThreadingHTTPServer):
    request_queue_size = 256
    """The listen backlog: socketserver's default of 5 resets connections when dozens of
    channels post at once (a burst opens a connection per post)."""
    tls: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        """With TLS, the handshake happens in the connection's own thread, not in the one
        that accepts connections: a slow client holds up no other."""
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        try:
            wrapped = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with wrapped:
            super().finish_request(wrapped, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that closed its connection (one opened ahead and not used) is no error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass(frozen=True, slots=True)
class Made:
    """A post as a fake made it, in the same terms on every platform."""

    text: str
    media: tuple[str, ...] = ()
    """The media types of its files, as the platform received them."""
    reply_to: str | None = None
    """The id of the post it answers or comments on, as the connector's ref gave it."""


class FakeServer:
    """Subclasses register routes in `routes()`; handlers run one at a time under a lock."""

    error_text_fields: ClassVar[Sequence[str]] = ("message", "description", "detail", "error")
    """Where the platform puts an error's words, in order of preference: Mastodon and Matrix
    `error`, Telegram `description`, X `detail`, Graph `error.message`, LinkedIn `message`."""

    def __init__(self, *, latency: float = 0.0) -> None:
        self.latency = latency
        self.echo_credentials = False
        """Quote what each request carried (its target, Authorization header and body) in the
        text of every error answer, as some servers do: Mastodon echoes the Authorization
        header. Tests set it with a canary secret to show that nothing repeats it."""
        self.close_silently = False
        """Close the connection after every answer without `Connection: close`, as a server
        may close an idle kept-alive connection at any moment."""
        self.requests: list[Request] = []
        self.lock = threading.RLock()
        self._faults: deque[Fault] = deque()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.routes()

    def routes(self) -> None:
        """Register routes with `self.route(method, pattern, handler)`."""

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(pattern), handler))

    # -- scripting ---------------------------------------------------------------------

    def inject(self, fault: Fault, times: int = 1) -> None:
        with self.lock:
            self._faults.extend([fault] * times)

    def respond(
        self,
        status: int,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        *,
        method: str | None = "POST",
        path: str | None = None,
        times: int = 1,
    ) -> None:
        """The next matching request gets this answer and is not handled."""
        self.answer(Response(status, body, headers or {}), method=method, path=path, times=times)

    def answer(
        self,
        response: Response,
        *,
        method: str | None = "POST",
        path: str | None = None,
        times: int = 1,
    ) -> None:
        """The next matching request gets this answer (`throttle()`'s, say) and is not
        handled."""
        self.inject(Fault("respond", response, method=method, path=path), times)

    def fail_after(
        self,
        status: int,
        body: Any = None,
        *,
        method: str | None = "POST",
        path: str | None = None,
    ) -> None:
        """The next matching request is handled (the post is made), then answered with this
        error, as by a gateway that gave up waiting."""
        self.inject(Fault("respond_after", Response(status, body), method=method, path=path))

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    self._faults.remove(fault)
                    return fault
        return None

    # -- serving -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        port = self._server.server_address[1]
        scheme = "http" if self._server.tls is None else "https"
        return f"{scheme}://127.0.0.1:{port}"

    def start(self, port: int = 0, *, tls: ssl.SSLContext | None = None) -> Self:
        """Serve on 127.0.0.1; with `tls` (a server context holding its certificate), over
        HTTPS."""
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave as separate writes

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                fake._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._server.tls = tls
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        """Starts the fake, unless `start()` did (`with fake.start(tls=...)`)."""
        return self if self._server is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = Request(
            handler.command,
            split.path,
            parse_qs(split.query, keep_blank_values=True),
            {k.lower(): v for k, v in handler.headers.items()},
            body,
            target=handler.path,
            received=time.time(),
        )
        with self.lock:
            self.requests.append(request)
        fault = self._take_fault(request.method, request.path)
        if fault and fault.kind == "drop_before":
            handler.close_connection = True
            handler.connection.close()
            return
        if fault and fault.kind == "stall":
            time.sleep(fault.seconds)
        if self.latency:
            time.sleep(self.latency)
        if fault and fault.kind == "respond":
            assert fault.response is not None
            response = fault.response
        else:
            response = self._handle(request)
        if fault and fault.kind == "respond_after":
            assert fault.response is not None
            response = fault.response
        if self.echo_credentials and response.status >= 400:
            response = echoed(response, request, self.error_text_fields)
        if fault and fault.kind == "hang_after":
            time.sleep(fault.seconds)
        if fault and fault.kind == "drop_after":
            handler.close_connection = True
            handler.connection.close()
            return
        self._write(handler, response)
        handler.close_connection = handler.close_connection or self.close_silently

    def _handle(self, request: Request) -> Response:
        for method, pattern, route in self._routes:
            if method != request.method:
                continue
            found = pattern.fullmatch(request.path)
            if found:
                request.match = found.groupdict()
                with self.lock:
                    return route(request)
        return Response(404, {"error": f"no route for {request.method} {request.path}"})

    @staticmethod
    def _write(handler: BaseHTTPRequestHandler, response: Response) -> None:
        payload, content_type = response.encoded()
        try:
            handler.send_response(response.status)
            headers = {"Content-Type": content_type, **response.headers}
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its time-out), which is what some tests want


class FakePlatform(FakeServer, ABC):
    """A platform's fake, with what the connector contract suite drives on every platform."""

    publish_route: ClassVar[tuple[str, str]]
    """(method, path regular expression) of the request whose handling makes a post: a
    time-out there is after sending, anywhere before it is before."""
    throttle_tells_time: ClassVar[bool] = True
    """False where the platform's rate-limit answer carries no time to come back (LinkedIn's
    daily limits): the connector then cannot tell `throttle()`'s `until`."""

    @abstractmethod
    def channel(self) -> ChannelAccess:
        """A channel named "<platform>-main" on this fake, with credentials it accepts and
        every required option; time-out 2 s."""

    @abstractmethod
    def throttle(self, until: datetime) -> Response:
        """The platform's own rate-limit answer (status, body and headers as its
        documentation shows them) telling the client to come back at `until`."""

    @abstractmethod
    def revoke(self) -> None:
        """From now on, refuse `channel()`'s credentials as the platform refuses revoked or
        expired ones."""

    @abstractmethod
    def published(self) -> list[Made]:
        """The posts made, in order."""


def echoed(response: Response, request: Request, fields: Sequence[str]) -> Response:
    """The error answer with the request's credentials quoted in its text: in the first of
    `fields` that each JSON object has (added to the outer one if none has any)."""
    echo = (
        f"(request: {request.method} {request.target}; Authorization: "
        f"{request.header('authorization')}; body: {request.body[:500].decode(errors='replace')})"
    )
    quoted = False

    def quote_in(value: Any) -> Any:
        nonlocal quoted
        if not isinstance(value, dict):
            return value
        found = next((f for f in fields if isinstance(value.get(f), str)), None)
        if found:
            quoted = True
        return {
            key: f"{item} {echo}" if key == found else quote_in(item) for key, item in value.items()
        }

    body = response.body
    if isinstance(body, str):
        body = f"{body} {echo}"
    elif isinstance(body, bytes):
        body += b" " + echo.encode()
    else:
        body = quote_in(body)
        if not quoted and isinstance(body, dict):
            body[fields[0]] = echo
    return Response(response.status, body, response.headers)
