"""Mastodon (and servers that speak its API) with httpx.

A status goes out with an `Idempotency-Key` derived from the delivery key: Mastodon keeps the
key for an hour and answers a repeat with the original status, so publishing again after an
ambiguous failure within that hour is harmless. Mastodon writes its error messages in the
account's own language, so errors are told apart by status code alone and the message is
kept, untouched, as the reason.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Mapping
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, ClassVar
from urllib.parse import urlencode

import httpx

from campaigns.platforms import PLATFORMS
from connectors.base import (
    Ambiguous,
    AuthFailed,
    Capabilities,
    ChannelAccess,
    CheckReport,
    Connector,
    Figures,
    FiguresUnavailable,
    LookupUnavailable,
    MediaFile,
    PlatformBudget,
    PlatformRef,
    Post,
    Published,
    PublishError,
    Rejected,
    RetryLater,
)
from connectors.figures import count, figures_error
from connectors.http import (
    build_client,
    iso_reset,
    json_body,
    retry_after,
    send,
    send_safe,
    server_error,
    warm,
)
from connectors.login import LoginIO
from connectors.platforms.mastodon import PLATFORM
from connectors.ratelimits import header_budget, retry_time
from connectors.redaction import excerpt
from connectors.upload import Uploads, opened

VISIBILITIES = ("public", "unlisted", "private", "direct")
SCOPES = "read:accounts read:statuses write:statuses write:media"
OOB = "urn:ietf:wg:oauth:2.0:oob"
LOOKUP_SKEW = timedelta(minutes=10)
"""How long before its due time a delivery's status is looked for (clocks differ)."""
LOOKUP_PAGES = 5
NOT_READY_RETRIES = 3


def _base_url(config: ChannelAccess) -> str:
    if not config.base_url:
        raise ValueError(f"mastodon needs base_url: {PLATFORM.base_url}")
    return config.base_url


def _budget(response: httpx.Response, scope: str) -> list[PlatformBudget]:
    found = header_budget(response.headers, "x-ratelimit", scope, iso_reset)
    return [found] if found else []


def classify(
    response: httpx.Response, action: str, *, replying: bool = False, creates: bool = False
) -> PublishError:
    """The error a Mastodon answer means, by status code: its message is localized.

    A server error to a status being created is ambiguous, as on any platform: the post may
    exist while its idempotency key is not stored yet (Mastodon stores it after the post).
    The dispatcher settles it by sending again with the same key once the server is surely
    done (`reconcile_after`), within the hour Mastodon keeps the key."""
    status = response.status_code
    body = json_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    detail = f": {excerpt(str(error), 300)}" if error else ""
    reason = f"Mastodon refused to {action} ({status}{detail})"
    headers = response.headers
    if status == 429:
        when = retry_time(_budget(response, action), retry_after(headers.get("retry-after")))
        return RetryLater(reason, retry_at=when, status=status)
    if status in (401, 403):
        return AuthFailed(reason, status=status)
    if status == 404 and not replying:
        return AuthFailed(f"{reason}: is the channel's base_url right?", status=status)
    if status >= 500:
        when = retry_after(headers.get("retry-after"))
        return server_error(reason, harmless=not creates, retry_at=when, status=status)
    return Rejected(reason, status=status)


def _same_text(a: str, b: str) -> bool:
    return unicodedata.normalize("NFC", a).strip() == unicodedata.normalize("NFC", b).strip()


