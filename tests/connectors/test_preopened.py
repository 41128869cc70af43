"""Connections opened ahead of a post, or kept from the request before (issue 13): the request
goes out on that connection; one the server closed before any byte of the request left is
replaced, the request sent on a new one; a failure after that is ambiguous, as on any
connection."""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from typing import Literal

import httpx
import pytest
import trustme

from connectors.base import Ambiguous, ChannelAccess, Post
from connectors.http import build_client, send, tls_context, warm
from connectors.platforms.mastodon.connector import MastodonConnector
from connectors.platforms.mastodon.fake import MastodonFake
from tests.scheduler.daemonkit import wait_until
from tests.scheduler.ledgerkit import NOW

First = Literal["answers", "closes", "resets", "drops the answer"]
Then = Literal["keeps", "closes", "resets", "drops the answer"]
_NEXT: dict[Then, First] = {
    "keeps": "answers",
    "closes": "closes",
    "resets": "resets",
    "drops the answer": "drops the answer",
}
KEEPS = b"Connection: keep-alive\r\n"


class Server:
    """A loopback HTTP server that counts the connections it accepts and the requests it
    reads; its first connection does what `first` says, the others answer. A connection that
    answered does what `then` says with the next request: answers it (and the rest), or
    closes or resets the connection before it comes, or reads it and closes without an
    answer. Each answer carries the headers `says` (by default, that it keeps the
    connection)."""

    def __init__(
        self,
        first: First,
        tls: ssl.SSLContext | None = None,
        then: Then = "closes",
        says: bytes = KEEPS,
    ) -> None:
        self.first = first
        self.then = then
        self.answer = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n%s\r\n{}"
            % says
        )
        self.tls = tls
        self.accepted = 0
        self.requests = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            mode = self.first if self.accepted == 1 else "answers"
            threading.Thread(target=self._serve, args=(connection, mode), daemon=True).start()

    def _serve(self, connection: socket.socket, mode: First) -> None:
        if self.tls is not None:
            connection = self.tls.wrap_socket(connection, server_side=True)
        with connection:
            while mode != "closes":
                if mode == "resets":
                    linger = struct.pack("ii", 1, 0)
                    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    return
                if not self._read_request(connection):
                    return
                self.requests += 1
                if mode != "answers":
                    return
                connection.sendall(self.answer)
                mode = _NEXT[self.then]

    @staticmethod
    def _read_request(connection: socket.socket) -> bool:
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(65536)
            if not chunk:
                return False
            received += chunk
        return True

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def tls() -> ssl.SSLContext:
    """A server context with a certificate for 127.0.0.1 from a throw-away authority, which
    the clients' shared TLS context trusts beside certifi's."""
    authority = trustme.CA()
    authority.configure_trust(tls_context())
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    found = Server(request.param)
    yield found
    found.close()


def client_of(server: Server) -> httpx.Client:
    return build_client(ChannelAccess("test", "mastodon", base_url=server.url), server.url)


@pytest.mark.parametrize("server", ["answers"], indirect=True)
def test_the_request_goes_out_on_the_connection_opened_ahead(server: Server) -> None:
    with client_of(server) as client:
        warm(client)
        wait_until(lambda: server.accepted == 1)
        assert client.post("/api/v1/statuses", data={"status": "hi"}).status_code == 200
    assert (server.accepted, server.requests) == (1, 1)


@pytest.mark.parametrize("server", ["closes"], indirect=True)
def test_a_connection_the_server_closed_is_replaced_before_the_request(server: Server) -> None:
    with client_of(server) as client:
        warm(client)
        wait_until(lambda: server.accepted == 1)
        time.sleep(0.05)  # the server's end of stream arrives
        assert client.post("/api/v1/statuses", data={"status": "hi"}).status_code == 200
    assert (server.accepted, server.requests) == (2, 1)


