"""Settling deliveries whose outcome is unknown, without an operator (docs/design.md rule 5).

An unknown delivery may have gone out. It is planned again directly where the platform
recognises a repeat (`scheduler.repeats` decides, for `clarion retry` too), otherwise it is
looked up where the platform allows: sent if found, planned again if surely not and a repeat
is harmless, else left unknown for an operator (`clarion resolve`).

The channel's worker runs this (`scheduler.workers`), the only thread that touches its
connector.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import NamedTuple

from connectors.base import Connector, LookupUnavailable, PlatformRef
from scheduler.config import Policies
from scheduler.dispatch import FailureStreak, build_post, utcnow
from scheduler.ledger.api import Cause, ErrorClass, Ledger, NotAllowed, Row, State
from scheduler.repeats import RepeatVerdict, key_window, repeat_verdict

log = logging.getLogger("clarion.reconcile")


class _Resolution(NamedTuple):
    """How an unknown delivery is settled: planned again (`ref` None) or sent at `ref`."""

    ref: PlatformRef | None
    reason: str
    cause: Cause | None = None


def _record_key(connector: Connector) -> bool:
    return connector.capabilities.idempotency == "record-key"


class Reconciler:
    """Settles each channel's unknown deliveries; call `reconcile` for one channel from the
    thread that owns its connector."""

    def __init__(
        self,
        ledger: Ledger,
        connectors: Mapping[str, Connector],
        policies: Policies,
        owner: str,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_settled: Callable[[str, State, str], None] | None = None,
        streak: FailureStreak | None = None,
    ) -> None:
        """`on_settled(key, state, reason)` hears each delivery settled; `streak`: shared
        with the daemon's `Dispatcher`, so that a ledger outage is logged once."""
        self.ledger = ledger
        self.connectors = connectors
        self.policies = policies
        self.owner = owner
        self.clock = clock
        self._on_settled = on_settled
        self._streak = streak or FailureStreak()
        self._looked_up: set[str] = set()
        """Unknown deliveries looked up once, that the look-up did not settle."""

    def reconcile(self, channel: str) -> int:
        """Settle unknown rows of the channel (see the module's docstring). Returns how many
        were settled; never raises."""
        connector = self.connectors.get(channel)
        if connector is None:
            return 0
        looking_up = connector.capabilities.lookup
        repeats = key_window(connector.capabilities) is not None or _record_key(connector)
        if not looking_up and not repeats:
            return 0
        try:
            unknown = self.ledger.rows(states=[State.UNKNOWN], channel=channel)
        except Exception as exc:
            self._streak.failed(exc, "channel %s: the ledger failed during reconciliation", channel)
            return 0
        settled = 0
        for row in unknown:
            if not self._platform_done(connector, row):
                continue
            try:
                resolution = self._resolution(connector, row, looking_up)
            except LookupUnavailable:
                looking_up = False  # the platform cannot tell now; repeats still can
                continue
            except Exception as exc:
                log.warning("%s: lookup failed (%s); left unknown", row.key, type(exc).__name__)
                continue
            if resolution is None:
                continue
            ref, reason, cause = resolution
            try:
                self.ledger.resolve(row.key, ref, self.owner, self.clock(), reason, cause)
            except NotAllowed:
                continue  # an operator settled it meanwhile
            except Exception as exc:
                self._streak.failed(exc, "%s: could not record the reconciliation", row.key)
                break
            if self._on_settled is not None:
                self._on_settled(row.key, State.PLANNED if ref is None else State.SENT, reason)
            settled += 1
        return settled

    def _platform_done(self, connector: Connector, row: Row) -> bool:
        """Whether the platform has surely finished with the request whose answer was lost.

        A slow server may still create the post after the client gave up (or died), and a
        repeat or a look-up made meanwhile sees nothing: Mastodon stores a request key only
        once its post exists, so a repeat racing the original posts twice. Only a record key
        is safe at once: the server itself refuses a second record at that key.
        """
        if _record_key(connector) or row.error_class == ErrorClass.WINDOW:
            return True
        return self.clock() >= row.updated_utc + self.policies.reconcile_after

    def _resolution(self, connector: Connector, row: Row, looking_up: bool) -> _Resolution | None:
        """How the delivery can be settled now: planned again for a repeat the platform
        recognises, else found by a look-up, or surely not found where a repeat is harmless;
        None if it cannot."""
        repeat = self._repeat_verdict(connector, row)
        if repeat.safe:
            return _Resolution(None, repeat.why, repeat.cause)
        if not looking_up:
            return None
        self._looked_up.add(row.key)
        parent, root = self.ledger.thread_refs(row.key)
        ref = connector.lookup(build_post(row.delivery, parent, root))
        if ref is not None:
            return _Resolution(ref, "found on the platform by reconciliation")
        if connector.capabilities.idempotency == "none":
            return None
        return _Resolution(None, "not found on the platform: planned again")

    def settlement(self, row: Row) -> tuple[bool, str]:
        """Whether the daemon will settle this unknown delivery by itself, and how (a repeat
        the platform recognises, or a first look-up), or why only an operator can: for
        `--exit-when-idle`. Reads its history; raises ledger errors."""
        connector = self.connectors.get(row.channel)
        if connector is None:
            return False, f"channel {row.channel} has no working connector in this daemon"
        verdict = self._repeat_verdict(connector, row)
        if verdict.safe:
            return True, "a repeat the platform recognises"
        if connector.capabilities.lookup and row.key not in self._looked_up:
            return True, "a look-up of the platform"
        if connector.capabilities.lookup:
            return False, f"a look-up did not settle it, and {verdict.why}"
        return False, f"{verdict.why}, and it cannot be looked up"

    def _repeat_verdict(self, connector: Connector, row: Row) -> RepeatVerdict:
        return repeat_verdict(connector.capabilities, self.ledger.history(row.key), self.clock())
