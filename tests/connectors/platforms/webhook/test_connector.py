from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.base import (
    Ambiguous,
    AuthFailed,
    ChannelAccess,
    Connector,
    LookupUnavailable,
    Rejected,
    RetryLater,
)
from connectors.fakes.server import Fault
from connectors.platforms.webhook.connector import (
    DiscordWebhook,
    GenericWebhook,
    MatrixRoom,
    SlackWebhook,
    TeamsWebhook,
    slack_escape,
)
from connectors.platforms.webhook.fake import (
    ALIAS,
    DISCORD_SECRET,
    MATRIX_TOKEN,
    ROOM,
    SLACK_SECRET,
    TEAMS_SIG,
    WebhookFake,
)
from connectors.registry import create
from tests.connectors.social import (
    HANG,
    IMPATIENT,
    assert_retries_after,
    assert_secret_absent,
    capture_everything,
    closed_port,
    failures,
    images,
    post,
)


@pytest.fixture
def fake() -> Iterator[WebhookFake]:
    with WebhookFake() as fake:
        yield fake


def hook(
    fmt: str,
    url: str,
    *,
    base_url: str | None = None,
    timeout: float = 2.0,
    credentials: dict[str, str] | None = None,
    **options: Any,
) -> Connector:
    return create(
        ChannelAccess(
            name=f"{fmt}-team",
            platform="webhook",
            credentials={"url": url, **(credentials or {})},
            base_url=base_url,
            options={"format": fmt, **options},
            timeout=timeout,
        )
    )


def matrix(fake: WebhookFake, room: str = ROOM, **kw: Any) -> Connector:
    return hook(
        "matrix", fake.base_url, credentials={"access_token": MATRIX_TOKEN}, room=room, **kw
    )


def url_of(fmt: str, fake: WebhookFake) -> str:
    return {
        "slack": fake.slack_url,
        "discord": fake.discord_url,
        "teams": fake.teams_url,
        "generic": fake.generic_url,
    }[fmt]


def test_the_format_picks_the_class(fake: WebhookFake) -> None:
    kinds = {
        "slack": SlackWebhook,
        "discord": DiscordWebhook,
        "teams": TeamsWebhook,
        "generic": GenericWebhook,
    }
    for fmt, cls in kinds.items():
        assert type(hook(fmt, url_of(fmt, fake))) is cls
    assert type(matrix(fake)) is MatrixRoom
    with pytest.raises(ValueError, match=r"options\.format must be one of"):
        hook("irc", fake.generic_url)


@pytest.mark.parametrize("fmt", ["slack", "discord", "teams", "generic"])
def test_base_url_takes_the_webhook_to_another_host(fake: WebhookFake, fmt: str) -> None:
    """The channel's base_url (a proxy, a test server) replaces the address's host only."""
    real = httpx.URL(url_of(fmt, fake)).copy_with(
        scheme="https", host="hooks.example.com", port=None
    )
    hook(fmt, str(real), base_url=fake.base_url + "/").publish(post())
    request = fake.requests[-1]
    assert (request.method, request.path) == ("POST", real.path)
    assert set(real.params.multi_items()) <= {(k, v[0]) for k, v in request.query.items()}
    assert len(fake.posts) == 1


def test_base_url_takes_matrix_to_another_homeserver(fake: WebhookFake) -> None:
    connector = hook(
        "matrix",
        "https://matrix.example.org",
        base_url=fake.base_url,
        credentials={"access_token": MATRIX_TOKEN},
        room=ROOM,
    )
    assert connector.publish(post()).ref.extra == {"room_id": ROOM}
    assert fake.requests[-1].path.startswith("/_matrix/client/v3/rooms/")


# -- Slack ----------------------------------------------------------------------------------


def test_slack_gets_escaped_text(fake: WebhookFake) -> None:
    published = hook("slack", fake.slack_url).publish(post("Tips & tricks <b> #SayNo"))

    request = fake.requests[-1]
    assert (request.method, request.path) == ("POST", f"/services/{SLACK_SECRET}")
    assert request.json() == {"text": "Tips &amp; tricks &lt;b&gt; #SayNo"}
    assert published.ref.id == post().idempotency_key[:16]


@given(st.text())
def test_slack_escaping_round_trips(text: str) -> None:
    escaped = slack_escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


def test_slack_says_when_media_stay_behind(fake: WebhookFake, tmp_path: Path) -> None:
    published = hook("slack", fake.slack_url).publish(post(media=images(tmp_path, 2)))
    assert published.note == "2 media file(s) not sent: Slack shows text only"


