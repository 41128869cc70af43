from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import (
    AuthFailed,
    LookupUnavailable,
    PlatformRef,
    Rejected,
)
from connectors.fakes.params import multipart
from connectors.http import environment_proxy
from connectors.platforms.telegram.connector import TelegramConnector
from connectors.platforms.telegram.fake import TOKEN, Chat, TelegramFake
from tests.connectors.social import (
    Connectors,
    assert_retries_after,
    images,
    post,
)

connector = Connectors(
    TelegramConnector,
    name="telegram-news",
    platform="telegram",
    credentials={"bot_token": TOKEN},
    options={"chat_id": "@clarion_test"},
)


@pytest.fixture
def fake() -> Iterator[TelegramFake]:
    with TelegramFake() as fake:
        yield fake


def test_text_goes_out_as_plain_text(fake: TelegramFake) -> None:
    text = "Don't <b>share</b> *this* [link](x) & #SayNo _now_ @friend"
    published = connector(fake).publish(post(text))

    request = fake.requests[-1]
    assert (request.method, request.path) == ("POST", f"/bot{TOKEN}/sendMessage")
    assert request.json() == {"chat_id": "@clarion_test", "text": text}
    assert fake.posts[-1]["text"] == text
    assert published.ref == PlatformRef(
        "1", "https://t.me/clarion_test/1", {"chat_id": "-1001000000001"}
    )
    assert published.note is None


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=300))
def test_any_text_arrives_unchanged(fake: TelegramFake, text: str) -> None:
    connector(fake).publish(post(text))
    assert fake.posts[-1]["text"] == text


def test_link_preview_follows_the_post_link(fake: TelegramFake) -> None:
    connector(fake).publish(post("Read more", link="https://example.org/sayno?utm_source=tg"))
    assert fake.requests[-1].json()["link_preview_options"] == {
        "url": "https://example.org/sayno?utm_source=tg"
    }
    connector(fake, link_preview=False).publish(post("No card", link="https://example.org/"))
    assert fake.requests[-1].json()["link_preview_options"] == {"is_disabled": True}


def test_one_photo_is_sent_with_its_caption(fake: TelegramFake, tmp_path: Path) -> None:
    media = images(tmp_path, 1)
    published = connector(fake).publish(post("Caption #SayNo", media=media))

    request = fake.requests[-1]
    assert request.path == f"/bot{TOKEN}/sendPhoto"
    parts = multipart(request)
    assert parts["chat_id"].content == b"@clarion_test"
    assert parts["caption"].content == b"Caption #SayNo"
    assert parts["photo"].content == media[0].path.read_bytes()
    assert parts["photo"].content_type == "image/png"
    assert published.ref.id == "1"


def test_a_video_goes_through_send_video(fake: TelegramFake, tmp_path: Path) -> None:
    connector(fake).publish(post("Clip", media=images(tmp_path, 1, mime="video/mp4")))
    assert fake.requests[-1].path == f"/bot{TOKEN}/sendVideo"
    assert "video" in fake.posts[-1]


def test_an_album_carries_the_caption_on_its_first_item(fake: TelegramFake, tmp_path: Path) -> None:
    media = images(tmp_path, 3)
    published = connector(fake).publish(post("Three cards", media=media))

    request = fake.requests[-1]
    assert request.path == f"/bot{TOKEN}/sendMediaGroup"
    parts = multipart(request)
    assert json.loads(parts["media"].content) == [
        {"type": "photo", "media": "attach://file0", "caption": "Three cards"},
        {"type": "photo", "media": "attach://file1"},
        {"type": "photo", "media": "attach://file2"},
    ]
    assert [parts[f"file{i}"].content for i in range(3)] == [m.path.read_bytes() for m in media]
    assert published.ref.id == "1"
    assert published.ref.extra["message_ids"] == "1,2,3"
    assert len(fake.posts) == 3


def test_more_than_ten_media_is_rejected_before_sending(fake: TelegramFake, tmp_path: Path) -> None:
    with pytest.raises(Rejected, match="at most 10"):
        connector(fake).publish(post("Too many", media=images(tmp_path, 11)))
    assert fake.requests == []


def test_a_thread_is_a_reply_chain(fake: TelegramFake, tmp_path: Path) -> None:
    tg = connector(fake)
    first = tg.publish(post("1/ Tips"))
    second = tg.publish(post("2/ More", reply_to=first.ref, thread_root=first.ref))
    third = tg.publish(
        post("3/ End", media=images(tmp_path, 1), reply_to=second.ref, thread_root=first.ref)
    )

    assert fake.requests[1].json()["reply_parameters"] == {"message_id": 1}
    assert json.loads(multipart(fake.requests[2])["reply_parameters"].content) == {"message_id": 2}
    assert fake.posts[1]["reply_to_message"]["message_id"] == 1
    assert fake.posts[2]["reply_to_message"]["message_id"] == int(second.ref.id)
    assert third.ref.id == "3"


