"""What the Threads and Instagram fakes share: a media container that is `IN_PROGRESS` for a
number of status reads (its `reads_left`), then `FINISHED`."""

from __future__ import annotations

from typing import Any


def advance(container: dict[str, Any]) -> None:
    """One status read of the container."""
    if container["status"] == "IN_PROGRESS":
        if container["reads_left"] <= 0:
            container["status"] = "FINISHED"
        container["reads_left"] -= 1