def test_a_deleted_slack_webhook_holds_the_channel(fake: WebhookFake) -> None:
    fake.revoked.add("slack")
    with pytest.raises(AuthFailed, match=r"credentials\.url") as caught:
        hook("slack", fake.slack_url).publish(post())
    assert caught.value.status == 404


def test_slack_rate_limit_uses_retry_after(fake: WebhookFake) -> None:
    fake.respond(429, "rate_limited", {"Retry-After": "30"})
    assert_retries_after(hook("slack", fake.slack_url), timedelta(seconds=30))


# -- Discord --------------------------------------------------------------------------------


def test_discord_waits_for_the_message_and_mentions_nobody(fake: WebhookFake) -> None:
    published = hook("discord", fake.discord_url).publish(post("Hello @everyone"))

    request = fake.requests[-1]
    assert request.path == f"/api/webhooks/{DISCORD_SECRET}"
    assert request.query == {"wait": ["true"]}
    assert request.json() == {"content": "Hello @everyone", "allowed_mentions": {"parse": []}}
    assert published.ref.id == "120000000000000001"
    assert published.ref.extra == {"channel_id": "445566"}


def test_discord_shows_images_from_the_media_address(fake: WebhookFake, tmp_path: Path) -> None:
    media = images(tmp_path, 2)
    hook("discord", fake.discord_url, media_base_url="https://cdn.example.org/sayno/").publish(
        post(media=media)
    )
    assert fake.requests[-1].json()["embeds"] == [
        {"image": {"url": f"https://cdn.example.org/sayno/card-{i}.png"}, "description": m.alt}
        for i, m in enumerate(media)
    ]


def test_discord_refuses_long_text_before_sending(fake: WebhookFake) -> None:
    with pytest.raises(Rejected, match="2000"):
        hook("discord", fake.discord_url).publish(post("x" * 2001))
    assert fake.requests == []


def test_discord_rate_limit_uses_its_body(fake: WebhookFake) -> None:
    fake.respond(
        429,
        {"message": "You are being rate limited.", "retry_after": 12.5, "global": False},
        {"Retry-After": "13", "X-RateLimit-Scope": "shared"},
    )
    assert_retries_after(hook("discord", fake.discord_url), timedelta(seconds=12.5))


def test_discord_check_reads_the_webhook_without_posting(fake: WebhookFake) -> None:
    report = hook("discord", fake.discord_url).check()
    assert report.ok and report.account == "webhook 'Clarion' in channel 445566"
    assert report.limits["max_length"] == 2000
    fake.revoked.add("discord")
    report = hook("discord", fake.discord_url).check()
    assert not report.ok and "Unknown Webhook" in report.problems[0]
    assert fake.posts == []


# -- Teams ----------------------------------------------------------------------------------


def test_teams_gets_an_adaptive_card(fake: WebhookFake, tmp_path: Path) -> None:
    media = images(tmp_path, 1)
    connector = hook("teams", fake.teams_url, media_base_url="https://cdn.example.org")
    connector.publish(post("Safer Internet Day", link="https://example.org/sayno", media=media))

    request = fake.requests[-1]
    assert request.path == "/workflows/4f2a/triggers/manual/paths/invoke"
    assert request.query["sig"] == [TEAMS_SIG]
    assert request.query["api-version"] == ["1"]
    assert request.json() == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "lang": "en",
                    "body": [
                        {"type": "TextBlock", "text": "Safer Internet Day", "wrap": True},
                        {
                            "type": "Image",
                            "url": "https://cdn.example.org/card-0.png",
                            "altText": media[0].alt,
                        },
                    ],
                    "actions": [
                        {
                            "type": "Action.OpenUrl",
                            "title": "example.org",
                            "url": "https://example.org/sayno",
                        }
                    ],
                },
            }
        ],
    }
    assert fake.posts[-1]["format"] == "teams"


def test_teams_with_a_wrong_signature_holds_the_channel(fake: WebhookFake) -> None:
    with pytest.raises(AuthFailed, match="must be authenticated"):
        hook("teams", fake.teams_url.replace(TEAMS_SIG, "nope")).publish(post())


# -- generic --------------------------------------------------------------------------------


