"""Connections opened ahead of a request, so that a post due at an instant does not spend its
first milliseconds on the TCP and TLS handshakes.

`Preopened` is an httpcore network backend (httpcore's public extension point for how
connections are made): `open()` connects, and the next connection the pool asks for to that
host and port is that one, handed over once. Every request still gets a connection of its own
(`connectors.http.FRESH_CONNECTIONS`); it is only opened earlier.

A connection opened ahead may be closed by the server before it is used. It is checked when
it is handed over (a connection the server closed is readable: its end of stream) and, if
closed, replaced by a new one. If the request's first write on it fails all the same, nothing
of the request left (a failed `send` sends nothing), so httpcore's pool is told the connection
was not available and sends the request on a new one. Once a byte of it has left, a failure
is what it always was: the request may have arrived (ambiguous).
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
                return _Opened(stream)
            stream.close()
        return self._network.connect_tcp(host, port, timeout, local_address, socket_options)

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


class _Opened(httpcore.NetworkStream):
    """A connection opened ahead, as httpcore's connection sees it."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream
        self._written = False

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if self._written or not buffer:
            self._stream.write(buffer, timeout)
            return
        self._written = True
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
