"""The operator's changes from the web view: the ledger calls that `clarion pause`, `resume`,
`retry`, `cancel` and `resolve` make, with the same checks, recorded in the history under the
operator's name (`alice@web`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

from connectors.base import PlatformRef
from scheduler.config import Config
from scheduler.ledger.api import LedgerError
from scheduler.ledger.sql import SqlLedger
from scheduler.repeats import channel_capabilities, repeat_verdict

Action = Callable[[SqlLedger, Mapping[str, str], str], tuple[bool, str]]
"""(ledger, form, who) -> (done, message for the operator)."""


def _reason(form: Mapping[str, str]) -> str | None:
    return form.get("reason", "").strip() or None


def pause(ledger: SqlLedger, form: Mapping[str, str], by: str) -> tuple[bool, str]:
    campaign = form.get("campaign") or None
    ledger.pause(campaign, _reason(form), by, datetime.now(UTC))
    what = f"campaign {campaign}" if campaign else "every campaign"
    return True, f"Paused {what}: nothing more of it starts going out until resumed."


def resume(ledger: SqlLedger, form: Mapping[str, str], by: str) -> tuple[bool, str]:
    campaign = form.get("campaign") or None
    if campaign not in {c.campaign for c in ledger.controls()}:
        return False, "Nothing to do: it was not paused."
    ledger.resume(campaign, by, datetime.now(UTC))
    return True, f"Resumed {f'campaign {campaign}' if campaign else 'every campaign'}."


def retry(config: Config, ledger: SqlLedger, form: Mapping[str, str], by: str) -> tuple[bool, str]:
    """The guard of `clarion retry`: a delivery that may have gone out (unknown, even if
    cancelled since) is sent again only where its channel recognises a repeat, or when the
    operator ticks 'post again even if it may appear twice'."""
    key = form.get("key", "")
    now = datetime.now(UTC)
    row = ledger.find(key)
    capabilities = channel_capabilities(config, row.channel)
    verdict = repeat_verdict(capabilities, ledger.history(key), now)
    if not verdict.safe and form.get("force") != "yes":
        return False, (
            f"{key} may already have gone out, and {verdict.why} (channel {row.channel}): "
            "check the account and resolve it, or tick 'post again even if it may appear twice'."
        )
    ledger.retry(key, by, now)
    return True, f"{key} is planned again and goes out at the daemon's next sweep."


def cancel(ledger: SqlLedger, form: Mapping[str, str], by: str) -> tuple[bool, str]:
    key = form.get("key", "")
    ledger.cancel(key, _reason(form), by, datetime.now(UTC))
    return True, f"{key} is cancelled: it will not go out."


def resolve(ledger: SqlLedger, form: Mapping[str, str], by: str) -> tuple[bool, str]:
    key = form.get("key", "")
    url = form.get("url", "").strip()
    ref = None
    if form.get("outcome") == "sent":
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False, "Give the post's full address, https://…"
        ref = PlatformRef(parts.path.rstrip("/").rsplit("/", 1)[-1] or url, url)
    ledger.resolve(key, ref, by, datetime.now(UTC))
    if ref is not None:
        return True, f"{key} is recorded as sent, at {url}."
    return True, f"{key} is planned again and goes out at the daemon's next sweep."


def _guarded(action: Action) -> Action:
    """The ledger's refusals (no such delivery, not in a state for it) as messages."""

    def run(ledger: SqlLedger, form: Mapping[str, str], by: str) -> tuple[bool, str]:
        try:
            return action(ledger, form, by)
        except LedgerError as exc:
            return False, str(exc)

    return run


def actions(config: Config) -> dict[str, Action]:
    chosen: dict[str, Action] = {
        "pause": pause,
        "resume": resume,
        "retry": functools.partial(retry, config),
        "cancel": cancel,
        "resolve": resolve,
    }
    return {name: _guarded(action) for name, action in chosen.items()}