class MastodonConnector(Connector):
    platform: ClassVar[str] = "mastodon"
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORMS["mastodon"],
        idempotency="key",
        lookup=True,
        figures=True,
        idempotency_window=timedelta(hours=1),
    )

    def __init__(self, config: ChannelAccess) -> None:
        super().__init__(config)
        token = config.credentials.get("access_token")
        if not token:
            raise ValueError("mastodon needs the credential access_token")
        options = config.options
        self.visibility = str(options.get("visibility", "public"))
        if self.visibility not in VISIBILITIES:
            raise ValueError(
                f"options.visibility '{self.visibility}' is not one of {', '.join(VISIBILITIES)}"
            )
        self.content_warning = str(options.get("content_warning") or "")
        self.sensitive = bool(options.get("sensitive", False))
        self.media_timeout = float(options.get("media_timeout", 60))
        self.poll_interval = 0.5
        """Seconds between two looks at media the server is still processing."""
        self._client = build_client(config, _base_url(config), {"Authorization": f"Bearer {token}"})
        self._account_id: str | None = None
        self._uploads = Uploads(options.get("state_dir"), config.name, "mastodon", "Mastodon")

    def warm(self) -> None:
        warm(self._client)

    def close(self) -> None:
        self._client.close()

    # -- requests ----------------------------------------------------------------------

    def _get(
        self, path: str, action: str, params: Mapping[str, str | int] | None = None
    ) -> httpx.Response:
        request = self._client.build_request("GET", path, params=params)
        response = send_safe(self._client, request, "Mastodon")
        if response.status_code >= 400:
            raise classify(response, action)
        return response

    def _me(self) -> str:
        if self._account_id is None:
            account = self._get("/api/v1/accounts/verify_credentials", "read the account")
            self._account_id = str(account.json()["id"])
        return self._account_id

    # -- media -------------------------------------------------------------------------

    def _upload(self, key: str, index: int, media: MediaFile) -> str:
        """`POST /api/v2/media` with the alt text and a video's cover image, both files
        streamed from disk; unless an earlier attempt's upload of the same file is still on
        the server, not yet attached (after a crash, or a wait for processing cut short)."""
        earlier, record = self._uploads.earlier(key, index, media.path)
        if earlier and self._held(earlier, media.path.name):
            return earlier
        with ExitStack() as files:
            parts: dict[str, tuple[str, BinaryIO, str | None]] = {
                "file": (media.path.name, files.enter_context(opened(media.path)), media.mime)
            }
            if media.thumbnail:
                cover = files.enter_context(opened(media.thumbnail))
                parts["thumbnail"] = (media.thumbnail.name, cover, None)  # httpx names its type
            request = self._client.build_request(
                "POST",
                "/api/v2/media",
                data={"description": media.alt} if media.alt else None,
                files=parts,
            )
            response = send_safe(self._client, request, "Mastodon")
        if response.status_code not in (200, 202):
            raise classify(response, f"take {media.path.name}")
        body = json_body(response)
        if not isinstance(body, dict) or not body.get("id"):
            raise RetryLater(f"Mastodon took {media.path.name} but did not say its id")
        media_id = str(body["id"])
        if response.status_code == 202:
            record(media_id)
            self._wait_processed(media_id, media.path.name)
        return media_id

    def _held(self, media_id: str, name: str) -> bool:
        """Whether the server still has this unattached upload (it deletes them after a day),
        once it has processed it."""
        request = self._client.build_request("GET", f"/api/v1/media/{media_id}")
        response = send_safe(self._client, request, "Mastodon")
        if response.status_code == 404:
            return False
        if response.status_code >= 400:
            raise classify(response, f"process {name}")
        if response.status_code == 206:
            self._wait_processed(media_id, name)
        return True

    def _wait_processed(self, media_id: str, name: str) -> None:
        """202 means the server processes the file in the background (its `url` is null):
        a look answers 206 until it is done, then 200 with the `url`, or 422 when the server
        could not process it (a Rejected, with the server's words)."""
        deadline = time.monotonic() + self.media_timeout
        while True:
            time.sleep(self.poll_interval)
            response = self._get(f"/api/v1/media/{media_id}", f"process {name}")
            body = json_body(response) if response.status_code == 200 else None
            if isinstance(body, dict) and body.get("url"):
                return
            if time.monotonic() + self.poll_interval > deadline:
                raise RetryLater(f"Mastodon is still processing {name}; nothing was posted")

    def _still_processing(self, media_ids: list[str]) -> bool:
        return any(
            self._get(f"/api/v1/media/{i}", "check the media").status_code == 206 for i in media_ids
        )

    # -- the contract ------------------------------------------------------------------

    def publish(self, post: Post) -> Published:
        media_ids = [self._upload(post.key, i, media) for i, media in enumerate(post.media)]
        form: dict[str, str | list[str]] = {"status": post.text}
        if post.reply_to:
            form["in_reply_to_id"] = post.reply_to.id
        if media_ids:
            form["media_ids[]"] = media_ids
        if self.sensitive:
            form["sensitive"] = "true"
        if self.content_warning:
            form["spoiler_text"] = self.content_warning
        form["visibility"] = self.visibility
        if post.language:
            form["language"] = post.language
        headers = {"Idempotency-Key": post.idempotency_key}
        for _ in range(NOT_READY_RETRIES + 1):
            request = self._client.build_request(
                "POST", "/api/v1/statuses", data=form, headers=headers
            )
            response = send(self._client, request, "Mastodon")
            # A 422 may mean "media not processed yet", but its text is localized: ask the
            # media instead, and post again once the server is done with them.
            if not (response.status_code == 422 and media_ids):
                break
            if not self._still_processing(media_ids):
                break
            time.sleep(self.poll_interval)
        else:
            raise RetryLater("Mastodon is still processing the media; nothing was posted")
        if not response.is_success:
            replying = post.reply_to is not None
            raise classify(response, "publish the post", replying=replying, creates=True)
        status = json_body(response)
        if not isinstance(status, dict) or not status.get("id"):
            raise Ambiguous("Mastodon accepted the post but did not say its id")
        self._uploads.forget(post.key)
        return Published(PlatformRef(str(status["id"]), status.get("url") or status.get("uri")))

    def check(self) -> CheckReport:
        try:
            account = self._get("/api/v1/accounts/verify_credentials", "read the account")
            instance = self._instance()
        except PublishError as exc:
            return CheckReport(ok=False, problems=[exc.reason])
        me = account.json()
        self._account_id = str(me["id"])
        configuration = instance.get("configuration") or {}
        statuses = configuration.get("statuses") or {}
        media = configuration.get("media_attachments") or {}
        rules = self.capabilities.rules
        limits = {
            "max_length": statuses.get("max_characters", rules.max_length),
            "max_media": statuses.get("max_media_attachments", rules.max_media),
            "url_length": statuses.get("characters_reserved_per_url", 23),
            "image_max_bytes": media.get("image_size_limit", rules.image_max_bytes),
            "alt_max": media.get("description_limit", rules.alt_max or 0),
        }
        domain = instance.get("domain") or instance.get("uri") or ""
        return CheckReport(
            ok=True,
            account=f"@{me.get('acct')}@{domain}" if domain else f"@{me.get('acct')}",
            limits={k: int(v) for k, v in limits.items()},
            budgets=_budget(account, "requests per 5 min"),
        )

    def _instance(self) -> dict[str, Any]:
        """The instance's settings: API v2 (Mastodon 4.0+), else v1, which has the same
        `configuration` since 3.4."""
        try:
            return dict(self._get("/api/v2/instance", "describe the instance").json())
        except AuthFailed as exc:
            if exc.status != 404:
                raise
        return dict(self._get("/api/v1/instance", "describe the instance").json())

    def lookup(self, post: Post) -> PlatformRef | None:
        """Find the status among the account's own since the due time less ten minutes: same
        reply parent, and the same source text as Mastodon keeps it (`/source`). Within an
        hour of the attempt, publishing again with the same key is simpler and exact."""
        account_id = self._me()
        since = min(post.due - LOOKUP_SKEW, datetime.now(UTC) - timedelta(minutes=1))
        params: dict[str, str | int] = {"limit": 40, "exclude_reblogs": "true"}
        for _ in range(LOOKUP_PAGES):
            page = self._get(f"/api/v1/accounts/{account_id}/statuses", "list posts", params)
            statuses = page.json()
            for status in statuses:
                if datetime.fromisoformat(status["created_at"].replace("Z", "+00:00")) < since:
                    return None
                if post.reply_to and status.get("in_reply_to_id") != post.reply_to.id:
                    continue
                source = self._get(f"/api/v1/statuses/{status['id']}/source", "read a post")
                if _same_text(str(source.json().get("text", "")), post.text):
                    return PlatformRef(str(status["id"]), status.get("url") or status.get("uri"))
            if len(statuses) < 40:
                return None
            params["max_id"] = str(statuses[-1]["id"])
        raise LookupUnavailable(
            f"more than {LOOKUP_PAGES * 40} posts since the due time: cannot tell"
        )

    def figures(self, ref: PlatformRef) -> Figures:
        """Favourites, boosts and replies as the status shows them (`GET /api/v1/statuses/:id`,
        scope read:statuses). A deleted status answers 404."""
        request = self._client.build_request("GET", f"/api/v1/statuses/{ref.id}")
        response = send_safe(self._client, request, "Mastodon")
        if response.status_code == 404:
            raise FiguresUnavailable(
                f"the post {ref.id} is no longer on the server (deleted)", why="gone"
            )
        if response.status_code >= 400:
            raise figures_error(classify(response, "read the post's figures"))
        status = json_body(response)
        if not isinstance(status, dict):
            raise RetryLater("Mastodon answered the post's figures with no status")
        return Figures(
            likes=count(status.get("favourites_count")),
            reposts=count(status.get("reblogs_count")),
            replies=count(status.get("replies_count")),
            quotes=count(status.get("quotes_count")),
        )


