"""Internal channels: an incoming webhook (Slack, Discord, Microsoft Teams, or our generic
JSON) or a Matrix room.

`options.format` picks the format; `WebhookConnector(config)` returns the class for it.
A webhook address embeds its own secret (Slack, Discord, Teams Workflows), so requests
carry only the host and the transport adds the real path (connectors.secreturl).

Matrix goes through the client-server API rather than a bridge's webhook: sending an event
is a PUT keyed by a transaction id, and the delivery's idempotency key is that id, so the
homeserver itself makes a repeated send harmless, and `lookup()` can find the event again.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from campaigns.platforms import PLATFORMS
from connectors.base import (
    AuthFailed,
    Capabilities,
    ChannelAccess,
    CheckReport,
    Connector,
    LookupUnavailable,
    PlatformRef,
    Post,
    Published,
    PublishError,
    Rejected,
    RetryLater,
)
from connectors.http import (
    build_client,
    json_body,
    retry_after,
    send,
    send_safe,
    server_error,
    warm,
)
from connectors.mediaurl import media_base_url, media_url
from connectors.redaction import excerpt
from connectors.secreturl import secret_client
from connectors.settings import base_url_problem

DISCORD_LIMIT = 2000
MATRIX_LOOKUP_PAGES = 5


class WebhookConnector(Connector):
    platform: ClassVar[str] = "webhook"
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORMS["webhook"], idempotency="none", lookup=False
    )
    label: ClassVar[str]
    """How reasons name the service: "Slack", "Matrix"."""
    shows_images: ClassVar[bool] = False

    def __new__(cls, config: ChannelAccess) -> WebhookConnector:
        return super().__new__(cls.variant(config))

    @classmethod
    def variant(cls, config: ChannelAccess) -> type[WebhookConnector]:
        if cls is not WebhookConnector:
            return cls
        name = str(config.options.get("format", ""))
        if name not in FORMATS:
            raise ValueError(
                f"channel '{config.name}': options.format must be one of "
                f"{', '.join(FORMATS)}, not '{name}'"
            )
        return FORMATS[name]

    def __init__(self, config: ChannelAccess) -> None:
        super().__init__(config)
        self._url = address(config)
        self._client = self._connect()

    @abstractmethod
    def _connect(self) -> httpx.Client: ...

    def _media_note(self, post: Post, images: list[dict[str, str]]) -> str | None:
        if not post.media or images:
            return None
        how = (
            "set options.media_base_url to show them"
            if self.shows_images
            else f"{self.label} shows text only"
        )
        return f"{len(post.media)} media file(s) not sent: {how}"

    def classify(self, response: httpx.Response, *, creates: bool = False) -> PublishError:
        """A 5xx to a message being sent is ambiguous: none of these services has an
        idempotency key or documents a server error as meaning nothing was posted."""
        status = response.status_code
        detail = self._detail(response)
        kw: dict[str, Any] = {"status": status, "code": self._code(response)}
        if status == 429:
            return RetryLater(
                f"{self.label} rate limit{detail}", retry_at=self.retry_at(response), **kw
            )
        if status >= 500:
            harmless = not creates or self.declined(response)
            reason = f"{self.label} answered {status}{detail}"
            return server_error(reason, harmless=harmless, retry_at=self.retry_at(response), **kw)
        if status in (401, 403, 404, 410):
            return AuthFailed(
                f"{self.label} refused the address or the credentials ({status}{detail}): "
                "check credentials.url (a webhook may have been deleted, or its channel "
                "archived)",
                **kw,
            )
        return Rejected(f"{self.label} refused the post ({status}{detail})", **kw)

    def retry_at(self, response: httpx.Response) -> datetime | None:
        return retry_after(response.headers.get("retry-after"))

    def declined(self, response: httpx.Response) -> bool:
        """Whether this server error says for sure that nothing was posted."""
        return False

    def _code(self, response: httpx.Response) -> str | None:
        return None

    def _detail(self, response: httpx.Response) -> str:
        body = json_body(response)
        if isinstance(body, dict):
            error = body.get("error")
            text = str(
                body.get("message")
                or (error.get("message") if isinstance(error, dict) else error)
                or ""
            )
        else:
            text = response.text.strip()
        text = excerpt(text, 200)
        return f": {text}" if text else ""

    def warm(self) -> None:
        warm(self._client)

    def close(self) -> None:
        self._client.close()


def address(config: ChannelAccess) -> httpx.URL:
    """Where requests go: `credentials.url`, or, when the channel sets `base_url` (a proxy, a
    test server), the same path and query on that address instead of the webhook's own host."""
    problem = base_url_problem(config.credentials["url"], "credentials.url", secret=True)
    if problem:
        raise ValueError(problem)
    url = httpx.URL(config.credentials["url"])
    if not config.base_url:
        return url
    base = httpx.URL(config.base_url)
    return base.copy_with(raw_path=base.raw_path.rstrip(b"/") + url.raw_path)


