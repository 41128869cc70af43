"""A fast stand-in for a Mastodon server's `POST /api/v1/statuses`, for the daemon benchmarks.

connectors/platforms/mastodon/fake.py is the faithful fake, but Python's http.server spends a thread
per connection and about 1.8 ms of CPU per request under one interpreter lock: on this machine
it serves about 350 posts a second to 50 concurrent clients whatever the client does, so a
burst benchmark against it measures the fake. This one answers from one asyncio loop in its own
process, holds each answer for the platform's latency without a thread, and returns what the
Mastodon connector reads of a Status (`id`, `url`). It keeps connections open between requests
and says so (`Connection: keep-alive`), as nginx in front of a Mastodon server does.

It notes when each post arrived (the whole request read), by its `Idempotency-Key`;
`GET /arrivals` answers them as JSON: `{key: seconds since the epoch}`.

    .venv/bin/python bench/fastfake.py --latency 0.05    # prints its base URL, serves forever
    .venv/bin/python bench/fastfake.py --tls server.pem  # HTTPS: certificate chain and key
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import ssl
import time

COUNTER = itertools.count(1)
ARRIVALS: dict[str, float] = {}


def _reply(body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
        b"Connection: keep-alive\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )


async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length, key = 0, ""
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"idempotency-key":
                    key = value.strip().decode()
            await reader.readexactly(length)
            if head.startswith(b"GET /arrivals "):
                writer.write(_reply(json.dumps(ARRIVALS).encode()))
                await writer.drain()
                continue
            if key:
                ARRIVALS[key] = time.time()
            await asyncio.sleep(delay)
            number = next(COUNTER)
            body = json.dumps(
                {"id": str(number), "url": f"https://bench.example/@bench/{number}"}
            ).encode()
            writer.write(_reply(body))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def serve(delay: float, tls: str | None) -> None:
    context = None
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls)
    server = await asyncio.start_server(
        lambda r, w: answer(r, w, delay), "127.0.0.1", 0, backlog=1024, ssl=context
    )
    port = server.sockets[0].getsockname()[1]
    print(f"{'https' if tls else 'http'}://127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--tls", help="a PEM file with the certificate chain and its key")
    args = parser.parse_args()
    asyncio.run(serve(args.latency, args.tls))
