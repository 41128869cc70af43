"""Located problems in a campaign or config file, reported all at once as `file:line:col`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int
    """1-based, as editors show it."""
    col: int
    """1-based."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    @classmethod
    def parse(cls, text: str) -> Location:
        """The location `str()` wrote; ValueError if `text` is not one."""
        file, line, col = text.rsplit(":", 2)
        return cls(file, int(line), int(col))

    @staticmethod
    def file_of(text: str) -> str:
        """The file of a location `str()` wrote, the rest left unread (sync asks it of every
        delivery: ten times cheaper than `parse`)."""
        return text.rsplit(":", 2)[0]


@dataclass(frozen=True, slots=True)
class Problem:
    severity: Severity
    message: str
    where: Location
    hint: str | None = None

    def format(self) -> str:
        text = f"{self.where}: {self.severity}: {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def as_json(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "message": self.message,
            "file": self.where.file,
            "line": self.where.line,
            "col": self.where.col,
            "hint": self.hint,
        }


class Problems:
    """Collects problems in the order found; sorted by place when reported."""

    def __init__(self) -> None:
        self._items: list[Problem] = []

    def error(self, where: Location, message: str, hint: str | None = None) -> None:
        self._items.append(Problem("error", message, where, hint))

    def warning(self, where: Location, message: str, hint: str | None = None) -> None:
        self._items.append(Problem("warning", message, where, hint))

    def extend(self, problems: Iterable[Problem]) -> None:
        self._items.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self._items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self._items if p.severity == "warning"]

    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self._items)

    def sorted(self) -> list[Problem]:
        """Distinct problems, by file and position, errors before warnings at one place."""
        unique = dict.fromkeys(self._items)
        return sorted(
            unique,
            key=lambda p: (p.where.file, p.where.line, p.where.col, p.severity != "error"),
        )

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class HintedError(ValueError):
    """A wrong value, and how to fix it: what validators raise, so that the problem reported
    keeps its hint as a field of its own."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    @staticmethod
    def parts(exc: Exception) -> tuple[str, str | None]:
        """The message and hint of any exception (none for one that is not a HintedError)."""
        if isinstance(exc, HintedError):
            return exc.message, exc.hint
        return str(exc), None


class InputError(Exception):
    """Raised when input has errors; carries every problem found, not only the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))