def login(io: LoginIO, config: ChannelAccess) -> dict[str, str]:
    """Register Clarion as an app on the instance, have the user authorize it in a browser,
    and trade the code they paste for an access token."""
    base = _base_url(config).rstrip("/")
    with build_client(config, base) as client:

        def call(method: str, path: str, action: str, **kw: Any) -> dict[str, Any]:
            response = send_safe(client, client.build_request(method, path, **kw), "Mastodon")
            if response.status_code >= 400:
                raise classify(response, action)
            body = json_body(response)
            if not isinstance(body, dict):
                raise AuthFailed(f"{base} did not answer as Mastodon does: is base_url right?")
            return body

        app = call(
            "POST",
            "/api/v1/apps",
            "register Clarion as an app",
            data={"client_name": "Clarion", "redirect_uris": OOB, "scopes": SCOPES},
        )
        client_id, client_secret = app["client_id"], app["client_secret"]
        query = {"client_id": client_id, "response_type": "code", "redirect_uri": OOB}
        url = f"{base}/oauth/authorize?{urlencode({**query, 'scope': SCOPES})}"
        io.say(
            "Open this address in a browser where you are logged in to the account that will "
            f"post, and authorize Clarion:\n\n    {url}\n\nThe instance then shows a code."
        )
        code = io.ask("Authorization code").strip()
        token = call(
            "POST",
            "/oauth/token",
            "accept the authorization code",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uri": OOB,
                "scope": SCOPES,
            },
        )
        access_token = str(token["access_token"])
        me = call(
            "GET",
            "/api/v1/accounts/verify_credentials",
            "read the account",
            headers={"Authorization": f"Bearer {access_token}"},
        )
    io.say(f"Authorized: posts will go out as @{me['acct']}.")
    return {"access_token": access_token}
