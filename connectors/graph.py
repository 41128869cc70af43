"""What Facebook Pages, Threads and Instagram share: Meta's Graph API errors, usage headers,
publishing quotas and token.

Errors are classified by their numeric `code` (and `is_transient`), never by the message,
which Meta localizes. Codes from developers.facebook.com/docs/graph-api/guides/error-handling.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors.base import (
    AuthFailed,
    ChannelAccess,
    Duplicate,
    FiguresUnavailable,
    PlatformBudget,
    PublishError,
    Rejected,
    RetryLater,
)
from connectors.figures import figures_error
from connectors.http import json_body, server_error
from connectors.secreturl import secret_client, with_query

THROTTLED = frozenset({4, 17, 32, 341, 613, 80001, 80002})
"""A rate limit (app, user, Page, Pages or Instagram business use case): the call was
refused, not made."""
TRANSIENT = frozenset({1, 2})
"""An unknown error, the service temporarily unavailable: "wait and retry", which says
nothing of whether a post being created was made."""
AUTH = frozenset({10, 102, 190})
"""Expired, revoked or insufficient tokens; 200-299 are permission errors too."""
DUPLICATE = 506
USAGE_HEADER = "x-business-use-case-usage"
APP_USAGE_HEADER = "x-app-usage"


def graph_client(config: ChannelAccess, default_base_url: str, token: str) -> httpx.Client:
    """Requests carry the token as `access_token`, as Meta documents every call."""
    return secret_client(config, default_base_url, with_query("access_token", token))


def graph_error(response: httpx.Response) -> dict[str, Any]:
    body = json_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def error_code(error: Mapping[str, Any]) -> int | None:
    code = error.get("code")
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


def classify(response: httpx.Response, platform: str, *, creates: bool = False) -> PublishError:
    """The PublishError for a Graph API answer that is not a success.

    `creates`: the call may have made a post public. Meta has no idempotency key, so
    transient trouble (codes 1 and 2, `is_transient`, a 5xx without a code) is then
    ambiguous; a rate limit still means the call was not made.
    """
    error = graph_error(response)
    code = error_code(error)
    status = response.status_code
    subcode = error.get("error_subcode")
    label = f"{code}/{subcode}" if subcode else str(code) if code is not None else None
    message = str(error.get("message") or response.reason_phrase)
    reason = f"{platform} answered {status}" + (f", error {label}: {message}" if label else "")
    kw: dict[str, Any] = {"status": status, "code": label}
    if code in THROTTLED:
        return RetryLater(reason, retry_at=regain_access(response.headers), **kw)
    if code in TRANSIENT or error.get("is_transient") is True:
        when = regain_access(response.headers)
        return server_error(reason, harmless=not creates, retry_at=when, **kw)
    if code in AUTH or (code is not None and 200 <= code <= 299):
        return AuthFailed(reason, **kw)
    if code == DUPLICATE:
        return Duplicate(reason, **kw)
    if code is None:
        if status == 429:
            return RetryLater(reason, retry_at=regain_access(response.headers), **kw)
        if status >= 500:
            when = regain_access(response.headers)
            return server_error(reason, harmless=not creates, retry_at=when, **kw)
        if status in (401, 403):
            return AuthFailed(reason, **kw)
    return Rejected(reason, **kw)


MISSING_OBJECT = (100, 33)
""""Object with ID ... does not exist": for a post this Page or account made, deleted."""


def permission_denied(response: httpx.Response) -> bool:
    """Code 10 or 200-299: the token lacks a permission this read needs."""
    code = error_code(graph_error(response))
    return code == 10 or (code is not None and 200 <= code <= 299)


def figures_failure(
    response: httpx.Response, platform: str, post_id: str, permissions: str
) -> RetryLater | FiguresUnavailable:
    """What a Graph answer to a read of a post's figures means: the post deleted, a
    permission missing (`permissions` names those needed), or a failure to try again."""
    error = graph_error(response)
    if (error_code(error), error.get("error_subcode")) == MISSING_OBJECT:
        return FiguresUnavailable(f"the post {post_id} is no longer on {platform}", why="gone")
    if permission_denied(response):
        message = error.get("message") or response.reason_phrase
        return FiguresUnavailable(
            f"{platform} refused the post's figures ({message}): they need the {permissions} "
            "permission",
            why="not-permitted",
        )
    return figures_error(classify(response, platform))


def insight_values(data: Any) -> dict[str, int]:
    """An insights answer (`{"data": [{"name", "values": [{"value"}]}]}`, or `total_value`)
    as metric name to its latest whole-number value."""
    found: dict[str, int] = {}
    for metric in data if isinstance(data, list) else ():
        if not isinstance(metric, dict) or not isinstance(metric.get("name"), str):
            continue
        values = metric.get("values")
        latest = values[-1] if isinstance(values, list) and values else metric.get("total_value")
        value = latest.get("value") if isinstance(latest, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            found[metric["name"]] = value
    return found


def usage(headers: httpx.Headers) -> list[dict[str, Any]]:
    """The entries of `X-Business-Use-Case-Usage`, one per business object and type."""
    try:
        parsed = json.loads(headers.get(USAGE_HEADER) or "{}")
    except ValueError:
        return []
    if not isinstance(parsed, dict):
        return []
    return [
        entry
        for entries in parsed.values()
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]


def regain_access(headers: httpx.Headers, now: datetime | None = None) -> datetime | None:
    """When a throttled app may call again: `estimated_time_to_regain_access`, in minutes."""
    return _after(max((_eta(entry) for entry in usage(headers)), default=0.0), now)


def usage_budgets(headers: httpx.Headers) -> list[PlatformBudget]:
    """Business use case usage as budgets in percent: the highest of calls, CPU and time."""
    budgets = []
    for entry in usage(headers):
        used = max(
            (
                float(entry[name])
                for name in ("call_count", "total_cputime", "total_time")
                if isinstance(entry.get(name), int | float)
            ),
            default=0.0,
        )
        budgets.append(
            PlatformBudget(
                scope=f"{entry.get('type', 'API')} calls, % of the business use case limit",
                limit=100,
                remaining=max(0, 100 - round(used)),
                resets_at=_after(_eta(entry)),
            )
        )
    return budgets


def app_usage_budget(headers: httpx.Headers) -> PlatformBudget | None:
    """`X-App-Usage` (calls made with a user token, per rolling hour) as a budget in percent:
    the highest of calls, CPU and time."""
    try:
        parsed = json.loads(headers.get(APP_USAGE_HEADER) or "null")
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    used = max((float(v) for v in parsed.values() if isinstance(v, int | float)), default=0.0)
    return PlatformBudget("app calls, % of the hourly limit", 100, max(0, 100 - round(used)), None)


def quota_budget(scope: str, used: Any, config: Any) -> PlatformBudget:
    """A publishing limit as `*_publishing_limit` reads it: the usage and a `config` with
    `quota_total`."""
    total = config.get("quota_total") if isinstance(config, dict) else None
    if not isinstance(total, int):
        return PlatformBudget(scope, None, None, None)
    spent = used if isinstance(used, int) else 0
    return PlatformBudget(scope, total, max(0, total - spent), None)


def _eta(entry: Mapping[str, Any]) -> float:
    value = entry.get("estimated_time_to_regain_access")
    return float(value) if isinstance(value, int | float) else 0.0


def _after(minutes: float, now: datetime | None = None) -> datetime | None:
    return (now or datetime.now(UTC)) + timedelta(minutes=minutes) if minutes > 0 else None
