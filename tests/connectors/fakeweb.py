"""A loopback web site with pages set by the test, for link cards."""

from __future__ import annotations

import struct
import zlib

from connectors.fakes.server import FakeServer, Request, Response


class FakeWeb(FakeServer):
    def __init__(self) -> None:
        self.pages: dict[str, Response] = {}
        super().__init__()

    def routes(self) -> None:
        self.route("GET", r"/.*", self._page)

    def _page(self, request: Request) -> Response:
        return self.pages.get(request.path, Response(404, "not found"))

    def html(self, path: str, head: str, status: int = 200) -> str:
        """Serve `<html><head>{head}</head>…` at `path`; returns its address."""
        body = f"<!doctype html><html><head>{head}</head><body><p>Hello</p></body></html>"
        self.pages[path] = Response(status, body.encode(), {"Content-Type": "text/html"})
        return self.base_url + path


def png(width: int, height: int) -> bytes:
    """A valid grey PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
