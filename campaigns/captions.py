"""Caption files of a video (SRT or WebVTT), read strictly: the platforms that take them refuse
a file they cannot parse, so a mistake is reported by line here, before the day.

The subtitle libraries on PyPI skip the blocks they cannot read without a word (webvtt-py drops
a cue with broken timings, srt folds stray lines into the text before), so this small reader
follows the two formats' grammars itself: SubRip as its de facto description has it, WebVTT
as the W3C recommendation's parsing rules do, in their strict form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from campaigns.platformrules import CaptionFormat

FORMAT_NAMES: dict[CaptionFormat, str] = {"srt": "SRT", "vtt": "WebVTT"}

_SRT_TIME = r"(\d{2,}):([0-5]\d):([0-5]\d)[,.](\d{3})"
_SRT_TIMING = re.compile(rf"{_SRT_TIME} --> {_SRT_TIME}(?:[ \t].*)?")
_VTT_TIME = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_VTT_TIMING = re.compile(rf"{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?:[ \t].*)?")
_VTT_BLOCKS = ("NOTE", "STYLE", "REGION")


@dataclass(frozen=True, slots=True)
class Captions:
    format: CaptionFormat
    cues: int


class BadCaptions(ValueError):
    """The file is not captions a platform would take: the message says where and why."""


def read_captions(path: Path) -> Captions:
    """The file's format (by its content) and number of cues; BadCaptions when it is not
    UTF-8 SRT or WebVTT, or breaks their rules; OSError when it cannot be read."""
    stat = path.stat()
    return _read(path.resolve(), stat.st_size, stat.st_mtime_ns)


@cache
def _read(path: Path, size: int, mtime_ns: int) -> Captions:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadCaptions(
            f"it is not UTF-8 text (byte {error.start + 1:,}); save it as UTF-8"
        ) from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[0].startswith("WEBVTT") and lines[0][6:7] in ("", " ", "\t"):
        return Captions("vtt", _vtt(lines))
    return Captions("srt", _srt(lines))


def _blocks(lines: list[str], first: int = 0) -> list[tuple[int, list[str]]]:
    """The blocks of lines between blank lines, each with the number of its first line."""
    blocks: list[tuple[int, list[str]]] = []
    for number, line in enumerate(lines[first:], start=first + 1):
        if not line.strip():
            if blocks and blocks[-1][1]:
                blocks.append((0, []))
            continue
        if not blocks or not blocks[-1][1]:
            if blocks:
                blocks.pop()
            blocks.append((number, []))
        blocks[-1][1].append(line)
    return [block for block in blocks if block[1]]


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _check_order(number: int, start: float, end: float) -> None:
    if end < start:
        raise BadCaptions(f"line {number}: the cue ends before it starts")


def _srt(lines: list[str]) -> int:
    blocks = _blocks(lines)
    if not blocks:
        raise BadCaptions("it holds no captions")
    for number, block in blocks:
        if not block[0].strip().isdigit():
            raise BadCaptions(
                f"line {number}: expected the number of a caption, found '{_cut(block[0])}'"
            )
        timing = _SRT_TIMING.fullmatch(block[1].strip()) if len(block) > 1 else None
        if timing is None:
            found = f"'{_cut(block[1])}'" if len(block) > 1 else "nothing"
            raise BadCaptions(
                f"line {number + 1}: expected a timing such as "
                f"'00:00:01,000 --> 00:00:04,000', found {found}"
            )
        times = timing.groups()
        _check_order(number + 1, _seconds(*times[:4]), _seconds(*times[4:]))
    return len(blocks)


def _vtt(lines: list[str]) -> int:
    cues = 0
    for number, block in _blocks(lines, 1):
        if block[0].split(maxsplit=1)[0] in _VTT_BLOCKS and "-->" not in block[0]:
            continue
        at = 0 if "-->" in block[0] else 1  # a cue may start with its identifier
        timing = _VTT_TIMING.fullmatch(block[at].strip()) if len(block) > at else None
        if timing is None:
            found = f"'{_cut(block[at])}'" if len(block) > at else "nothing"
            raise BadCaptions(
                f"line {number + at}: expected a cue timing such as "
                f"'00:01.000 --> 00:04.000', found {found}"
            )
        times = timing.groups()
        _check_order(number + at, _seconds(*times[:4]), _seconds(*times[4:]))
        cues += 1
    if not cues:
        raise BadCaptions("it holds no captions")
    return cues


def _cut(line: str) -> str:
    line = line.strip()
    return line if len(line) <= 40 else line[:39] + "…"
