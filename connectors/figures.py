"""What a failed read of a post's figures means, the same way for every platform.

A connector first picks out what its platform says plainly (the post was deleted, the token
may not read statistics) and raises `FiguresUnavailable` for it. Everything else goes through
the connector's own error classification, then `figures_error`: a passing failure stays a
`RetryLater` (with the platform's own delay), credentials that no longer read anything mean
"not-permitted", and any other refusal is tried again later: a figure never turns into a
zero because one read failed.
"""

from __future__ import annotations

from connectors.base import AuthFailed, FiguresUnavailable, PublishError, RetryLater


def figures_error(error: PublishError) -> RetryLater | FiguresUnavailable:
    if isinstance(error, RetryLater):
        return error
    if isinstance(error, AuthFailed):
        return FiguresUnavailable(error.reason, why="not-permitted")
    return RetryLater(error.reason, status=error.status, code=error.code)


def count(value: object) -> int | None:
    """A figure as the platform gave it: a whole number, or None when it gave none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
