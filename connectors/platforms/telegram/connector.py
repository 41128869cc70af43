"""Telegram channels through the Bot API: sendMessage, sendPhoto/sendVideo, sendMediaGroup.

Text is sent as plain text, with no `parse_mode`: nothing needs escaping, so no character a
campaign writes can make Telegram refuse a post ("can't parse entities") or swallow part of
it, and Telegram still turns the links, #hashtags and @mentions it finds into links. A later
thread part replies to the previous one (`reply_parameters`).

The bot token sits in the URL path: requests carry `/botTOKEN/` and the transport puts the
real token in on the way out (connectors.secreturl), so it never reaches a log or an error.
The Bot API cannot read a channel's history, so a delivery cannot be looked up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import httpx

from campaigns.platforms import PLATFORMS
from connectors.base import (
    AuthFailed,
    Capabilities,
    ChannelAccess,
    CheckReport,
    Connector,
    MediaFile,
    PlatformRef,
    Post,
    Published,
    PublishError,
    Rejected,
    RetryLater,
)
from connectors.http import json_body, retry_after, send, send_safe, server_error, warm
from connectors.secreturl import replace_in_path, secret_client
from connectors.upload import file_size, opened

API = "https://api.telegram.org"
PLACEHOLDER = "/botTOKEN/"
ALBUM_SIZE = range(2, 11)
KINDS = {"image": "photo", "video": "video"}
"""Media the connector sends, by MIME major type, as Telegram's InputMedia types."""
JPEG = "image/jpeg"
THUMBNAIL_MAX_BYTES = 200_000
CHAT_PROBLEMS = re.compile(
    r"chat not found|administrator rights|not enough rights|have no rights|"
    r"CHAT_WRITE_FORBIDDEN|CHAT_ADMIN_REQUIRED|bot is not a member|bot was kicked",
    re.IGNORECASE,
)
"""400 answers about the chat or the bot's rights in it rather than about the post."""


class ChatMigrated(Exception):
    """The group became a supergroup with a new id; the post was not sent."""

    def __init__(self, chat_id: str) -> None:
        super().__init__(chat_id)
        self.chat_id = chat_id


