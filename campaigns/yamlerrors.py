"""YAML syntax errors in a campaign manager's words.

PyYAML says what its parser expected ("mapping values are not allowed in this context"); this
module looks at the line it stopped on and says what the author most likely did (a ': ' inside
unquoted text, a tab, a hashtag read as a comment) and how to fix it, at the place to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from campaigns.problems import Location, Problem

GENERIC_HINT = (
    "check the indentation (spaces only), and put text in double quotes when it contains ': ' "
    "or starts with a special character such as '#', '@', '*', '&', '!', '|' or '{'"
)


@dataclass(frozen=True, slots=True)
class _Mark:
    line: int
    """0-based."""
    col: int
    """0-based."""


def explain(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    """The problem to report for a YAML syntax error in `text`."""
    lines = text.splitlines() or [""]
    problem = _mark(exc.problem_mark)
    context = _mark(exc.context_mark)
    here = problem or context or _Mark(0, 0)
    found = _explain(exc.problem or "", exc.context or "", lines, here, context)
    if found is None:
        message, hint, where = exc.problem or exc.context or "this is not valid YAML", None, here
    else:
        message, hint, where = found
    return Problem(
        "error",
        f"YAML syntax: {message}",
        Location(file, where.line + 1, where.col + 1),
        hint or GENERIC_HINT,
    )


def _mark(mark: yaml.Mark | None) -> _Mark | None:
    return _Mark(mark.line, mark.column) if mark is not None else None


def _explain(
    problem: str, context: str, lines: list[str], here: _Mark, opened: _Mark | None
) -> tuple[str, str | None, _Mark] | None:
    line = lines[here.line] if here.line < len(lines) else ""
    char = line[here.col] if here.col < len(line) else ""
    if "tab" in problem or char == "\t":
        return (
            "a tab character; YAML indents with spaces only",
            "replace the tab with spaces (most editors can insert spaces when you press Tab)",
            here,
        )
    if "flow" in context and "${" in line:
        return (
            "'${...}' inside '{ }' ends it early: YAML reads its '}' as the end of the mapping",
            'put the reference in quotes, such as {access_token: "${TOKEN}"}, or write the '
            "mapping one key per line",
            here,
        )
    if "flow" in context:
        found = _unclosed(lines, here.line)
        if found is not None:
            opener, comment = found
            if comment is not None:
                return (
                    "'#' starts a comment in YAML, so the rest of this line is ignored",
                    'put hashtags in quotes, such as ["#SayNo", "#SaferInternetDay"]',
                    comment,
                )
            char = lines[opener.line][opener.col]
            closing = "]" if char == "[" else "}"
            return (
                f"the '{char}' opened here is not closed with '{closing}'",
                f"end it with '{closing}' on the same line, separate items with ', ', and put "
                "items that contain ',', ':' or '#' in quotes",
                opener,
            )
    if "mapping values are not allowed" in problem:
        if ": " in line[: here.col] or line[: here.col].rstrip().endswith(":"):
            return (
                "this text contains ': ', which YAML reads as the start of a key",
                _quote(line, _value_start(line)),
                here,
            )
        return (
            "this line is indented more than the line above it",
            "align it with the other keys at its level, using spaces",
            _Mark(here.line, len(line) - len(line.lstrip())),
        )
    if "scanning a simple key" in context and opened is not None:
        return (
            "this line is neither 'key: value' nor part of the value above",
            "add ': ' after the key, or put a text that runs over several lines in quotes",
            opened,
        )
    if "expected '-' indicator" in problem:
        return (
            "this line is indented less than the list items above it",
            "indent it like the other keys of its item, or start a new item with '- '",
            here,
        )
    if "quoted scalar" in context and opened is not None:
        if "escape" in problem:
            return (
                "in double quotes, a backslash starts a special character such as \\n",
                "write \\\\ for a backslash, or use single quotes",
                here,
            )
        return (
            "the quotation mark opened here is never closed",
            "add the closing quotation mark at the end of the text",
            opened,
        )
    before = line[: here.col].rstrip()
    if "expected key" in problem and before and before[-1] in "\"'":
        return (
            "the text goes on after its closing quotation mark",
            "put the whole text inside one pair of quotes: double quotes around a text with an "
            'apostrophe ("it\'s"), and \\" for a quotation mark inside double quotes',
            here,
        )
    if "undefined alias" in problem:
        return (
            f"'{_word(line, here.col)}' refers to an anchor that is not defined above",
            "text that starts with '*' must be in quotes; an alias *name needs an '&name' before "
            "it",
            here,
        )
    if "alias" in context or "anchor" in context or "cannot start any token" in problem:
        start = opened or here
        first = lines[start.line][start.col : start.col + 1] if start.line < len(lines) else ""
        return (
            f"a value cannot start with '{first}' unless it is in quotes",
            _quote(lines[start.line], start.col),
            start,
        )
    if "block scalar" in context and opened is not None:
        return (
            "'|' or '>' at the start of a value begins a block of text on the lines below",
            "put the text in quotes, or start it on the next line, indented",
            opened,
        )
    if "expected key" in problem or "expected <block end>" in problem:
        return (
            "this line does not fit the lines above it",
            "keys of one mapping start in the same column, and list items start with '- '; "
            + "put text that contains ': ' or starts with a special character in quotes",
            here,
        )
    return None


def _unclosed(lines: list[str], last: int) -> tuple[_Mark, _Mark | None] | None:
    """The nearest '[' or '{' at or above line `last` that its line leaves open, and the '#'
    that turned the rest of that line into a comment (if that is what left it open)."""
    for number in range(last, max(-1, last - 50), -1):
        opened: list[int] = []
        quote = ""
        line = lines[number] if number < len(lines) else ""
        for i, char in enumerate(line):
            if quote:
                quote = "" if char == quote else quote
            elif char in "\"'" and (i == 0 or line[i - 1] in " \t[{,:"):
                quote = char
            elif char in "[{":
                opened.append(i)
            elif char in "]}" and opened:
                opened.pop()
            elif char == "#" and (i == 0 or line[i - 1] in " \t[{,"):
                return (_Mark(number, opened[-1]), _Mark(number, i)) if opened else None
        if opened:
            return _Mark(number, opened[-1]), None
    return None


_KEY = re.compile(r"\s*(?:-\s+)?(?:[a-z][a-z0-9_-]*|[a-z]{2,3}-[A-Za-z]{2,4}):\s")
_ITEM = re.compile(r"\s*-\s+")


def _value_start(line: str) -> int:
    """Where the value of a `key: value` line starts; a list item's text when what stands
    before its ': ' is not a key (`- Reminder: call us`)."""
    key = _KEY.match(line)
    if key:
        return key.end()
    item = _ITEM.match(line)
    return item.end() if item else len(line) - len(line.lstrip())


def _quote(line: str, start: int) -> str:
    """A hint that shows the value starting at `start` in double quotes."""
    value = line[start:].strip()
    if len(value) > 40:
        value = value[:39] + "…"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'put the whole text in double quotes: {line[:start].strip()} "{escaped}"'


def _word(line: str, col: int) -> str:
    end = col
    while end < len(line) and not line[end].isspace() and line[end] not in ",]}":
        end += 1
    return line[col:end]
