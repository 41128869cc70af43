"""A Telegram Bot API fake: channels, the bot's membership, messages, albums, replies.

Answers as core.telegram.org/bots/api documents: `{"ok": true, "result": ...}` or
`{"ok": false, "error_code": N, "description": "...", "parameters": {...}}`.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from connectors.base import ChannelAccess
from connectors.fakes.cli import serve
from connectors.fakes.params import Upload, params
from connectors.fakes.server import FakePlatform, Made, Request, Response

TOKEN = "123456789:AAFakeTokenForTestsOnly-abcdefghij"
UPLOAD_MAX_BYTES = 50 * 1024 * 1024
"""The largest file a bot may upload (Telegram says 50 MB)."""


@dataclass
class Chat:
    id: int
    username: str | None
    title: str
    type: str = "channel"
    bot_status: str = "administrator"
    """creator, administrator, member, restricted, left or kicked."""
    can_post: bool = True
    migrate_to: int | None = None
    """Set when the chat became a supergroup with this new id."""
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)


def ok(result: Any) -> Response:
    return Response(200, {"ok": True, "result": result})


def error(status: int, description: str, **parameters: Any) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return Response(status, body)


class TelegramFake(FakePlatform):
    BOT_ID = 123456789
    publish_route = ("POST", r"/send(Message|Photo|Video|MediaGroup)$")

    def __init__(self, *, token: str = TOKEN, latency: float = 0.0) -> None:
        self.token = token
        self.chats: list[Chat] = [Chat(-1001000000001, "clarion_test", "Clarion test")]
        self.posts: list[dict[str, Any]] = []
        """Every message created, in order (an album adds one per photo)."""
        self.received: dict[int, str] = {}
        """A message's file, by message id: its media type as uploaded."""
        self._next_id = 1
        super().__init__(latency=latency)

    # -- the contract -------------------------------------------------------------------

    def channel(self) -> ChannelAccess:
        return ChannelAccess(
            "telegram-main",
            "telegram",
            None,
            {"bot_token": TOKEN},
            self.base_url,
            {"chat_id": "@clarion_test"},
            timeout=2.0,
        )

    def throttle(self, until: datetime) -> Response:
        """Flood control: `parameters.retry_after`, in seconds, and no header."""
        wait = max(math.ceil(until.timestamp() - time.time()), 1)
        return error(429, f"Too Many Requests: retry after {wait}", retry_after=wait)

    def published(self) -> list[Made]:
        """Messages in order, an album as one post."""
        made: list[Made] = []
        with self.lock:
            for i, message in enumerate(self.posts):
                file = self.received.get(message["message_id"])
                media = (file,) if file else ()
                group = message.get("media_group_id")
                if i and group and self.posts[i - 1].get("media_group_id") == group:
                    made[-1] = replace(made[-1], media=made[-1].media + media)
                    continue
                parent = message.get("reply_to_message")
                text = message.get("text") or message.get("caption") or ""
                made.append(Made(text, media, str(parent["message_id"]) if parent else None))
        return made

    # -- scripting ------------------------------------------------------------------------

    def add_chat(self, chat: Chat) -> Chat:
        with self.lock:
            self.chats.append(chat)
        return chat

    def flood(self, retry_after: int, times: int = 1) -> None:
        """The next sends meet Telegram's 429 flood control."""
        self.respond(
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            },
            times=times,
        )

    def revoke(self) -> None:
        """The token was revoked with @BotFather."""
        with self.lock:
            self.token = "revoked"

    # -- serving --------------------------------------------------------------------------

    def routes(self) -> None:
        self.route("POST", r"/bot(?P<token>[^/]+)/(?P<method>\w+)", self._method)
        self.route("GET", r"/bot(?P<token>[^/]+)/(?P<method>\w+)", self._method)

    def _method(self, request: Request) -> Response:
        if request.match["token"] != self.token:
            return error(401, "Unauthorized")
        handler = getattr(self, f"_{request.match['method']}", None)
        if handler is None:
            return error(404, "Not Found")
        result: Response = handler(params(request))
        return result

    def _find(self, chat_id: Any) -> Chat | None:
        key = str(chat_id)
        for chat in self.chats:
            if key in (str(chat.id), f"@{chat.username}"):
                return chat
        return None

    def _writable(self, args: dict[str, Any]) -> Chat | Response:
        chat = self._find(args.get("chat_id"))
        if chat is None:
            return error(400, "Bad Request: chat not found")
        if chat.migrate_to is not None:
            return error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=chat.migrate_to,
            )
        if chat.bot_status in ("left", "kicked"):
            return error(403, "Forbidden: bot is not a member of the channel chat")
        if chat.type == "channel" and (chat.bot_status == "member" or not chat.can_post):
            return error(403, "Forbidden: need administrator rights in the channel chat")
        return chat

    def _reply(self, chat: Chat, args: dict[str, Any]) -> dict[str, Any] | Response | None:
        raw = args.get("reply_parameters")
        if raw is None:
            return None
        reply = json.loads(raw) if isinstance(raw, str) else raw
        parent = chat.messages.get(int(reply.get("message_id", 0)))
        if parent is None:
            return error(400, "Bad Request: message to be replied not found")
        return parent

    def _create(self, chat: Chat, fields: dict[str, Any]) -> dict[str, Any]:
        message = {
            "message_id": self._next_id,
            "date": int(time.time()),
            "chat": {"id": chat.id, "type": chat.type, "title": chat.title}
            | ({"username": chat.username} if chat.username else {}),
            **fields,
        }
        self._next_id += 1
        chat.messages[message["message_id"]] = message
        self.posts.append(message)
        return message

    def _sendMessage(self, args: dict[str, Any]) -> Response:
        chat = self._writable(args)
        if isinstance(chat, Response):
            return chat
        text = str(args.get("text") or "")
        if not text:
            return error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return error(400, "Bad Request: message is too long")
        parent = self._reply(chat, args)
        if isinstance(parent, Response):
            return parent
        fields: dict[str, Any] = {"text": text}
        if parent:
            fields["reply_to_message"] = parent
        if args.get("link_preview_options"):
            fields["link_preview_options"] = args["link_preview_options"]
        return ok(self._create(chat, fields))

    def _send_media(self, args: dict[str, Any], kind: str) -> Response:
        chat = self._writable(args)
        if isinstance(chat, Response):
            return chat
        upload = args.get(kind)
        if not isinstance(upload, Upload) or not upload.content:
            return error(400, f"Bad Request: there is no {kind} in the request")
        if len(upload.content) > UPLOAD_MAX_BYTES:
            return error(413, "Request Entity Too Large")
        caption = str(args.get("caption") or "")
        if len(caption) > 1024:
            return error(400, "Bad Request: message caption is too long")
        parent = self._reply(chat, args)
        if isinstance(parent, Response):
            return parent
        fields: dict[str, Any] = {kind: _media(kind, upload, _thumbnail(args, args))}
        if caption:
            fields["caption"] = caption
        if parent:
            fields["reply_to_message"] = parent
        message = self._create(chat, fields)
        self.received[message["message_id"]] = upload.content_type
        return ok(message)

    def _sendPhoto(self, args: dict[str, Any]) -> Response:
        return self._send_media(args, "photo")

    def _sendVideo(self, args: dict[str, Any]) -> Response:
        return self._send_media(args, "video")

    def _sendMediaGroup(self, args: dict[str, Any]) -> Response:
        chat = self._writable(args)
        if isinstance(chat, Response):
            return chat
        try:
            items = json.loads(args.get("media") or "[]")
        except ValueError:
            return error(400, "Bad Request: can't parse media JSON object")
        if not 2 <= len(items) <= 10:
            return error(400, "Bad Request: wrong number of media in the album")
        uploads = []
        for item in items:
            name = str(item.get("media", "")).removeprefix("attach://")
            upload = args.get(name)
            if item.get("type") not in ("photo", "video") or not isinstance(upload, Upload):
                return error(400, "Bad Request: wrong file identifier/HTTP URL specified")
            if len(item.get("caption") or "") > 1024:
                return error(400, "Bad Request: message caption is too long")
            if len(upload.content) > UPLOAD_MAX_BYTES:
                return error(413, "Request Entity Too Large")
            uploads.append((item, upload))
        parent = self._reply(chat, args)
        if isinstance(parent, Response):
            return parent
        group = f"album{self._next_id}"
        messages = []
        for item, upload in uploads:
            fields: dict[str, Any] = {
                "media_group_id": group,
                item["type"]: _media(item["type"], upload, _thumbnail(item, args)),
            }
            if item.get("caption"):
                fields["caption"] = item["caption"]
            if parent:
                fields["reply_to_message"] = parent
            messages.append(self._create(chat, fields))
            self.received[messages[-1]["message_id"]] = upload.content_type
        return ok(messages)

    def _getMe(self, args: dict[str, Any]) -> Response:
        return ok(
            {"id": self.BOT_ID, "is_bot": True, "first_name": "Clarion", "username": "clarion_bot"}
        )

    def _getChat(self, args: dict[str, Any]) -> Response:
        chat = self._find(args.get("chat_id"))
        if chat is None:
            return error(400, "Bad Request: chat not found")
        found: dict[str, Any] = {"id": chat.id, "type": chat.type, "title": chat.title}
        if chat.username:
            found["username"] = chat.username
        return ok(found)

    def _getChatMember(self, args: dict[str, Any]) -> Response:
        chat = self._find(args.get("chat_id"))
        if chat is None:
            return error(400, "Bad Request: chat not found")
        member: dict[str, Any] = {
            "status": chat.bot_status,
            "user": {"id": self.BOT_ID, "is_bot": True, "username": "clarion_bot"},
        }
        if chat.bot_status == "administrator":
            member["can_post_messages"] = chat.can_post
        return ok(member)