def test_generic_json_carries_everything(fake: WebhookFake, tmp_path: Path) -> None:
    media = images(tmp_path, 1)
    published = hook("generic", fake.generic_url).publish(
        post("Hi", link="https://example.org", media=media)
    )
    request = fake.requests[-1]
    assert request.header("idempotency-key") == post().idempotency_key
    assert request.json() == {
        "key": "sayno-2027/countdown/en/chan",
        "text": "Hi",
        "link": "https://example.org",
        "media": [{"file": "card-0.png", "alt": media[0].alt, "mime": "image/png"}],
        "language": "en",
        "due": "2027-02-02T08:00:00Z",
        "reply_to": None,
    }
    assert (published.ref.id, published.ref.url) == ("g1", "https://intranet.example/1")
    assert published.note is None


def test_generic_repeats_are_dropped_by_the_receiver(fake: WebhookFake) -> None:
    connector = hook("generic", fake.generic_url)
    assert connector.publish(post()).ref == connector.publish(post()).ref
    assert len(fake.posts) == 1


def test_generic_refusal_is_rejected(fake: WebhookFake) -> None:
    fake.respond(422, {"error": "text is required"})
    with pytest.raises(Rejected, match="text is required") as caught:
        hook("generic", fake.generic_url).publish(post())
    assert caught.value.status == 422


@pytest.mark.parametrize("fmt", ["slack", "discord", "teams", "generic"])
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_after_sending_is_ambiguous(
    fake: WebhookFake, fmt: str, status: int
) -> None:
    """The service posted the message, then answered with a server error: none of them
    recognises a repeat, so this is not "nothing was sent"."""
    fake.fail_after(status, "<html>busy</html>")
    with pytest.raises(Ambiguous) as caught:
        hook(fmt, url_of(fmt, fake)).publish(post())
    assert caught.value.status == status
    assert len(fake.posts) == 1


def test_a_generic_receiver_declines_with_503_and_retry_after(fake: WebhookFake) -> None:
    """Our documented contract: 503 with Retry-After means the receiver did not take it."""
    fake.respond(503, {"error": "maintenance"}, {"Retry-After": "60"})
    with pytest.raises(RetryLater) as caught:
        hook("generic", fake.generic_url).publish(post())
    assert caught.value.retry_at is not None
    assert fake.posts == []


def test_a_server_error_to_a_matrix_event_is_ambiguous_and_lookup_settles_it(
    fake: WebhookFake,
) -> None:
    room = matrix(fake)
    fake.fail_after(502, {"errcode": "M_UNKNOWN", "error": "gateway"}, method="PUT")
    with pytest.raises(Ambiguous):
        room.publish(post())
    assert len(fake.posts) == 1
    assert room.lookup(post()) is not None


@pytest.mark.parametrize("fmt", ["slack", "discord", "teams", "generic"])
def test_refused_connection_is_safe_to_retry(fmt: str) -> None:
    url = {"slack": "/services/a/b/c", "discord": "/api/webhooks/1/x", "teams": "/w?sig=s"}
    with pytest.raises(RetryLater):
        hook(fmt, closed_port() + url.get(fmt, "/hooks/clarion")).publish(post())


@pytest.mark.parametrize("fmt", ["slack", "discord", "teams", "generic"])
def test_time_out_after_sending_is_ambiguous(fake: WebhookFake, fmt: str) -> None:
    fake.inject(Fault("hang_after", seconds=HANG))
    with pytest.raises(Ambiguous):
        hook(fmt, url_of(fmt, fake), timeout=IMPATIENT).publish(post())
    assert len(fake.posts) == 1


def test_plain_http_is_refused_beyond_this_machine() -> None:
    with pytest.raises(ValueError, match="plain http"):
        hook("slack", "http://hooks.example.org/services/a/b/c")


# -- Matrix ---------------------------------------------------------------------------------


def test_matrix_sends_with_the_idempotency_key_as_transaction_id(fake: WebhookFake) -> None:
    published = matrix(fake).publish(post("Hello room"))

    request = fake.requests[-1]
    txn = post().idempotency_key
    assert request.method == "PUT"
    assert request.path == (
        f"/_matrix/client/v3/rooms/%21news%3Aexample.org/send/m.room.message/{txn}"
    )
    assert request.header("authorization") == f"Bearer {MATRIX_TOKEN}"
    assert request.json() == {"msgtype": "m.text", "body": "Hello room"}
    assert published.ref.id == fake.posts[-1]["event_id"]
    assert published.ref.url == f"https://matrix.to/#/!news:example.org/{published.ref.id}"
    assert MatrixRoom.capabilities.idempotency == "key"


