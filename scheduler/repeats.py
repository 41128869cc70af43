"""Whether a delivery that may already have gone out can be sent again without appearing twice.

One decision, made here for the dispatcher's reconciliation and for `clarion retry` alike,
from the configured channel's connector (its capabilities), never from the platform's name:
a Matrix room behind a `webhook` channel keeps its own request key, a Slack webhook none.

- a record key (Bluesky): always; the server itself refuses a second record at that key;
- a request key (Mastodon) with a known window: while the platform still remembers the key
  of the earliest attempt that may have gone out, less a margin for the request itself;
- a request key without a known window (Matrix), a stored container (Threads, kept on one
  machine only), a look-up, or nothing: never blindly; the delivery is looked up first where
  the platform allows, else an operator decides.

"May have gone out" is read from the delivery's history, whatever its state now: an unknown
delivery an operator cancelled stays one that may have gone out (see `first_open_attempt`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from connectors.base import Capabilities
from scheduler.ledger.api import Cause, State, Transition

if TYPE_CHECKING:
    from scheduler.config import Config

REPEAT_MARGIN = timedelta(minutes=5)
"""A repeat relying on the platform's idempotency window must reach it this long before the
window closes (the request itself takes time)."""

REPEATED = "planned again: the platform recognises a repeat"
"""How the reason of a verdict that the platform recognises the repeat begins."""


@dataclass(frozen=True, slots=True)
class RepeatVerdict:
    safe: bool
    """Sending it again now cannot make it appear twice."""
    why: str
    """For the history, the log and the operator: when safe, how the repeat is recognised;
    else why it would not be, in words that follow "an earlier attempt may have gone out,
    and"."""
    lookup: bool
    """The platform can be asked whether it went out (the daemon does it by itself)."""
    recognised: bool = False
    """Safe because the platform recognises the repeat (an earlier attempt may have gone
    out): the step that plans it again is marked `Cause.REPEAT`, which does not show that
    the earlier attempt did not go out, so the window still counts from it."""

    @property
    def cause(self) -> Cause | None:
        """The cause of the history step that plans the delivery again on this verdict."""
        return Cause.REPEAT if self.recognised else None


def first_open_attempt(history: Sequence[Transition]) -> datetime | None:
    """When the earliest attempt that may have gone out started, among the attempts since the
    delivery was last shown not to be out or an operator decided to send it anyway (planned
    again from unknown other than for a repeat: a look-up found nothing, or an operator
    resolved it; or an operator's retry, from any state); None if none.

    Cancelling does not clear it: an unknown delivery cancelled is still one that may have
    gone out, and `clarion retry` guards it as it guards an unknown one."""
    opened: datetime | None = None
    claimed: datetime | None = None
    for step in history:
        if step.to_state == State.CLAIMED:
            claimed = step.at
        elif step.from_state == State.CLAIMED and step.to_state == State.UNKNOWN:
            opened = opened or claimed
        elif step.to_state == State.PLANNED and (
            (step.from_state == State.UNKNOWN and step.cause != Cause.REPEAT)
            or step.cause == Cause.OPERATOR_RETRY
        ):
            opened = None
    return opened


def key_window(capabilities: Capabilities) -> timedelta | None:
    """The platform's idempotency window for request keys, if it has a known one."""
    if capabilities.idempotency != "key":
        return None
    return capabilities.idempotency_window


def key_forgotten(capabilities: Capabilities, history: Sequence[Transition]) -> datetime | None:
    """When the platform forgets the request key of the earliest attempt that may have gone
    out; None if no attempt may have, or the platform keeps no key with a known window."""
    window = key_window(capabilities)
    opened = first_open_attempt(history)
    return None if window is None or opened is None else opened + window


def _hours(window: timedelta) -> str:
    hours = window / timedelta(hours=1)
    return f"{hours:g} hour" + ("" if hours == 1 else "s")


def repeat_verdict(
    capabilities: Capabilities | None, history: Sequence[Transition], now: datetime
) -> RepeatVerdict:
    """Whether the delivery whose history this is may be sent again now (see the module's
    docstring). `capabilities` None: the channel is not configured, or its connector cannot
    load; the worst is assumed."""
    lookup = capabilities is not None and capabilities.lookup
    if first_open_attempt(history) is None:
        return RepeatVerdict(True, "no earlier attempt may have gone out", lookup)
    if capabilities is None:
        why = "its channel is not in config.yaml, so nothing shows a repeat would be recognised"
        return RepeatVerdict(False, why, lookup=False)
    if capabilities.idempotency == "record-key":
        return RepeatVerdict(True, f"{REPEATED} (the same record key)", lookup, recognised=True)
    window = key_window(capabilities)
    forgets = key_forgotten(capabilities, history)
    if window is not None and forgets is not None:
        if now + REPEAT_MARGIN < forgets:
            why = f"{REPEATED} (the same idempotency key, within {_hours(window)})"
            return RepeatVerdict(True, why, lookup, recognised=True)
        why = f"the platform recognises a repeat only until {forgets:%Y-%m-%d %H:%M:%S} UTC"
        return RepeatVerdict(False, why, lookup)
    why = {
        "key": "the platform keeps its request key for a time nobody documents",
        "container": "its container is known on one machine only",
    }.get(capabilities.idempotency, "the platform cannot recognise a repeat")
    return RepeatVerdict(False, why, lookup)


def channel_capabilities(config: Config | None, channel: str) -> Capabilities | None:
    """What the channel's configured connector can do; `config` None is a dry run (the
    outbox). None when the channel is not configured or its connector cannot load."""
    if config is None:
        from connectors.outbox import OutboxConnector

        return OutboxConnector.capabilities
    if channel not in config.channels:
        return None
    from connectors.registry import capabilities

    try:
        return capabilities(config.channel_access(channel, credentials={}))
    except Exception:
        return None  # its connector cannot load: assume the worst