class TelegramConnector(Connector):
    platform: ClassVar[str] = "telegram"
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORMS["telegram"], idempotency="none", lookup=False
    )

    def __init__(self, config: ChannelAccess) -> None:
        super().__init__(config)
        self._token = config.credentials["bot_token"]
        self._configured_chat = str(config.options["chat_id"])
        self._chat_id = self._configured_chat
        self._previews = bool(config.options.get("link_preview", True))
        self._client = secret_client(
            config, API, replace_in_path(PLACEHOLDER, f"/bot{self._token}/")
        )

    # -- publishing ---------------------------------------------------------------------

    def publish(self, post: Post) -> Published:
        try:
            result = self._send(post)
        except ChatMigrated as moved:
            self._chat_id = moved.chat_id
            try:
                result = self._send(post)
            except ChatMigrated:
                raise Rejected("Telegram moved the chat twice in a row", status=400) from None
        return Published(self._ref(result), note=self._migration_note())

    def _send(self, post: Post) -> Any:
        extra: dict[str, Any] = {}
        if post.reply_to:
            extra["reply_parameters"] = {"message_id": _message_id(post.reply_to)}
        if not post.media:
            return self._call("sendMessage", json=self._message(post) | extra)
        kinds = [_kind(media) for media in post.media]
        if len(post.media) > ALBUM_SIZE[-1]:
            raise Rejected(
                f"Telegram takes at most {ALBUM_SIZE[-1]} photos or videos in one post; "
                f"this one has {len(post.media)}"
            )
        with ExitStack() as stack:
            files: dict[str, tuple[str, BinaryIO, str]] = {}

            def attach(name: str, path: Path, mime: str) -> str:
                files[name] = (path.name, stack.enter_context(opened(path)), mime)
                return f"attach://{name}"

            if len(post.media) == 1:
                media = post.media[0]
                fields = {"chat_id": self._chat_id, **_caption(post.text), **extra}
                attach(kinds[0], media.path, media.mime)
                cover = _thumbnail(media) if kinds[0] == "video" else None
                if cover:
                    fields["thumbnail"] = attach("cover", cover, JPEG)
                method = "sendPhoto" if kinds[0] == "photo" else "sendVideo"
                return self._call(method, data=_form(fields), files=files)
            album = []
            for i, (kind, media) in enumerate(zip(kinds, post.media, strict=True)):
                item = {"type": kind, "media": attach(f"file{i}", media.path, media.mime)}
                cover = _thumbnail(media) if kind == "video" else None
                if cover:
                    item["thumbnail"] = attach(f"cover{i}", cover, JPEG)
                album.append(item | (_caption(post.text) if i == 0 else {}))
            fields = {"chat_id": self._chat_id, "media": album, **extra}
            return self._call("sendMediaGroup", data=_form(fields), files=files)

    def _message(self, post: Post) -> dict[str, Any]:
        message: dict[str, Any] = {"chat_id": self._chat_id, "text": post.text}
        preview: dict[str, Any] = {}
        if not self._previews:
            preview["is_disabled"] = True
        elif post.link:
            preview["url"] = post.link
        if preview:
            message["link_preview_options"] = preview
        return message

    def _migration_note(self) -> str | None:
        if self._chat_id == self._configured_chat:
            return None
        return (
            f"Telegram moved chat {self._configured_chat} to the new id {self._chat_id}: set "
            f"options.chat_id of channel '{self.config.name}' in config.yaml to {self._chat_id}"
        )

    def _ref(self, result: Any) -> PlatformRef:
        messages = result if isinstance(result, list) else [result]
        first = messages[0]
        chat = first.get("chat") or {}
        message_id = str(first["message_id"])
        extra = {"chat_id": str(chat.get("id", self._chat_id))}
        if len(messages) > 1:
            extra["message_ids"] = ",".join(str(m["message_id"]) for m in messages)
        return PlatformRef(message_id, _message_url(chat, message_id), extra)

    # -- calls --------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        *,
        json: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, BinaryIO, str]] | None = None,
        creates: bool = True,
    ) -> Any:
        request = self._client.build_request(
            "POST", f"{PLACEHOLDER}{method}", json=json, data=data, files=files
        )
        response = (send if creates else send_safe)(self._client, request, "Telegram")
        body = json_body(response)
        body = body if isinstance(body, dict) else {}
        if response.is_success and body.get("ok") is True:
            return body.get("result")
        migrate_to = (body.get("parameters") or {}).get("migrate_to_chat_id")
        if response.status_code == 400 and migrate_to is not None:
            raise ChatMigrated(str(migrate_to))
        raise classify(response, body, creates=creates)

    # -- checking -----------------------------------------------------------------------

    def check(self) -> CheckReport:
        rules = self.capabilities.rules
        limits = {
            "max_length": rules.max_length,
            "caption_length": rules.caption_length or rules.max_length,
            "max_media": rules.max_media,
        }
        problems: list[str] = []
        account = None
        try:
            me = self._call("getMe", creates=False)
            account = f"@{me.get('username')}"
            chat = self._call("getChat", json={"chat_id": self._chat_id}, creates=False)
            member = self._call(
                "getChatMember",
                json={"chat_id": self._chat_id, "user_id": me["id"]},
                creates=False,
            )
        except ChatMigrated as moved:
            problems.append(
                f"the chat moved to the new id {moved.chat_id}: set options.chat_id to it"
            )
        except PublishError as error:
            problems.append(error.reason)
        else:
            problems.extend(_membership_problems(chat, member))
        return CheckReport(ok=not problems, account=account, limits=limits, problems=problems)

    def warm(self) -> None:
        warm(self._client)

    def close(self) -> None:
        self._client.close()