def test_matrix_repeats_are_harmless(fake: WebhookFake) -> None:
    room = matrix(fake)
    fake.inject(Fault("hang_after", seconds=HANG))
    with pytest.raises(Ambiguous):
        matrix(fake, timeout=IMPATIENT).publish(post())
    assert room.publish(post()).ref.id == fake.posts[0]["event_id"]
    assert len(fake.posts) == 1


def test_matrix_lookup_finds_our_event(fake: WebhookFake) -> None:
    now = datetime.now(UTC)
    room = matrix(fake)
    assert room.lookup(post(due=now)) is None
    published = room.publish(post(due=now))
    for i in range(150):
        fake.add_event(f"chatter {i}")
    assert room.lookup(post(due=now)) == published.ref
    assert room.lookup(post(key="another/delivery", due=now)) is None
    assert [r.query.get("from") for r in fake.requests[-2:]] == [None, ["51"]]


def test_matrix_lookup_stops_at_events_older_than_the_post(fake: WebhookFake) -> None:
    for i in range(600):
        fake.add_event(f"chatter {i}")
    assert (
        matrix(fake).lookup(post(key="new/delivery", due=datetime.now(UTC) + timedelta(days=2)))
        is None
    )
    assert len(fake.requests) == 1


def test_matrix_lookup_gives_up_in_a_busy_room(fake: WebhookFake) -> None:
    for i in range(600):
        fake.add_event(f"chatter {i}")
    with pytest.raises(LookupUnavailable):
        matrix(fake).lookup(post(key="old/delivery", due=datetime.now(UTC)))


def test_matrix_resolves_an_alias(fake: WebhookFake) -> None:
    published = matrix(fake, room=ALIAS).publish(post())
    assert published.ref.extra["room_id"] == ROOM
    assert fake.requests[0].path == "/_matrix/client/v3/directory/room/%23news%3Aexample.org"


def test_matrix_rate_limit_uses_retry_after_ms(fake: WebhookFake) -> None:
    fake.respond(
        429,
        {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests", "retry_after_ms": 2500},
        method="PUT",
    )
    before = datetime.now(UTC)
    with pytest.raises(RetryLater) as caught:
        matrix(fake).publish(post())
    assert caught.value.code == "M_LIMIT_EXCEEDED"
    assert caught.value.retry_at is not None
    assert before + timedelta(seconds=2.5) <= caught.value.retry_at


def test_matrix_revoked_token_and_left_room_hold_the_channel(fake: WebhookFake) -> None:
    fake.joined = False
    with pytest.raises(AuthFailed, match="User not in room"):
        matrix(fake).publish(post())
    report = matrix(fake).check()
    assert not report.ok and "has not joined" in report.problems[0]
    fake.revoked.add("matrix")
    with pytest.raises(AuthFailed) as caught:
        matrix(fake).publish(post())
    assert caught.value.code == "M_UNKNOWN_TOKEN"


def test_matrix_check(fake: WebhookFake) -> None:
    report = matrix(fake).check()
    assert report.ok and report.account == "@clarion:example.org"


def test_matrix_needs_a_token_and_a_room(fake: WebhookFake) -> None:
    with pytest.raises(ValueError, match=r"access_token and options\.room"):
        hook("matrix", fake.base_url)


def test_the_webhook_address_never_leaks(
    fake: WebhookFake, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    capture_everything(caplog)
    fake.echo_credentials = True  # every error quotes the request: path, token
    errors: list[object] = []
    for fmt, secret in [
        ("slack", SLACK_SECRET),
        ("discord", DISCORD_SECRET),
        ("teams", TEAMS_SIG),
        ("generic", "/hooks/clarion"),
    ]:
        connector = hook(fmt, url_of(fmt, fake), timeout=1.0)  # generous: the machine may be loaded
        connector.publish(post(media=images(tmp_path, 1)))
        fake.respond(429, {"message": f"slow down {secret}"}, {"Retry-After": "5"})
        fake.respond(500, secret)
        fake.respond(400, {"message": f"bad {secret}"})
        fake.inject(Fault("hang_after", seconds=3.0))
        errors += [*failures(connector, [post()] * 4), connector.check()]
        fake.revoked.add(fmt)
        errors += failures(connector, [post()], AuthFailed)
        if fmt != "generic":
            assert_secret_absent(secret, caplog, errors)
    room = matrix(fake)
    fake.revoked.add("matrix")
    with pytest.raises(AuthFailed) as denied:
        room.publish(post())
    assert_secret_absent(MATRIX_TOKEN, caplog, [*errors, denied.value, room.check()])
