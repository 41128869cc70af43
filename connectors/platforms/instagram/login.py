"""`clarion login` for Instagram: a short-lived Facebook user token, made in Meta's Graph API
Explorer for the app, traded for a long-lived one (about 60 days), and the Instagram
professional accounts it reaches, whose id goes in `options.user_id`."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.base import AuthFailed, ChannelAccess
from connectors.graph import graph_client, graph_error
from connectors.http import json_body, send_safe
from connectors.login import LoginIO
from connectors.platforms.instagram.connector import API, DEFAULT_VERSION
from connectors.secreturl import secret_client, with_query

SCOPES = (
    "instagram_basic, instagram_content_publish, pages_show_list, pages_read_engagement "
    "(and instagram_manage_comments for threads)"
)


def login(io: LoginIO, config: ChannelAccess) -> dict[str, str]:
    version = str(config.options.get("graph_version") or DEFAULT_VERSION)
    io.say(
        "Instagram posts through a Meta app that has the Instagram product (API setup with "
        "Facebook login). Open https://developers.facebook.com/tools/explorer, choose the "
        f"app, add the permissions {SCOPES}, and press 'Generate Access Token' while logged "
        "in to Facebook as a person who manages the Page linked to the Instagram account."
    )
    app_id = config.credentials.get("app_id") or io.ask("App ID").strip()
    app_secret = config.credentials.get("app_secret") or io.ask("App secret", secret=True).strip()
    short = io.ask("The access token the Explorer shows", secret=True).strip()
    both = with_query("client_secret", app_secret)
    exchange = with_query("fb_exchange_token", short)
    with secret_client(config, API, lambda url: exchange(both(url))) as client:
        answer = _call(
            client,
            f"/{version}/oauth/access_token",
            {"grant_type": "fb_exchange_token", "client_id": app_id},
            "trade the token for a long-lived one",
        )
    token = str(answer.get("access_token") or "")
    if not token:
        raise AuthFailed("Meta answered without a long-lived token")
    with graph_client(config, API, token) as client:
        pages = _call(
            client,
            f"/{version}/me/accounts",
            {"fields": "name,instagram_business_account{id,username}"},
            "list the Pages the token manages",
        )
    accounts = [
        (page.get("name"), page["instagram_business_account"])
        for page in pages.get("data") or []
        if isinstance(page, dict) and isinstance(page.get("instagram_business_account"), dict)
    ]
    if not accounts:
        raise AuthFailed(
            "the token reaches no Instagram professional account: link the account to a "
            "Facebook Page you manage, and grant pages_show_list"
        )
    days = int(answer.get("expires_in") or 0) // 86400
    io.say(
        f"Authorized for about {days} days (log in again before then). Put the id of the "
        "account that posts in options.user_id:\n"
        + "\n".join(
            f"    user_id: '{a.get('id')}'  # @{a.get('username')}, Page {p}" for p, a in accounts
        )
    )
    return {"access_token": token}


def _call(client: httpx.Client, path: str, params: dict[str, str], action: str) -> dict[str, Any]:
    response = send_safe(client, client.build_request("GET", path, params=params), "Instagram")
    body = json_body(response)
    if not response.is_success or not isinstance(body, dict):
        message = graph_error(response).get("message") or response.reason_phrase
        raise AuthFailed(f"Meta refused to {action}: {message}", status=response.status_code)
    return body
