"""Reading a text file a user named: regular files only, of bounded size, in UTF-8.

A campaign file or a secret file may be anything the path leads to: a named pipe (reading
it waits for a writer forever), a device such as /dev/zero (it never ends), a folder, or a
file saved by Windows Notepad as UTF-16. Each of those gets a clear message instead of a
hang, a memory blow-up or a traceback.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
"""Windows editors save "Unicode" text as UTF-16 with a byte order mark; it is unambiguous."""


class UnreadableText(Exception):
    """Why a file cannot be read as text; `line` and `col` say where, for bad bytes."""

    def __init__(self, message: str, hint: str | None = None, line: int = 1, col: int = 1):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.line = line
        self.col = col


def read_text(path: Path, limit: int) -> str:
    """The file's text, without its byte order mark. Raises UnreadableText."""
    try:
        # Non-blocking, so that opening a named pipe with no writer returns at once.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise UnreadableText(f"cannot read this file: {exc.strerror}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise UnreadableText(
            f"this is {_kind(mode)}, not a file: only regular files are read",
            "name the file itself (a symbolic link to a file is fine)",
        )
    with os.fdopen(fd, "rb") as file:
        try:
            raw = file.read(limit + 1)
        except OSError as exc:
            raise UnreadableText(f"cannot read this file: {exc.strerror}") from None
    if len(raw) > limit:
        raise UnreadableText(
            f"this file is larger than {_size(limit)}, the most clarion reads",
            "check that the path names the right file",
        )
    return decode(raw)


def decode(raw: bytes) -> str:
    """UTF-8 (with or without a byte order mark), or UTF-16 with one."""
    if raw[:2] in _UTF16_BOMS:
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise UnreadableText(
                "this file starts as UTF-16 text but is not valid UTF-16",
                "save the file as UTF-8 (in most editors: Save As, then choose UTF-8)",
            ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(raw, exc) from None


def _not_utf8(raw: bytes, exc: UnicodeDecodeError) -> UnreadableText:
    """Where the first byte that is not UTF-8 stands, and the character it probably is."""
    start = raw.rfind(b"\n", 0, exc.start) + 1
    line = raw[: exc.start].count(b"\n") + 1
    col = len(raw[start : exc.start].decode("utf-8", "replace")) + 1
    guess = raw[exc.start : exc.start + 1].decode("cp1252", "replace")
    seen = f" ('{guess}' in the Windows/Latin-1 encoding)" if guess.isprintable() else ""
    return UnreadableText(
        f"this file is not UTF-8 text: byte 0x{raw[exc.start]:02X}{seen} is not valid here",
        "save the file as UTF-8 (in most editors: Save As, then choose the encoding UTF-8)",
        line,
        col,
    )


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _size(limit: int) -> str:
    return f"{limit // 1024**2} MB" if limit >= 1024**2 else f"{limit // 1024} kB"