@pytest.mark.parametrize("server", ["resets"], indirect=True)
def test_a_request_whose_first_write_fails_is_sent_again_on_a_new_connection(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection looks alive when handed over (the reset is not seen yet), and its first
    write fails: nothing of the request left, so it is safe to send on a new one."""
    monkeypatch.setattr("httpcore._backends.sync.is_socket_readable", lambda sock: False)
    with client_of(server) as client:
        warm(client)
        wait_until(lambda: server.accepted == 1)
        time.sleep(0.05)  # the reset arrives
        assert client.post("/api/v1/statuses", data={"status": "hi"}).status_code == 200
    assert (server.accepted, server.requests) == (2, 1)


@pytest.mark.parametrize("server", ["drops the answer"], indirect=True)
def test_a_failure_once_the_request_left_is_ambiguous(server: Server) -> None:
    with client_of(server) as client:
        warm(client)
        wait_until(lambda: server.accepted == 1)
        request = client.build_request("POST", "/api/v1/statuses", data={"status": "hi"})
        with pytest.raises(Ambiguous):
            send(client, request, "Mastodon")
    assert (server.accepted, server.requests) == (1, 1)


def post(client: httpx.Client) -> httpx.Response:
    return send(client, client.build_request("POST", "/api/v1/statuses"), "Mastodon")


def test_the_next_request_goes_out_on_the_connection_kept() -> None:
    server = Server("answers", then="keeps")
    try:
        with client_of(server) as client:
            assert [post(client).status_code for _ in range(3)] == [200, 200, 200]
        assert (server.accepted, server.requests) == (1, 3)
    finally:
        server.close()


@pytest.mark.parametrize(
    "says", [b"", b"Connection: close\r\n", KEEPS + b"Keep-Alive: timeout=0\r\n"]
)
def test_a_connection_the_server_did_not_say_it_keeps_is_not_used_again(says: bytes) -> None:
    """A server that closes the connection after answering without saying so might close it
    as the next request leaves: that request goes out on a new connection."""
    server = Server("answers", then="keeps", says=says)
    try:
        with client_of(server) as client:
            assert [post(client).status_code for _ in range(2)] == [200, 200]
        assert (server.accepted, server.requests) == (2, 2)
    finally:
        server.close()


def test_a_connection_is_kept_only_a_short_while(monkeypatch: pytest.MonkeyPatch) -> None:
    """Servers close idle connections after a while (5 s for some): one kept past
    KEEP_ALIVE is closed, and the next request goes out on a new one."""
    monkeypatch.setattr("connectors.http.KEEP_ALIVE", 0.05)
    server = Server("answers", then="keeps")
    try:
        with client_of(server) as client:
            post(client)
            time.sleep(0.2)
            post(client)
        assert (server.accepted, server.requests) == (2, 2)
    finally:
        server.close()


@pytest.mark.parametrize("then", ["closes", "resets"])
def test_a_kept_connection_the_server_closed_is_replaced_before_the_request(
    then: Then, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = Server("answers", then=then)
    try:
        with client_of(server) as client:
            post(client)
            time.sleep(0.05)  # the server's end of stream, or its reset, arrives
            assert post(client).status_code == 200
        assert (server.accepted, server.requests) == (2, 2)
    finally:
        server.close()


def test_a_request_whose_first_write_fails_on_a_kept_connection_is_sent_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The kept connection looks alive (its reset is not seen yet) and the request's first
    write on it fails: nothing of it left, so it goes out on a new connection."""
    monkeypatch.setattr("httpcore._backends.sync.is_socket_readable", lambda sock: False)
    server = Server("answers", then="resets")
    try:
        with client_of(server) as client:
            post(client)
            time.sleep(0.05)  # the reset arrives
            assert post(client).status_code == 200
        assert (server.accepted, server.requests) == (2, 2)
    finally:
        server.close()


def test_a_failure_on_a_kept_connection_once_the_request_left_is_ambiguous() -> None:
    server = Server("answers", then="drops the answer")
    try:
        with client_of(server) as client:
            post(client)
            with pytest.raises(Ambiguous):
                post(client)
        assert (server.accepted, server.requests) == (1, 2)
    finally:
        server.close()


def test_a_connection_opened_ahead_over_tls_is_used(tls: ssl.SSLContext) -> None:
    """A TLS 1.3 server sends its session tickets once the handshake is done: the idle
    connection is readable, yet open."""
    server = Server("answers", tls)
    try:
        with client_of(server) as client:
            warm(client)
            wait_until(lambda: server.accepted == 1)
            time.sleep(0.05)  # the session tickets arrive
            assert client.post("/api/v1/statuses", data={"status": "hi"}).status_code == 200
        assert (server.accepted, server.requests) == (1, 1)
    finally:
        server.close()


def test_a_post_goes_out_over_tls_on_a_connection_opened_ahead(tls: ssl.SSLContext) -> None:
    with MastodonFake().start(tls=tls) as fake:
        assert fake.base_url.startswith("https://")
        connector = MastodonConnector(fake.channel())
        try:
            connector.warm()
            connector.publish(Post("k", "on time", NOW))
        finally:
            connector.close()
        assert [post["text"] for post in fake.posts] == ["on time"]
