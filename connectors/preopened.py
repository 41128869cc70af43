"""The connections of a channel's client: opened ahead of a request, and kept between requests
for a short while, each failure before the first byte of a request left told apart.

`Preopened` is an httpcore network backend (httpcore's public extension point for how
connections are made): `open()` connects, and the next connection the pool asks for to that
host and port is that one, handed over once.

A connection opened ahead may be closed by the server before it is used. It is checked when
it is handed over (a connection the server closed is readable: its end of stream) and, if
closed, replaced by a new one. A connection that carried a request is used again only if the
server said it keeps it (`keep`, from `connectors.http`), and only for a short while; httpcore's
pool checks it the same way before the next request. If a request's first write fails on a
connection opened ahead or kept all the same, nothing of the request left (a failed `send`
sends nothing), so httpcore's pool is told the connection was not available and sends the
request on a new one. Once a byte of it has left, a failure is what it always was: the request
may have arrived (ambiguous).
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterable
from typing import Any

import httpcore

MAX_AGE = 30.0
"""Seconds after which a connection opened ahead is not used but closed: servers close idle
connections after a while, and one that does it just as the request leaves makes the request
ambiguous."""

_PORTS = {"http": 80, "https": 443}


class Preopened(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._network = httpcore.SyncBackend()
        self._ready: dict[tuple[str, int], tuple[httpcore.NetworkStream, float]] = {}
        self._lock = threading.Lock()

    def open(
        self, scheme: str, host: str, port: int | None, tls: ssl.SSLContext, timeout: float | None
    ) -> None:
        """Connect to the origin (and shake hands, over HTTPS) as httpcore would, and keep
        the connection for the next request to it. Raises httpcore's ConnectError and
        ConnectTimeout."""
        port = port or _PORTS[scheme]
        stream = self._network.connect_tcp(host, port, timeout=timeout)
        if scheme == "https":
            tls.set_alpn_protocols(["http/1.1"])
            stream = stream.start_tls(tls, server_hostname=host, timeout=timeout)
        with self._lock:
            earlier = self._ready.pop((host, port), None)
            self._ready[(host, port)] = (stream, time.monotonic())
        if earlier is not None:
            earlier[0].close()

    def close(self) -> None:
        with self._lock:
            ready, self._ready = list(self._ready.values()), {}
        for stream, _ in ready:
            stream.close()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        with self._lock:
            ready = self._ready.pop((host, port), None)
        if ready is not None:
            stream, opened = ready
            fresh = time.monotonic() - opened < MAX_AGE
            if fresh and local_address is None and _alive(stream):
                return _Guarded(stream, opened_ahead=True)
            stream.close()
        stream = self._network.connect_tcp(host, port, timeout, local_address, socket_options)
        return _Guarded(stream, opened_ahead=False)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return self._network.connect_unix_socket(path, timeout, socket_options)

    def sleep(self, seconds: float) -> None:
        self._network.sleep(seconds)


def _alive(stream: httpcore.NetworkStream) -> bool:
    """Whether the server has kept the connection open, sending nothing. An idle connection
    that is readable was closed (its end of stream), unless it holds TLS's own messages: a
    TLS 1.3 server sends its session tickets after the handshake, which a read consumes
    without any data."""
    if not stream.get_extra_info("is_readable"):
        return True
    sock = stream.get_extra_info("socket")
    if not isinstance(sock, ssl.SSLSocket):
        return False
    try:
        sock.setblocking(False)
        sock.recv(1)  # an end of stream, or bytes no request asked for
    except ssl.SSLWantReadError:
        return True
    except OSError:
        return False
    return False


def keep(stream: object, seconds: float) -> None:
    """Let the connection of a response (its `network_stream` extension) carry the next
    request within `seconds`; otherwise the next request goes out on a new connection."""
    if isinstance(stream, _Guarded):
        stream.kept_until = time.monotonic() + seconds


class _Guarded(httpcore.NetworkStream):
    """A connection as httpcore's connection sees it. The first write of a request on it, if
    it was opened ahead or carried a request before, fails as not available when it sends
    nothing, and without writing when the connection was not kept (`keep`) or is kept no
    longer. (HTTP/1.1 without pipelining: a request's writes come together, and a write
    after a read begins the next request.)"""

    def __init__(self, stream: httpcore.NetworkStream, *, opened_ahead: bool) -> None:
        self._stream = stream
        self._guarded = opened_ahead
        self._used = False
        self._request_begins = True
        self.kept_until = 0.0

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not (self._request_begins and buffer):
            self._stream.write(buffer, timeout)
            return
        self._request_begins = False
        if not self._guarded:
            self._stream.write(buffer, timeout)
            return
        if self._used and time.monotonic() > self.kept_until:
            self._stream.close()
            raise httpcore.ConnectionNotAvailable()
        sock = self._stream.get_extra_info("socket")
        try:
            sock.settimeout(timeout)
            sent = sock.send(buffer)
        except OSError:
            # Nothing of the request left: the pool sends it on a new connection.
            self._stream.close()
            raise httpcore.ConnectionNotAvailable() from None
        self._stream.write(buffer[sent:], timeout)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._request_begins = self._guarded = self._used = True
        return self._stream.read(max_bytes, timeout)

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        if self._stream.get_extra_info("ssl_object") is None:
            self._stream = self._stream.start_tls(ssl_context, server_hostname, timeout)
        return self

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)
