"""What the YouTube Data API's error answers mean for a delivery.

Google answers errors as `{"error": {"code", "message", "errors": [{"domain", "reason",
"message"}]}}`; the `reason` says what happened, whatever the status: `quotaExceeded` (the
project's daily quota is spent: 403), `rateLimitExceeded` and `userRateLimitExceeded` (too
many requests in a short time: 403 or 429), `uploadLimitExceeded` (the channel's own daily
number of uploads: 400), `insufficientPermissions` (a token without the scope: 403), ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from connectors.base import AuthFailed, PublishError, Rejected, RetryLater
from connectors.http import json_body, retry_after, server_error
from connectors.platforms.youtube.quota import Quota

QUOTA = frozenset({"quotaExceeded", "dailyLimitExceeded"})
SHORT_TERM = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
SHORT_WAIT = timedelta(minutes=1)
"""How long to wait after a short-term rate limit that names no time."""
ACCOUNT = {
    "insufficientPermissions": "the channel's token lacks the YouTube scope Clarion asks for: "
    "run `clarion login` for the channel again and allow every permission",
    "youtubeSignupRequired": "the Google account has no YouTube channel: create it on YouTube",
    "authenticatedUserNotChannel": "the Google account has no YouTube channel: create it on "
    "YouTube",
    "channelClosed": "the YouTube channel is closed",
    "channelSuspended": "the YouTube channel is suspended",
    "authenticatedUserAccountClosed": "the Google account is closed",
    "authenticatedUserAccountSuspended": "the Google account is suspended",
    "accessNotConfigured": "the YouTube Data API v3 is not enabled in the app's Google Cloud "
    "project: enable it in the console's API Library",
}


@dataclass(frozen=True, slots=True)
class GoogleError:
    status: int
    reason: str | None
    message: str


def google_error(response: httpx.Response) -> GoogleError:
    body = json_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    details = [e for e in error.get("errors") or [] if isinstance(e, dict)]
    reason = next((str(e["reason"]) for e in details if e.get("reason")), None)
    message = str(error.get("message") or response.reason_phrase or "no reason given")
    return GoogleError(response.status_code, reason, re.sub(r"<[^>]+>", "", message))


def classify(
    response: httpx.Response, quota: Quota, now: datetime, *, creates: bool = False
) -> PublishError:
    """The error an answer means; `creates`: the request may have made something public."""
    found = google_error(response)
    status, reason, said = found.status, found.reason, found.message
    kw: dict[str, Any] = {"status": status, "code": reason}
    if reason in QUOTA:
        reset = quota.exhausted(now)
        return RetryLater(
            f"the YouTube project's daily quota is spent ({said}): YouTube resets it at "
            f"midnight Pacific time ({reset:%Y-%m-%d %H:%M} UTC); ask Google for more in the "
            "Cloud console if this happens often",
            retry_at=reset,
            **kw,
        )
    if reason in SHORT_TERM or status == 429:
        wait = retry_after(response.headers.get("retry-after"), now) or now + SHORT_WAIT
        return RetryLater(f"YouTube asks to slow down ({said})", retry_at=wait, **kw)
    if reason == "uploadLimitExceeded":
        return RetryLater(
            f"the YouTube channel reached its own limit of uploads for 24 hours ({said})",
            retry_at=now + timedelta(hours=24),
            **kw,
        )
    if status >= 500:
        return server_error(f"YouTube answered {status}: {said}", harmless=not creates, **kw)
    if status == 401:
        return AuthFailed(
            f"YouTube refused the channel's access ({said}): run `clarion login` for the "
            "channel again",
            **kw,
        )
    if reason in ACCOUNT:
        return AuthFailed(f"{ACCOUNT[reason]} ({said})", **kw)
    if status == 403 and reason in (None, "forbidden"):
        return AuthFailed(f"YouTube forbade it ({said})", **kw)
    return Rejected(
        f"YouTube refused it ({status} {reason or ''}): {said}".replace(" )", ")"), **kw
    )
