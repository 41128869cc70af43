"""How problems name things: the choice a misspelt word was meant to be, lists in words."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` was probably meant to be (a close spelling), if any."""
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: str, choices: Sequence[str], what: str) -> str:
    """A hint: the closest choice, else the list of them."""
    guess = closest(word, choices)
    if guess:
        return f"did you mean '{guess}'?"
    if choices:
        return f"{what}: " + ", ".join(choices)
    return f"no {what} are declared"


def words(items: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
