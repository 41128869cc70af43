"""What a file is by its first bytes, as a platform sees media it receives as bare bytes
(LinkedIn's and Facebook's uploads) or fetches from an address (Threads)."""

from __future__ import annotations

import mimetypes

SIGNATURES = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF8", "image/gif"),
    (8, b"WEBP", "image/webp"),
    (8, b"qt  ", "video/quicktime"),
    (4, b"ftyp", "video/mp4"),
)


def sniffed(content: bytes) -> str:
    for offset, signature, mime in SIGNATURES:
        if content[offset : offset + len(signature)] == signature:
            return mime
    return "application/octet-stream"


def named(url: str) -> str:
    """The media type an address's file name says, for media fetched by address."""
    return mimetypes.guess_type(url.split("?", 1)[0])[0] or "application/octet-stream"