def classify(
    response: httpx.Response, body: Mapping[str, Any], *, creates: bool = False
) -> PublishError:
    """The Bot API has no idempotency and cannot read a chat's history: a 5xx to a message
    being sent (a 502 or 504 from Telegram's gateway, typically) leaves it unknown for an
    operator, who can see the chat."""
    status = response.status_code
    description = str(body.get("description") or response.reason_phrase)
    kw: dict[str, Any] = {"status": status, "code": str(body.get("error_code") or status)}
    if status == 429:
        wait = (body.get("parameters") or {}).get("retry_after")
        retry_at = (
            datetime.now(UTC) + timedelta(seconds=float(wait))
            if isinstance(wait, int | float)
            else retry_after(response.headers.get("retry-after"))
        )
        return RetryLater(f"Telegram rate limit: {description}", retry_at=retry_at, **kw)
    if status >= 500:
        reason = f"Telegram answered {status}: {description}"
        return server_error(reason, harmless=not creates, **kw)
    if status in (401, 404):
        return AuthFailed(
            f"Telegram refused the bot token ({status} {description}): check "
            "credentials.bot_token, or ask @BotFather for a new token",
            **kw,
        )
    if status == 403:
        return AuthFailed(
            f"the bot may not post in the chat ({description}): add the bot to the channel "
            "as an administrator allowed to post messages",
            **kw,
        )
    if status == 400 and CHAT_PROBLEMS.search(description):
        # About the chat or the bot's rights in it, not this post: every post would fail
        # the same way, so the channel is held instead.
        return AuthFailed(
            f"Telegram cannot post in the chat ({description}): check options.chat_id, and "
            "that the bot is an administrator of the channel allowed to post messages",
            **kw,
        )
    return Rejected(f"Telegram refused the post: {description}", **kw)


def _membership_problems(chat: Mapping[str, Any], member: Mapping[str, Any]) -> list[str]:
    status = member.get("status")
    where = chat.get("title") or chat.get("username") or chat.get("id")
    if status == "creator":
        return []
    if status != "administrator":
        return [f"the bot is '{status}' in '{where}': make it an administrator of the channel"]
    if chat.get("type") == "channel" and member.get("can_post_messages") is not True:
        return [f"the bot is an administrator of '{where}' but may not post messages there"]
    return []


def _message_id(ref: PlatformRef) -> int:
    try:
        return int(ref.id)
    except ValueError:
        raise Rejected(f"cannot reply to '{ref.id}': not a Telegram message id") from None


def _message_url(chat: Mapping[str, Any], message_id: str) -> str | None:
    if chat.get("username"):
        return f"https://t.me/{chat['username']}/{message_id}"
    chat_id = str(chat.get("id", ""))
    if chat_id.startswith("-100"):
        return f"https://t.me/c/{chat_id[4:]}/{message_id}"
    return None


def _kind(media: MediaFile) -> str:
    kind = KINDS.get(media.mime.partition("/")[0])
    if kind is None:
        raise Rejected(f"Telegram posts photos and videos only, not {media.mime} ({media.path})")
    return kind


def _caption(text: str) -> dict[str, str]:
    return {"caption": text} if text else {}


def _thumbnail(media: MediaFile) -> Path | None:
    """The video's cover, if it is one the Bot API takes as `thumbnail`: a JPEG under
    200 kB (and at most 320 pixels a side, which Telegram checks). Telegram makes its own
    from the video otherwise, so a cover it would not take is not sent."""
    cover = media.thumbnail
    if cover is None or cover.suffix.lower() not in (".jpg", ".jpeg"):
        return None
    return cover if file_size(cover) < THUMBNAIL_MAX_BYTES else None


def _form(fields: Mapping[str, Any]) -> dict[str, str]:
    """Multipart fields: Telegram reads objects and arrays there as JSON strings."""
    return {
        name: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for name, value in fields.items()
    }