class IncomingWebhook(WebhookConnector):
    """One POST of JSON to a secret address; what the JSON says depends on the service."""

    def _connect(self) -> httpx.Client:
        secret = self._url
        origin = f"{secret.scheme}://{secret.netloc.decode('ascii')}"
        return secret_client(
            replace(self.config, base_url=None),
            origin,
            lambda url: secret.copy_merge_params(url.params),
        )

    @abstractmethod
    def payload(self, post: Post, images: list[dict[str, str]]) -> dict[str, Any]: ...

    def params(self) -> dict[str, str]:
        return {}

    def headers(self, post: Post) -> dict[str, str]:
        return {}

    def ref(self, response: httpx.Response, post: Post) -> PlatformRef:
        return PlatformRef(post.idempotency_key[:16])

    def publish(self, post: Post) -> Published:
        images = self._images(post)
        request = self._client.build_request(
            "POST",
            "/",
            json=self.payload(post, images),
            params=self.params(),
            headers=self.headers(post),
        )
        response = send(self._client, request, self.label)
        if not response.is_success:
            raise self.classify(response, creates=True)
        return Published(self.ref(response, post), note=self._media_note(post, images))

    def _images(self, post: Post) -> list[dict[str, str]]:
        base = media_base_url(self.config)
        if not base or not self.shows_images:
            return []
        return [{"url": media_url(base, media), "alt": media.alt} for media in post.media]

    def check(self) -> CheckReport:
        """An incoming webhook cannot be tried without posting: only its form is checked."""
        return CheckReport(
            ok=True,
            account=f"webhook at {self._url.host} (not tried: trying would post)",
            limits={"max_length": self.capabilities.rules.max_length},
        )


class SlackWebhook(IncomingWebhook):
    label = "Slack"

    def payload(self, post: Post, images: list[dict[str, str]]) -> dict[str, Any]:
        return {"text": slack_escape(post.text)}


