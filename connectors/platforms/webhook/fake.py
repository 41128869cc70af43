"""Fakes of the services behind a webhook channel, on one loopback server.

- Slack incoming webhook: `POST /services/T…/B…/<secret>`, `{text}`, answers `ok`.
- Discord webhook: `POST /api/webhooks/<id>/<token>[?wait=true]` (the message, or 204),
  `GET` on the same address (the webhook).
- Microsoft Teams Workflows: `POST /workflows/<id>/triggers/manual/paths/invoke?…&sig=…`,
  one Adaptive Card, answers 202.
- Generic: `POST /hooks/clarion`, our JSON, drops repeats of an `Idempotency-Key`.
- Matrix client-server API: send with a transaction id (idempotent per access token),
  `/messages`, `/account/whoami`, `/joined_rooms`, `/directory/room/<alias>`.
"""

from __future__ import annotations

import itertools
import math
import time
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from connectors.base import ChannelAccess
from connectors.fakes.cli import serve
from connectors.fakes.params import params
from connectors.fakes.server import FakePlatform, Made, Request, Response

SLACK_SECRET = "T0001/B0001/slackSecretXYZ"
DISCORD_SECRET = "112233/discordSecretXYZ"
TEAMS_SIG = "teamsSigSecretXYZ"
MATRIX_TOKEN = "syt_matrix_secret_token"
MATRIX_USER = "@clarion:example.org"
ROOM = "!news:example.org"
ALIAS = "#news:example.org"


