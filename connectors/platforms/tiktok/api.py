"""Calls to TikTok's open API (open.tiktokapis.com) on behalf of one creator, and TikTok's
errors in the connector's classes.

Every answer carries `{"error": {"code", "message", "log_id"}}`; anything but code `ok` is a
failure, even under HTTP 200 (the creator-info query answers its daily caps that way). The
log id is kept in the reason: TikTok's support asks for it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors.base import AuthFailed, ChannelAccess, PublishError, Rejected, RetryLater
from connectors.http import build_client, json_body, send, send_safe, server_error
from connectors.platforms.tiktok.auth import Tokens

API = "https://open.tiktokapis.com"
RATE_WINDOW = timedelta(minutes=1)
"""TikTok counts requests per access token in a one-minute sliding window and says no more."""
CAP_WAIT = timedelta(hours=1)
"""How long to wait after a daily cap (posts, drafts, publishing accounts): TikTok counts
24 hours back and does not say when the oldest post leaves the window."""

DAILY_CAPS = {
    "spam_risk_too_many_posts": "the account has reached TikTok's daily cap of posts made "
    "through apps",
    "spam_risk_too_many_pending_share": "five drafts sent in the last 24 hours still wait in the "
    "creator's TikTok inbox (TikTok's cap): someone must post or delete them in the app",
    "reached_active_user_cap": "the app has reached TikTok's daily cap of accounts that post "
    "through it",
}
SET_UP = {
    "access_token_invalid": "TikTok refused the access token: run `clarion login` for the "
    "channel again",
    "scope_not_authorized": "the creator has not granted the app the permission this needs "
    "(video.publish to post directly, video.upload for the inbox): run `clarion login` again "
    "and accept every permission",
    "scope_permission_missed": "the access token lacks a permission this needs: run `clarion "
    "login` again and accept every permission",
    "spam_risk_user_banned_from_posting": "TikTok has banned this account from posting: see "
    "the notices in the TikTok app",
    "unaudited_client_can_only_post_to_private_accounts": "TikTok has not audited the app "
    "yet, and such apps may post only to private accounts: make the account private, or have "
    "the app audited (see docs/platforms/tiktok.md)",
    "privacy_level_option_mismatch": "the channel's privacy is not one this TikTok account "
    "offers: change options.privacy (`clarion check` lists what the account offers)",
    "url_ownership_unverified": "TikTok fetches photos only from addresses the app has "
    "verified: verify the domain or prefix of options.media_base_url in the TikTok developer "
    "portal",
}


class TikTokApi:
    """One creator's side of the API: a client, and the access token it renews."""

    def __init__(self, config: ChannelAccess, tokens: Tokens) -> None:
        self.client = build_client(config, API)
        self.tokens = tokens

    def call(
        self,
        path: str,
        body: dict[str, Any] | None,
        action: str,
        *,
        creates: bool = False,
        method: str = "POST",
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The `data` of TikTok's answer. A refused access token is renewed once, and the
        request sent again: a refused token means the request did nothing."""
        for renewed in (False, True):
            token = self.tokens.bearer(self.client)
            request = self.client.build_request(
                method,
                path,
                json=body,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
            response = (send if creates else send_safe)(self.client, request, "TikTok")
            if error_code(response) == "access_token_invalid" and not renewed:
                self.tokens.renew(self.client, failed=token)
                continue
            if response.is_success and error_code(response) in ("ok", None):
                data = _object(json_body(response)).get("data")
                return data if isinstance(data, dict) else {}
            raise api_error(response, action, harmless=not creates)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self.client.close()


def error_code(response: httpx.Response) -> str | None:
    error = _object(json_body(response)).get("error")
    code = error.get("code") if isinstance(error, dict) else None
    return str(code) if code else None


def api_error(response: httpx.Response, action: str, *, harmless: bool) -> PublishError:
    """What TikTok's refusal to `action` means for the delivery."""
    status = response.status_code
    error = _object(_object(json_body(response)).get("error"))
    code = str(error.get("code") or "") or None
    said = _said(error)
    now = datetime.now(UTC)
    if status == 429 or code == "rate_limit_exceeded":
        return RetryLater(
            f"TikTok's per-minute limit for this account was reached while trying to {action}"
            f"{said}; trying again in a minute",
            retry_at=now + RATE_WINDOW,
            status=status,
            code=code,
        )
    if code in DAILY_CAPS:
        return RetryLater(
            f"{DAILY_CAPS[code]}{said}; trying again in an hour",
            retry_at=now + CAP_WAIT,
            status=status,
            code=code,
        )
    if code in SET_UP:
        return AuthFailed(f"{SET_UP[code]}{said}", status=status, code=code)
    if status == 401:
        return AuthFailed(f"TikTok refused the credentials ({status}){said}", status=status)
    if status >= 500:
        return server_error(
            f"TikTok failed to {action} ({status}){said}",
            harmless=harmless,
            status=status,
            code=code,
        )
    return Rejected(
        f"TikTok refused to {action} ({code or status}){said}", status=status, code=code
    )


def _said(error: dict[str, Any]) -> str:
    message = str(error.get("message") or "").strip()
    log_id = str(error.get("log_id") or "").strip()
    words = f": {message}" if message else ""
    return words + (f" (TikTok log id {log_id})" if log_id else "")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