def slack_escape(text: str) -> str:
    """Slack reads `&`, `<` and `>` as markup in message text; everything else is as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class DiscordWebhook(IncomingWebhook):
    label = "Discord"
    shows_images = True

    def payload(self, post: Post, images: list[dict[str, str]]) -> dict[str, Any]:
        if len(post.text) > DISCORD_LIMIT:
            raise Rejected(
                f"Discord takes at most {DISCORD_LIMIT} characters; this post has {len(post.text)}"
            )
        payload: dict[str, Any] = {"content": post.text, "allowed_mentions": {"parse": []}}
        if images:
            payload["embeds"] = [
                {"image": {"url": image["url"]}, "description": image["alt"]}
                for image in images[:10]
            ]
        return payload

    def params(self) -> dict[str, str]:
        return {"wait": "true"}

    def ref(self, response: httpx.Response, post: Post) -> PlatformRef:
        body = json_body(response)
        if not isinstance(body, dict) or "id" not in body:
            return super().ref(response, post)
        extra = {"channel_id": str(body.get("channel_id", ""))}
        guild = body.get("guild_id")
        url = f"https://discord.com/channels/{guild}/{body.get('channel_id')}/{body['id']}"
        return PlatformRef(str(body["id"]), url if guild else None, extra)

    def retry_at(self, response: httpx.Response) -> datetime | None:
        body = json_body(response)
        wait = body.get("retry_after") if isinstance(body, dict) else None
        if isinstance(wait, int | float):
            return datetime.now(UTC) + timedelta(seconds=float(wait))
        return super().retry_at(response)

    def _code(self, response: httpx.Response) -> str | None:
        body = json_body(response)
        code = body.get("code") if isinstance(body, dict) else None
        return str(code) if code is not None else None

    def check(self) -> CheckReport:
        """Discord answers a GET on the webhook address with the webhook, without posting."""
        rules = self.capabilities.rules
        limits = {"max_length": min(rules.max_length, DISCORD_LIMIT)}
        request = self._client.build_request("GET", "/")
        try:
            response = send_safe(self._client, request, self.label)
        except PublishError as error:
            return CheckReport(ok=False, limits=limits, problems=[error.reason])
        if not response.is_success:
            return CheckReport(ok=False, limits=limits, problems=[self.classify(response).reason])
        body = json_body(response)
        hook = body if isinstance(body, dict) else {}
        account = f"webhook '{hook.get('name')}' in channel {hook.get('channel_id')}"
        return CheckReport(ok=True, account=account, limits=limits)


class TeamsWebhook(IncomingWebhook):
    """A Workflows ("Post to a channel when a webhook request is received") or incoming
    webhook address: the message carries one Adaptive Card."""

    label = "Microsoft Teams"
    shows_images = True

    def payload(self, post: Post, images: list[dict[str, str]]) -> dict[str, Any]:
        card: dict[str, Any] = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [{"type": "TextBlock", "text": post.text, "wrap": True}]
            + [{"type": "Image", "url": i["url"], "altText": i["alt"]} for i in images],
        }
        if post.language:
            card["lang"] = post.language
        if post.link:
            host = httpx.URL(post.link).host or post.link
            card["actions"] = [{"type": "Action.OpenUrl", "title": host, "url": post.link}]
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": card,
                }
            ],
        }


class GenericWebhook(IncomingWebhook):
    """Our own JSON, for internal tools; the `Idempotency-Key` header lets them drop repeats."""

    label = "the receiver"
    shows_images = True

    def payload(self, post: Post, images: list[dict[str, str]]) -> dict[str, Any]:
        media: list[dict[str, str]] = [
            {"file": m.path.name, "alt": m.alt, "mime": m.mime} for m in post.media
        ]
        for entry, image in zip(media, images, strict=False):
            entry["url"] = image["url"]
        return {
            "key": post.key,
            "text": post.text,
            "link": post.link,
            "media": media,
            "language": post.language,
            "due": post.due.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "reply_to": post.reply_to.id if post.reply_to else None,
        }

    def headers(self, post: Post) -> dict[str, str]:
        return {"Idempotency-Key": post.idempotency_key}

    def ref(self, response: httpx.Response, post: Post) -> PlatformRef:
        body = json_body(response)
        if isinstance(body, dict) and body.get("id") is not None:
            url = body.get("url")
            return PlatformRef(str(body["id"]), str(url) if url else None)
        return super().ref(response, post)

    def _media_note(self, post: Post, images: list[dict[str, str]]) -> str | None:
        return None  # the receiver gets every file's name and alt text

    def declined(self, response: httpx.Response) -> bool:
        """Our documented contract: a receiver answers 503 with Retry-After only when it did
        not take the post (overloaded, in maintenance)."""
        return response.status_code == 503 and self.retry_at(response) is not None


class MatrixRoom(WebhookConnector):
    """`credentials.url` is the homeserver, `credentials.access_token` the bot account's
    token, `options.room` the room id (`!abc:example.org`) or alias (`#news:example.org`)."""

    label = "Matrix"
    capabilities = Capabilities(rules=PLATFORMS["webhook"], idempotency="key", lookup=True)

    def _connect(self) -> httpx.Client:
        token = self.config.credentials.get("access_token")
        room = self.config.options.get("room")
        if not token or not room:
            raise ValueError(
                f"channel '{self.config.name}': format matrix needs credentials.access_token "
                "and options.room"
            )
        self._room = str(room)
        return build_client(
            replace(self.config, base_url=None),
            str(self._url),
            headers={"Authorization": f"Bearer {token}"},
        )

    def publish(self, post: Post) -> Published:
        room = self._room_id()
        body = {"msgtype": "m.text", "body": post.text}
        path = f"{self._rooms(room)}/send/m.room.message/{post.idempotency_key}"
        request = self._client.build_request("PUT", path, json=body)
        response = send(self._client, request, self.label)
        if not response.is_success:
            raise self.classify(response, creates=True)
        event = json_body(response)
        event_id = str(event.get("event_id")) if isinstance(event, dict) else ""
        return Published(self._event_ref(room, event_id), note=self._media_note(post, []))

    def lookup(self, post: Post) -> PlatformRef | None:
        """Our events come back with the transaction id they were sent with, to us alone."""
        room = self._room_id()
        params: dict[str, str] = {"dir": "b", "limit": "100"}
        since = post.due - timedelta(days=1)
        for _ in range(MATRIX_LOOKUP_PAGES):
            page = self._read(f"{self._rooms(room)}/messages", params)
            events = page.get("chunk") or []
            for event in events:
                unsigned = event.get("unsigned") or {}
                if unsigned.get("transaction_id") == post.idempotency_key:
                    return self._event_ref(room, str(event.get("event_id")))
            oldest = min((e.get("origin_server_ts", 0) for e in events), default=0)
            if not events or not page.get("end") or oldest < since.timestamp() * 1000:
                return None
            params["from"] = str(page["end"])
        raise LookupUnavailable(
            f"the room has too many events since {since:%Y-%m-%d %H:%M} UTC to look through"
        )

    def check(self) -> CheckReport:
        limits = {"max_length": self.capabilities.rules.max_length}
        try:
            me = self._read("/_matrix/client/v3/account/whoami")
            room = self._room_id()
            joined = self._read("/_matrix/client/v3/joined_rooms").get("joined_rooms") or []
        except PublishError as error:
            return CheckReport(ok=False, limits=limits, problems=[error.reason])
        problems = [] if room in joined else [f"{me.get('user_id')} has not joined {self._room}"]
        return CheckReport(
            ok=not problems, account=str(me.get("user_id")), limits=limits, problems=problems
        )

    def _room_id(self) -> str:
        if not self._room.startswith("#"):
            return self._room
        alias = quote(self._room, safe="")
        room = self._read(f"/_matrix/client/v3/directory/room/{alias}").get("room_id")
        if not room:
            raise Rejected(f"Matrix knows no room {self._room}")
        self._room = str(room)
        return self._room

    def _read(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        request = self._client.build_request("GET", path, params=params)
        response = send_safe(self._client, request, self.label)
        if not response.is_success:
            raise self.classify(response)
        body = json_body(response)
        return body if isinstance(body, dict) else {}

    @staticmethod
    def _rooms(room: str) -> str:
        return f"/_matrix/client/v3/rooms/{quote(room, safe='')}"

    @staticmethod
    def _event_ref(room: str, event_id: str) -> PlatformRef:
        url = f"https://matrix.to/#/{quote(room, safe='!:')}/{quote(event_id, safe='$:')}"
        return PlatformRef(event_id, url, {"room_id": room})

    def retry_at(self, response: httpx.Response) -> datetime | None:
        body = json_body(response)
        wait = body.get("retry_after_ms") if isinstance(body, dict) else None
        if isinstance(wait, int | float):
            return datetime.now(UTC) + timedelta(milliseconds=float(wait))
        return super().retry_at(response)

    def _code(self, response: httpx.Response) -> str | None:
        body = json_body(response)
        code = body.get("errcode") if isinstance(body, dict) else None
        return str(code) if code else None

    def _detail(self, response: httpx.Response) -> str:
        body = json_body(response)
        text = str(body.get("error") or "") if isinstance(body, dict) else ""
        return f": {excerpt(text, 200)}" if text else ""


FORMATS: dict[str, type[WebhookConnector]] = {
    "slack": SlackWebhook,
    "discord": DiscordWebhook,
    "teams": TeamsWebhook,
    "matrix": MatrixRoom,
    "generic": GenericWebhook,
}