class WebhookFake(FakePlatform):
    publish_route = ("POST", r"^/hooks/clarion$")
    """`channel()` is a generic webhook: our JSON, each post one request."""

    def __init__(self, *, latency: float = 0.0) -> None:
        self.posts: list[dict[str, Any]] = []
        """Every message delivered: {"format": ..., "body": ..., ...}."""
        self.revoked: set[str] = set()
        """Formats whose webhook was deleted (or whose token was revoked)."""
        self.joined = True
        self._ids = itertools.count(1)
        self._generic_keys: dict[str, dict[str, Any]] = {}
        self._matrix_txns: dict[tuple[str, str], str] = {}
        self.events: list[dict[str, Any]] = []
        """The Matrix room's timeline, oldest first (our messages and others')."""
        super().__init__(latency=latency)

    # -- the contract -------------------------------------------------------------------

    def channel(self) -> ChannelAccess:
        return ChannelAccess(
            "webhook-main",
            "webhook",
            None,
            {"url": self.generic_url},
            None,
            {"format": "generic"},
            timeout=2.0,
        )

    def throttle(self, until: datetime) -> Response:
        """What docs/platforms/webhook.md asks of a generic receiver: 429 and `Retry-After`."""
        wait = max(math.ceil(until.timestamp() - time.time()), 1)
        return Response(429, {"error": "slow down"}, {"Retry-After": str(wait)})

    def revoke(self) -> None:
        """The generic webhook was deleted: it answers 410 Gone."""
        with self.lock:
            self.revoked.add("generic")

    def published(self) -> list[Made]:
        """What the receivers got; media as the generic format lists them (by name and
        type), other formats' messages as text alone."""
        with self.lock:
            return [
                Made(
                    str(record["body"].get("text") or record["body"].get("content") or ""),
                    tuple(str(m.get("mime")) for m in record["body"].get("media") or []),
                )
                if record["format"] != "matrix"
                else Made(str(record["body"].get("body", "")))
                for record in self.posts
            ]

    # -- addresses ----------------------------------------------------------------------

    @property
    def slack_url(self) -> str:
        return f"{self.base_url}/services/{SLACK_SECRET}"

    @property
    def discord_url(self) -> str:
        return f"{self.base_url}/api/webhooks/{DISCORD_SECRET}"

    @property
    def teams_url(self) -> str:
        return (
            f"{self.base_url}/workflows/4f2a/triggers/manual/paths/invoke"
            f"?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={TEAMS_SIG}"
        )

    @property
    def generic_url(self) -> str:
        return f"{self.base_url}/hooks/clarion"

    def add_event(self, body: str, *, sender: str = "@someone:example.org") -> None:
        with self.lock:
            self._event(sender, body, None)

    # -- serving --------------------------------------------------------------------------

    def routes(self) -> None:
        self.route("POST", r"/services/(?P<secret>.+)", self._slack)
        self.route("POST", r"/api/webhooks/(?P<secret>[^/]+/[^/]+)", self._discord)
        self.route("GET", r"/api/webhooks/(?P<secret>[^/]+/[^/]+)", self._discord_get)
        self.route("POST", r"/workflows/[^/]+/triggers/manual/paths/invoke", self._teams)
        self.route("POST", r"/hooks/clarion", self._generic)
        matrix = "/_matrix/client/v3"
        self.route(
            "PUT",
            rf"{matrix}/rooms/(?P<room>[^/]+)/send/m\.room\.message/(?P<txn>[^/]+)",
            self._matrix_send,
        )
        self.route("GET", rf"{matrix}/rooms/(?P<room>[^/]+)/messages", self._matrix_messages)
        self.route("GET", rf"{matrix}/account/whoami", self._matrix_whoami)
        self.route("GET", rf"{matrix}/joined_rooms", self._matrix_joined)
        self.route("GET", rf"{matrix}/directory/room/(?P<alias>[^/]+)", self._matrix_alias)

    def _deliver(self, fmt: str, body: Any, **extra: Any) -> dict[str, Any]:
        record = {"format": fmt, "body": body, "id": str(next(self._ids)), **extra}
        self.posts.append(record)
        return record

    def _slack(self, request: Request) -> Response:
        if request.match["secret"] != SLACK_SECRET or "slack" in self.revoked:
            return Response(404, "no_service")
        body = request.json() if request.body else None
        if not isinstance(body, dict) or not body.get("text"):
            return Response(400, "invalid_payload")
        self._deliver("slack", body)
        return Response(200, "ok")

    def _discord(self, request: Request) -> Response:
        if request.match["secret"] != DISCORD_SECRET or "discord" in self.revoked:
            return Response(404, {"message": "Unknown Webhook", "code": 10015})
        body = request.json() if request.body else None
        content = body.get("content") if isinstance(body, dict) else None
        if not content and not (isinstance(body, dict) and body.get("embeds")):
            return Response(400, {"message": "Cannot send an empty message", "code": 50006})
        if len(content or "") > 2000:
            return Response(400, {"message": "Invalid Form Body", "code": 50035})
        record = self._deliver("discord", body)
        if params(request).get("wait") != "true":
            return Response(204)
        message = {
            "id": f"12{record['id']:0>16}",
            "type": 0,
            "channel_id": "445566",
            "content": content or "",
            "embeds": body.get("embeds", []) if isinstance(body, dict) else [],
            "webhook_id": "112233",
        }
        return Response(200, message)

    def _discord_get(self, request: Request) -> Response:
        if request.match["secret"] != DISCORD_SECRET or "discord" in self.revoked:
            return Response(404, {"message": "Unknown Webhook", "code": 10015})
        return Response(
            200,
            {"id": "112233", "type": 1, "name": "Clarion", "channel_id": "445566"},
        )

    def _teams(self, request: Request) -> Response:
        if params(request).get("sig") != TEAMS_SIG or "teams" in self.revoked:
            return Response(
                401,
                {
                    "error": {
                        "code": "DirectApiAuthorizationRequired",
                        "message": "The request must be authenticated.",
                    }
                },
            )
        body = request.json() if request.body else None
        attachments = body.get("attachments") if isinstance(body, dict) else None
        if (
            not isinstance(body, dict)
            or body.get("type") != "message"
            or not attachments
            or attachments[0].get("contentType") != "application/vnd.microsoft.card.adaptive"
            or attachments[0].get("content", {}).get("type") != "AdaptiveCard"
        ):
            return Response(
                400, {"error": {"code": "InvalidRequestContent", "message": "Bad card"}}
            )
        self._deliver("teams", body)
        return Response(202)

    def _generic(self, request: Request) -> Response:
        if "generic" in self.revoked:
            return Response(410, {"error": "gone"})
        key = request.header("idempotency-key")
        if key and key in self._generic_keys:
            return Response(200, self._generic_keys[key])
        body = request.json() if request.body else None
        if not isinstance(body, dict) or "text" not in body:
            return Response(422, {"error": "text is required"})
        record = self._deliver("generic", body, idempotency_key=key)
        answer = {"id": f"g{record['id']}", "url": f"https://intranet.example/{record['id']}"}
        if key:
            self._generic_keys[key] = answer
        return Response(200, answer)

    # -- Matrix -----------------------------------------------------------------------------

    def _matrix_auth(self, request: Request) -> Response | None:
        if request.header("authorization") != f"Bearer {MATRIX_TOKEN}" or (
            "matrix" in self.revoked
        ):
            return Response(
                401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed."}
            )
        return None

    def _event(self, sender: str, body: str, txn: str | None) -> dict[str, Any]:
        event: dict[str, Any] = {
            "type": "m.room.message",
            "room_id": ROOM,
            "sender": sender,
            "event_id": f"${next(self._ids)}abc:example.org",
            "origin_server_ts": int(time.time() * 1000),
            "content": {"msgtype": "m.text", "body": body},
            "unsigned": {"transaction_id": txn} if txn else {},
        }
        self.events.append(event)
        return event

    def _matrix_send(self, request: Request) -> Response:
        denied = self._matrix_auth(request)
        if denied:
            return denied
        if unquote(request.match["room"]) != ROOM or not self.joined:
            return Response(403, {"errcode": "M_FORBIDDEN", "error": "User not in room"})
        txn = unquote(request.match["txn"])
        if (MATRIX_TOKEN, txn) in self._matrix_txns:
            return Response(200, {"event_id": self._matrix_txns[(MATRIX_TOKEN, txn)]})
        content = request.json()
        if not isinstance(content, dict) or not content.get("body"):
            return Response(400, {"errcode": "M_BAD_JSON", "error": "body is required"})
        event = self._event(MATRIX_USER, str(content["body"]), txn)
        self._matrix_txns[(MATRIX_TOKEN, txn)] = event["event_id"]
        self._deliver("matrix", content, event_id=event["event_id"], txn=txn)
        return Response(200, {"event_id": event["event_id"]})

    def _matrix_messages(self, request: Request) -> Response:
        denied = self._matrix_auth(request)
        if denied:
            return denied
        args = params(request)
        limit = int(args.get("limit", 10))
        start = int(args.get("from", len(self.events)))
        chunk = list(reversed(self.events[max(0, start - limit) : start]))
        visible = [
            event
            | (
                {"unsigned": {}}
                if event["sender"] != MATRIX_USER
                else {"unsigned": dict(event["unsigned"])}
            )
            for event in chunk
        ]
        page: dict[str, Any] = {"chunk": visible, "start": str(start)}
        if start - limit > 0:
            page["end"] = str(start - limit)
        return Response(200, page)

    def _matrix_whoami(self, request: Request) -> Response:
        return self._matrix_auth(request) or Response(200, {"user_id": MATRIX_USER})

    def _matrix_joined(self, request: Request) -> Response:
        denied = self._matrix_auth(request)
        return denied or Response(200, {"joined_rooms": [ROOM] if self.joined else []})

    def _matrix_alias(self, request: Request) -> Response:
        if unquote(request.match["alias"]) != ALIAS:
            return Response(404, {"errcode": "M_NOT_FOUND", "error": "Room alias not found"})
        return Response(200, {"room_id": ROOM, "servers": ["example.org"]})


def main() -> None:
    serve(
        lambda latency: WebhookFake(latency=latency),
        lambda fake: "\n".join(
            [
                f"slack:   credentials.url {fake.slack_url}",
                f"discord: credentials.url {fake.discord_url}",
                f"teams:   credentials.url {fake.teams_url}",
                f"generic: credentials.url {fake.generic_url}",
                f"matrix:  credentials.url {fake.base_url}, access_token {MATRIX_TOKEN}, "
                f"options.room {ROOM}",
            ]
        ),
    )


if __name__ == "__main__":
    main()