def test_flood_control_gives_retry_after(fake: TelegramFake) -> None:
    fake.flood(retry_after=37)
    caught = assert_retries_after(connector(fake), timedelta(seconds=37))
    assert caught.status == 429
    assert fake.posts == []


def test_a_server_error_to_a_read_is_retried(fake: TelegramFake) -> None:
    fake.respond(502, "<html>Bad Gateway</html>", path="getMe")
    report = connector(fake).check()
    assert not report.ok and "502" in report.problems[0]


def test_revoked_token_holds_the_channel(fake: TelegramFake) -> None:
    fake.revoke()
    with pytest.raises(AuthFailed, match="bot_token") as caught:
        connector(fake).publish(post())
    assert caught.value.status == 401


def test_not_found_on_the_token_path_is_an_auth_failure(fake: TelegramFake) -> None:
    fake.respond(404, {"ok": False, "error_code": 404, "description": "Not Found"})
    with pytest.raises(AuthFailed):
        connector(fake).publish(post())


@pytest.mark.parametrize("status", ["left", "member"])
def test_a_bot_that_may_not_post_holds_the_channel(fake: TelegramFake, status: str) -> None:
    fake.chats[0].bot_status = status
    with pytest.raises(AuthFailed, match="administrator") as caught:
        connector(fake).publish(post())
    assert caught.value.status == 403


@pytest.mark.parametrize(
    "description",
    [
        "Bad Request: chat not found",
        "Bad Request: need administrator rights in the channel chat",
        "Bad Request: not enough rights to send text messages to the chat",
    ],
)
def test_a_chat_the_bot_cannot_post_in_holds_the_channel(
    fake: TelegramFake, description: str
) -> None:
    """With a wrong chat_id every post of a burst failed, each to be retried by hand (found
    running `clarion run` against a fake Bot API)."""
    fake.respond(400, {"ok": False, "error_code": 400, "description": description})
    with pytest.raises(AuthFailed, match=r"options\.chat_id") as caught:
        connector(fake).publish(post())
    assert caught.value.status == 400 and description in caught.value.reason


def test_content_the_platform_refuses_is_rejected(fake: TelegramFake) -> None:
    with pytest.raises(Rejected, match="too long") as caught:
        connector(fake).publish(post("x" * 4097))
    assert caught.value.status == 400
    assert fake.posts == []


def test_a_migrated_chat_is_followed_and_reported(fake: TelegramFake) -> None:
    fake.add_chat(Chat(-1002000000002, None, "Supergroup", type="supergroup"))
    fake.chats[0].migrate_to = -1002000000002
    tg = connector(fake)

    published = tg.publish(post("Moved"))
    assert [r.json()["chat_id"] for r in fake.requests] == ["@clarion_test", "-1002000000002"]
    assert published.ref.url == "https://t.me/c/2000000002/1"
    assert published.note is not None
    assert "-1002000000002" in published.note and "options.chat_id" in published.note

    tg.publish(post("Again"))
    assert fake.requests[-1].json()["chat_id"] == "-1002000000002"
    assert len(fake.requests) == 3
    assert len(fake.posts) == 2


def test_there_is_no_lookup(fake: TelegramFake) -> None:
    tg = connector(fake)
    assert tg.capabilities.idempotency == "none"
    assert tg.capabilities.lookup is False
    with pytest.raises(LookupUnavailable):
        tg.lookup(post())


def test_check_reports_the_bot_and_its_rights(fake: TelegramFake) -> None:
    report = connector(fake).check()
    assert report.ok
    assert report.account == "@clarion_bot"
    assert report.limits["caption_length"] == 1024
    assert [r.path.rsplit("/", 1)[1] for r in fake.requests] == [
        "getMe",
        "getChat",
        "getChatMember",
    ]
    assert fake.posts == []


def test_check_finds_a_bot_without_admin_rights(fake: TelegramFake) -> None:
    fake.chats[0].bot_status = "member"
    report = connector(fake).check()
    assert not report.ok
    assert "administrator" in report.problems[0]


def test_check_with_a_revoked_token(fake: TelegramFake) -> None:
    fake.revoke()
    report = connector(fake).check()
    assert not report.ok and "bot_token" in report.problems[0]


def test_a_proxy_from_the_environment_is_still_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token-adding transport replaces httpx's own, so it must pick the proxy itself."""
    monkeypatch.setenv("HTTPS_PROXY", "proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1,.example.org")
    assert environment_proxy(httpx.URL("https://api.telegram.org")) == "http://proxy.internal:3128"
    assert environment_proxy(httpx.URL("https://hooks.example.org/x")) is None
    assert environment_proxy(httpx.URL("http://127.0.0.1:8080")) is None
