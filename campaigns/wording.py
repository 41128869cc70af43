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


def duration_words(seconds: float) -> str:
    """'45 s', '2 min 20 s', '1 h 5 min'; tenths under 10 s ('0.4 s')."""
    if seconds < 10 and round(seconds, 1) != round(seconds):
        return f"{seconds:.1f} s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def size_words(size: int) -> str:
    """'8.2 kB', '3.4 MB', '1.2 GB' (decimal units, as platforms state their limits)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size / 1e3:.1f} kB"