def _thumbnail(fields: dict[str, Any], args: dict[str, Any]) -> Upload | None:
    """A video's `thumbnail`: the file itself, or `attach://<name>` naming another part.
    Telegram keeps it only as a JPEG under 200 kB; otherwise it makes its own."""
    value = fields.get("thumbnail")
    if isinstance(value, str) and value.startswith("attach://"):
        value = args.get(value.removeprefix("attach://"))
    if not isinstance(value, Upload):
        return None
    usable = value.content_type == "image/jpeg" and len(value.content) < 200_000
    return value if usable else None


def _file(kind: str, upload: Upload) -> dict[str, Any]:
    size = len(upload.content)
    unique = f"{kind}-{size}-{hash(upload.content) & 0xFFFF:x}"
    return {"file_id": unique, "file_unique_id": unique, "file_size": size}


def _media(kind: str, upload: Upload, thumbnail: Upload | None) -> Any:
    if kind == "photo":
        return [_file(kind, upload) | {"width": 1, "height": 1}]
    video = _file(kind, upload)
    if thumbnail is not None:
        video["thumbnail"] = _file("thumbnail", thumbnail) | {"width": 320, "height": 180}
    return video


def main() -> None:
    serve(lambda latency: TelegramFake(latency=latency))


if __name__ == "__main__":
    main()
