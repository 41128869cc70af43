"""The Bluesky connector against its loopback fake: the exact XRPC exchanges and every outcome."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.base import (
    Ambiguous,
    AuthFailed,
    ChannelAccess,
    MediaFile,
    PlatformRef,
    Post,
    PublishError,
    Rejected,
    RetryLater,
)
from connectors.fakes.server import Fault, Request, Response
from connectors.platforms.bluesky.connector import BlueskyConnector, login
from connectors.platforms.bluesky.fake import FakeBluesky
from connectors.platforms.bluesky.tid import tid_for
from tests.connectors.fakeweb import FakeWeb, png
from tests.connectors.social import closed_port

HANDLE = "sayno.test"
SECRET = "zq7k-cnry-s3cr-2t4m"
"""The app password, also the canary that must never show in logs or errors."""
DUE = datetime(2027, 2, 9, 8, 0, tzinfo=UTC)
XRPC = "/xrpc/"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f467"
"""One grapheme, 25 bytes."""


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    server = FakeBluesky()
    server.add_account(HANDLE, SECRET)
    server.start()
    yield server
    server.stop()


def channel(base_url: str, timeout: float = 5.0, **options: Any) -> ChannelAccess:
    return ChannelAccess(
        name="bluesky-main",
        platform="bluesky",
        credentials={"identifier": HANDLE, "app_password": SECRET},
        base_url=base_url,
        options={"link_cards": False, "video_upload": "blob", **options},  # video: test_video.py
        timeout=timeout,
    )


@pytest.fixture
def bsky(fake: FakeBluesky) -> Iterator[BlueskyConnector]:
    connector = BlueskyConnector(channel(fake.base_url))
    yield connector
    connector.close()


@pytest.fixture
def hasty(fake: FakeBluesky) -> Iterator[BlueskyConnector]:
    """A connector that gives up on an answer after 1 s, for the fake's hangs of 3 s."""
    connector = BlueskyConnector(channel(fake.base_url, timeout=1.0))
    yield connector
    connector.close()


def post(text: str = "One week to #SaferInternetDay. #SayNo", **changes: Any) -> Post:
    base = Post(key="sayno-2027/countdown/en/bluesky-main", text=text, due=DUE, language="en")
    return replace(base, **changes)


def calls(fake: FakeBluesky) -> list[str]:
    return [f"{r.method} {r.path.removeprefix(XRPC)}" for r in fake.requests]


def requests_to(fake: FakeBluesky, nsid: str) -> list[Request]:
    return [r for r in fake.requests if r.path == XRPC + nsid]


def did(fake: FakeBluesky, handle: str = HANDLE) -> str:
    return next(a.did for a in fake.accounts.values() if a.handle == handle)


# -- success --------------------------------------------------------------------------------


def test_a_post_with_facets_is_one_put_record_at_the_derived_key(
    fake: FakeBluesky, bsky: BlueskyConnector
) -> None:
    bob = fake.add_account("bob.test", "bobb-bobb-bobb-bobb")
    text = "Join @bob.test and @nobody.test #SayNo https://example.org/sayno?utm_source=bluesky"
    published = bsky.publish(post(text))

    me, rkey = did(fake), tid_for("sayno-2027/countdown/en/bluesky-main", DUE)
    assert calls(fake) == [
        "POST com.atproto.server.createSession",
        "GET com.atproto.repo.getRecord",
        "GET com.atproto.identity.resolveHandle",
        "GET com.atproto.identity.resolveHandle",
        "POST com.atproto.repo.putRecord",
    ]
    login_request, get_record, resolve_bob, resolve_nobody, put = fake.requests
    assert login_request.json() == {"identifier": HANDLE, "password": SECRET}
    assert get_record.query == {
        "repo": [me],
        "collection": ["app.bsky.feed.post"],
        "rkey": [rkey],
    }
    assert resolve_bob.query == {"handle": ["bob.test"]}
    assert resolve_nobody.query == {"handle": ["nobody.test"]}
    for request in fake.requests[1:]:
        assert (request.header("authorization") or "").startswith("Bearer fake-access-")
    assert put.header("content-type") == "application/json"
    link = "https://example.org/sayno?utm_source=bluesky"
    tag_at, link_at = text.index("#SayNo"), text.index(link)
    assert put.json() == {
        "repo": me,
        "collection": "app.bsky.feed.post",
        "rkey": rkey,
        "swapRecord": None,
        "record": {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": "2027-02-09T08:00:00.000Z",
            "langs": ["en"],
            "facets": [
                facet(5, 14, "mention", did=bob),
                facet(tag_at, tag_at + 6, "tag", tag="SayNo"),
                facet(link_at, link_at + len(link), "link", uri=link),
            ],
        },
    }
    uri = f"at://{me}/app.bsky.feed.post/{rkey}"
    assert published.ref == PlatformRef(
        uri,
        f"https://bsky.app/profile/{me}/post/{rkey}",
        {"uri": uri, "cid": fake.posts[0].cid},
    )
    assert published.note is None
    assert [p.uri for p in fake.posts] == [uri]


def facet(start: int, end: int, kind: str, **feature: str) -> dict[str, Any]:
    return {
        "$type": "app.bsky.richtext.facet",
        "index": {"byteStart": start, "byteEnd": end},
        "features": [{"$type": f"app.bsky.richtext.facet#{kind}", **feature}],
    }


def test_publishing_the_same_delivery_again_never_makes_a_second_post(
    fake: FakeBluesky, bsky: BlueskyConnector
) -> None:
    first = bsky.publish(post())
    other = BlueskyConnector(channel(fake.base_url))  # a restart: new process, new session
    fake.requests.clear()
    again = other.publish(post())
    assert again.ref == first.ref
    assert again.note == "already on Bluesky: an earlier attempt posted it"
    assert calls(fake) == [
        "POST com.atproto.server.createSession",
        "GET com.atproto.repo.getRecord",
    ]
    assert len(fake.posts) == 1


def test_lookup_finds_the_delivery_by_its_key(fake: FakeBluesky, bsky: BlueskyConnector) -> None:
    assert bsky.lookup(post()) is None
    published = bsky.publish(post())
    assert bsky.lookup(post()) == published.ref
    assert bsky.lookup(post(key="sayno-2027/other/en/bluesky-main")) is None


def test_a_session_is_created_once_and_reused(fake: FakeBluesky, bsky: BlueskyConnector) -> None:
    for n in range(5):
        bsky.publish(post(key=f"sayno-2027/p{n}/en/bluesky-main"))
    assert fake.sessions_created == 1
    assert len(fake.posts) == 5


def test_images_are_uploaded_with_alt_text_and_aspect_ratio(
    fake: FakeBluesky, bsky: BlueskyConnector, tmp_path: Path
) -> None:
    wide, tall = tmp_path / "wide.png", tmp_path / "tall.png"
    wide.write_bytes(png(30, 20))
    tall.write_bytes(png(10, 40))
    media = (
        MediaFile(wide, "A #SayNo card", "image/png"),
        MediaFile(tall, "", "image/png"),
    )
    bsky.publish(post(media=media, link="https://example.org/sayno"))

    uploads = requests_to(fake, "com.atproto.repo.uploadBlob")
    assert [(u.body, u.header("content-type")) for u in uploads] == [
        (wide.read_bytes(), "image/png"),
        (tall.read_bytes(), "image/png"),
    ]
    record = fake.posts[0].value
    blobs = [img["image"] for img in record["embed"]["images"]]
    assert record["embed"] == {
        "$type": "app.bsky.embed.images",
        "images": [
            {"alt": "A #SayNo card", "image": blobs[0], "aspectRatio": {"width": 30, "height": 20}},
            {"alt": "", "image": blobs[1], "aspectRatio": {"width": 10, "height": 40}},
        ],
    }
    assert blobs[0] == {
        "$type": "blob",
        "ref": {"$link": blobs[0]["ref"]["$link"]},
        "mimeType": "image/png",
        "size": len(wide.read_bytes()),
    }


@pytest.mark.parametrize(
    ("sizes", "mime", "reason"),
    [
        ([10] * 5, "image/png", "5 images; Bluesky allows 4 per post"),
        ([2_000_001], "image/png", "is 2,000,001 bytes; Bluesky takes images up to 2,000,000"),
        ([10], "video/quicktime", "and MP4 videos, not video/quicktime"),
        ([10], "video/mp4", "m0: not a video file"),
    ],
    ids=["too many", "too large", "mov", "not a video"],
)
def test_media_bluesky_would_refuse_is_rejected_before_sending(
    fake: FakeBluesky,
    bsky: BlueskyConnector,
    tmp_path: Path,
    sizes: list[int],
    mime: str,
    reason: str,
) -> None:
    media = []
    for n, size in enumerate(sizes):
        path = tmp_path / f"m{n}"
        path.write_bytes(b"\0" * size)
        media.append(MediaFile(path, "alt", mime))
    with pytest.raises(Rejected, match=reason):
        bsky.publish(post(media=tuple(media)))
    assert fake.requests == []


def test_a_missing_media_file_is_rejected(fake: FakeBluesky, bsky: BlueskyConnector) -> None:
    with pytest.raises(Rejected, match=r"gone\.png: cannot read the file"):
        bsky.publish(post(media=(MediaFile(Path("/nowhere/gone.png"), "alt", "image/png"),)))
    assert fake.requests == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a" * 301, "301 characters where 300 are allowed, 301 bytes where 3,000"),
        (FAMILY * 121, "121 characters where 300 are allowed, 3,025 bytes where 3,000"),
    ],
    ids=["graphemes", "bytes"],
)
def test_text_over_the_limits_is_rejected_before_sending(
    fake: FakeBluesky, bsky: BlueskyConnector, text: str, reason: str
) -> None:
    with pytest.raises(Rejected, match=reason):
        bsky.publish(post(text))
    assert fake.requests == []


def test_a_broken_character_is_rejected_before_sending(
    fake: FakeBluesky, bsky: BlueskyConnector, tmp_path: Path
) -> None:
    with pytest.raises(
        Rejected, match=r"the text holds a broken character \(U\+D800\) at position 3"
    ):
        bsky.publish(post("ab\ud800"))
    image = tmp_path / "card.png"
    image.write_bytes(png(2, 2))
    with pytest.raises(Rejected, match=r"the alt text of card\.png holds a broken character"):
        bsky.publish(post(media=(MediaFile(image, "\udfff", "image/png"),)))
    assert fake.requests == []


def test_three_hundred_graphemes_pass(fake: FakeBluesky, bsky: BlueskyConnector) -> None:
    bsky.publish(post("é" * 299 + FAMILY))
    assert len(fake.posts) == 1


def test_a_thread_replies_to_its_parent_and_names_its_root(
    fake: FakeBluesky, bsky: BlueskyConnector
) -> None:
    root = bsky.publish(post("1/ tips", key="k/tips/en/b/1")).ref
    second = bsky.publish(post("2/ more", key="k/tips/en/b/2", reply_to=root)).ref
    bsky.publish(post("3/ end", key="k/tips/en/b/3", reply_to=second, thread_root=root))

    replies = [p.value.get("reply") for p in fake.posts]
    strong = [{"uri": r.extra["uri"], "cid": r.extra["cid"]} for r in (root, second)]
    assert replies == [
        None,
        {"root": strong[0], "parent": strong[0]},
        {"root": strong[0], "parent": strong[1]},
    ]


def test_a_reply_to_a_post_without_uri_and_cid_is_rejected(
    fake: FakeBluesky, bsky: BlueskyConnector
) -> None:
    with pytest.raises(Rejected, match="has no Bluesky uri and cid"):
        bsky.publish(post(reply_to=PlatformRef("123")))
    assert fake.requests == []


# -- link cards -----------------------------------------------------------------------------


def test_a_link_without_images_gets_a_card_with_its_thumbnail(
    fake: FakeBluesky, web: FakeWeb
) -> None:
    thumb = png(120, 63)
    web.pages["/og.png"] = Response(200, thumb, {"Content-Type": "image/png"})
    url = web.html(
        "/sayno",
        '<meta property="og:title" content="#SayNo"><meta property="og:image" content="/og.png">'
        '<meta property="og:description" content="Report it.">',
    )
    connector = BlueskyConnector(channel(fake.base_url, link_cards=True))
    connector.publish(post(f"Read {url}", link=url))

    [upload] = requests_to(fake, "com.atproto.repo.uploadBlob")
    assert upload.body == thumb
    embed = fake.posts[0].value["embed"]
    assert embed == {
        "$type": "app.bsky.embed.external",
        "external": {
            "uri": url,
            "title": "#SayNo",
            "description": "Report it.",
            "thumb": embed["external"]["thumb"],
        },
    }
    assert embed["external"]["thumb"]["size"] == len(thumb)


def test_a_page_that_fails_gives_a_post_without_card(fake: FakeBluesky, web: FakeWeb) -> None:
    connector = BlueskyConnector(channel(fake.base_url, link_cards=True))
    connector.publish(post("Read this", link=web.base_url + "/missing"))
    assert "embed" not in fake.posts[0].value


def test_link_cards_can_be_turned_off(
    fake: FakeBluesky, bsky: BlueskyConnector, web: FakeWeb
) -> None:
    url = web.html("/sayno", '<meta property="og:title" content="#SayNo">')
    bsky.publish(post("Read", link=url))
    assert "embed" not in fake.posts[0].value
    assert web.requests == []


# -- failures -------------------------------------------------------------------------------


def test_a_429_with_only_retry_after(fake: FakeBluesky, bsky: BlueskyConnector) -> None:
    fake.respond(429, {"error": "RateLimitExceeded"}, {"Retry-After": "120"}, path="putRecord")
    before = time.time()
    with pytest.raises(RetryLater) as caught:
        bsky.publish(post())
    assert caught.value.retry_at is not None
    assert before + 119 <= caught.value.retry_at.timestamp() <= time.time() + 121


def test_the_hourly_write_budget_of_the_fake(fake: FakeBluesky) -> None:
    fake.stop()
    limited = FakeBluesky(write_points_per_hour=3)
    limited.add_account(HANDLE, SECRET)
    limited.start()
    try:
        connector = BlueskyConnector(channel(limited.base_url))
        connector.publish(post(key="k/1/en/b"))
        with pytest.raises(RetryLater) as caught:
            connector.publish(post(key="k/2/en/b"))
        assert caught.value.retry_at is not None
        assert caught.value.retry_at.timestamp() > time.time() + 3000
        [budget] = [b for b in connector.check().budgets if b.scope == "3 per 1 h"]
        assert (budget.limit, budget.remaining) == (3, 0)
        assert len(limited.posts) == 1
    finally:
        limited.stop()


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "InternalServerError"),
        (502, "UpstreamFailure"),
        (503, None),
        (400, "ConcurrentWrites"),
    ],
)
def test_server_errors_retry_later(
    fake: FakeBluesky, bsky: BlueskyConnector, status: int, code: str | None
) -> None:
    body = {"error": code, "message": "oops"} if code else "Bad gateway"
    fake.respond(status, body, path="putRecord")
    with pytest.raises(RetryLater) as caught:
        bsky.publish(post())
    assert (caught.value.status, caught.value.code) == (status, code)


def test_content_the_server_refuses_is_rejected(fake: FakeBluesky, bsky: BlueskyConnector) -> None:
    message = "Invalid app.bsky.feed.post record: grapheme too big (maximum 300, got 301)"
    fake.respond(400, {"error": "InvalidRequest", "message": message}, path="putRecord")
    with pytest.raises(Rejected) as caught:
        bsky.publish(post())
    assert caught.value.reason == f"Bluesky: InvalidRequest: {message}"
    assert (caught.value.status, caught.value.code) == (400, "InvalidRequest")


def test_an_expired_access_token_is_refreshed_once(
    fake: FakeBluesky, bsky: BlueskyConnector
) -> None:
    bsky.publish(post(key="k/1/en/b"))
    [refresh_token] = list(fake._refresh)
    fake.expire_access_tokens()
    fake.requests.clear()
    bsky.publish(post(key="k/2/en/b"))
    assert calls(fake) == [
        "GET com.atproto.repo.getRecord",  # public: the PDS ignores the token
        "POST com.atproto.repo.putRecord",  # 400 ExpiredToken
        "POST com.atproto.server.refreshSession",
        "POST com.atproto.repo.putRecord",
    ]
    refresh = requests_to(fake, "com.atproto.server.refreshSession")[0]
    assert refresh.header("authorization") == f"Bearer {refresh_token}"
    assert fake.sessions_created == 1
    assert len(fake.posts) == 2


def test_a_refresh_token_that_no_longer_works_leads_to_a_new_login(
    fake: FakeBluesky, bsky: BlueskyConnector
) -> None:
    bsky.publish(post(key="k/1/en/b"))
    fake._refresh.clear()  # expired after 90 days unused
    fake.expire_access_tokens()
    bsky.publish(post(key="k/2/en/b"))
    assert fake.sessions_created == 2
    assert len(fake.posts) == 2


def test_a_revoked_app_password_fails_authentication(
    fake: FakeBluesky, bsky: BlueskyConnector
) -> None:
    bsky.publish(post(key="k/1/en/b"))
    fake.revoke(SECRET)
    fake.expire_access_tokens()
    fake.requests.clear()
    with pytest.raises(AuthFailed) as caught:
        bsky.publish(post(key="k/2/en/b"))
    assert calls(fake) == [
        "GET com.atproto.repo.getRecord",
        "POST com.atproto.repo.putRecord",  # 400 ExpiredToken
        "POST com.atproto.server.refreshSession",  # 400 ExpiredToken: revoked
        "POST com.atproto.server.createSession",  # 401 AuthenticationRequired
    ]
    assert caught.value.code == "AuthenticationRequired"
    assert "create a new app password" in caught.value.reason
    assert len(fake.posts) == 1


def test_a_wrong_app_password_fails_authentication(fake: FakeBluesky) -> None:
    config = channel(fake.base_url)
    config = replace(config, credentials={"identifier": HANDLE, "app_password": "wrong"})
    with pytest.raises(AuthFailed):
        BlueskyConnector(config).publish(post())
    assert fake.posts == []


def test_a_token_the_server_forgot_leads_to_one_new_login(
    fake: FakeBluesky, bsky: BlueskyConnector
) -> None:
    bsky.publish(post(key="k/1/en/b"))
    fake.respond(
        400, {"error": "InvalidToken", "message": "Token could not be verified"}, method="GET"
    )
    bsky.publish(post(key="k/2/en/b"))
    assert fake.sessions_created == 2
    fake.respond(401, {"error": "AuthMissing"}, method="GET", times=2)
    with pytest.raises(AuthFailed):
        bsky.publish(post(key="k/3/en/b"))


def test_an_unreachable_server_retries_later(fake: FakeBluesky) -> None:
    with pytest.raises(RetryLater, match=r"before anything was published"):
        BlueskyConnector(channel(closed_port())).publish(post())


def test_a_time_out_after_sending_is_ambiguous_and_lookup_settles_it(
    fake: FakeBluesky, hasty: BlueskyConnector
) -> None:
    fake.inject(Fault("hang_after", seconds=3.0, method="POST", path="putRecord"))
    with pytest.raises(Ambiguous):
        hasty.publish(post())
    found = hasty.lookup(post())
    assert found is not None and found.id == fake.posts[0].uri
    assert hasty.publish(post()).ref == found
    assert len(fake.posts) == 1


def test_a_dropped_read_retries_later(fake: FakeBluesky, bsky: BlueskyConnector) -> None:
    fake.inject(Fault("drop_before", method="GET", path="getRecord"))
    with pytest.raises(RetryLater):
        bsky.publish(post())
    assert fake.posts == []


def test_a_different_record_already_at_the_key_is_kept(
    fake: FakeBluesky, bsky: BlueskyConnector
) -> None:
    """An earlier attempt wrote the post (its link card differed) while this one was blind
    to it: `swapRecord: null` makes the PDS keep the first, and the connector reports it."""
    first = bsky.publish(post("first wording"))
    fake.respond(400, {"error": "RecordNotFound"}, method="GET", path="getRecord")
    again = bsky.publish(post("second wording"))
    assert again.ref == first.ref
    assert again.note == "already on Bluesky: an earlier attempt posted it"
    assert [p.value["text"] for p in fake.records(did(fake))] == ["first wording"]
    assert len(fake.posts) == 1


def test_create_record_at_a_used_key_is_a_bare_500_in_the_fake_too(
    fake: FakeBluesky, bsky: BlueskyConnector
) -> None:
    published = bsky.publish(post())
    session = bsky._login()
    body = {
        "repo": session.did,
        "collection": "app.bsky.feed.post",
        "rkey": published.ref.id.rsplit("/", 1)[1],
        "record": fake.posts[0].value,
    }
    response = httpx.post(
        fake.base_url + XRPC + "com.atproto.repo.createRecord",
        json=body,
        headers={"Authorization": f"Bearer {session.access}"},
    )
    assert (response.status_code, response.json()["error"]) == (500, "InternalServerError")
    assert len(fake.posts) == 1


# -- check, login, secrets ------------------------------------------------------------------


def test_check_names_the_account_and_its_limits(fake: FakeBluesky, bsky: BlueskyConnector) -> None:
    report = bsky.check()
    me = did(fake)
    assert report.ok
    assert report.account == f"@{HANDLE} ({me}) on {fake.base_url}"
    assert report.limits == {
        "max_graphemes": 300,
        "max_bytes": 3000,
        "max_images": 4,
        "image_max_bytes": 2_000_000,
        "video_max_bytes": 300_000_000,
    }
    [budget] = report.budgets
    assert (budget.scope, budget.limit, budget.remaining) == ("30 per 5 min", 30, 29)
    assert calls(fake) == [
        "POST com.atproto.server.createSession",
        "GET com.atproto.server.getSession",
    ]
    assert fake.posts == []


def test_check_reports_bad_credentials_without_raising(fake: FakeBluesky) -> None:
    config = replace(
        channel(fake.base_url), credentials={"identifier": HANDLE, "app_password": "x"}
    )
    report = BlueskyConnector(config).check()
    assert not report.ok
    assert report.problems and "refused the identifier and app password" in report.problems[0]


def test_missing_credentials_are_named() -> None:
    config = replace(channel("https://bsky.social"), credentials={"identifier": HANDLE})
    with pytest.raises(ValueError, match="identifier, app_password"):
        BlueskyConnector(config)


class ScriptedIO:
    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.said: list[str] = []
        self.asked: list[tuple[str, bool]] = []

    def ask(self, question: str, *, secret: bool = False) -> str:
        self.asked.append((question, secret))
        return self.answers.pop(0)

    def say(self, text: str) -> None:
        self.said.append(text)


def test_login_checks_the_app_password_and_returns_the_credentials(fake: FakeBluesky) -> None:
    io = ScriptedIO(f"@{HANDLE}", SECRET)
    config = ChannelAccess("bluesky-main", "bluesky", base_url=fake.base_url)
    assert login(io, config) == {"identifier": HANDLE, "app_password": SECRET}
    assert [secret for _, secret in io.asked] == [False, True]
    assert (
        io.said[-1] == f"Signed in as @{HANDLE} ({did(fake)}), whose posts live on {fake.base_url}."
    )
    assert not any("does not look like an app password" in line for line in io.said)


def test_login_warns_about_a_main_password_and_fails_on_a_wrong_one(fake: FakeBluesky) -> None:
    fake.add_account("main.test", "my main password")
    io = ScriptedIO("main.test", "my main password")
    config = ChannelAccess("bluesky-main", "bluesky", base_url=fake.base_url)
    login(io, config)
    assert any("does not look like an app password" in line for line in io.said)
    with pytest.raises(AuthFailed):
        login(ScriptedIO("main.test", "wrong"), config)


def test_no_secret_in_logs_or_errors(
    fake: FakeBluesky, hasty: BlueskyConnector, caplog: pytest.LogCaptureFixture
) -> None:
    bsky = hasty
    caplog.set_level(logging.DEBUG)
    fake.echo_credentials = True  # every error quotes the Authorization header and body
    errors: list[PublishError] = []

    def attempt(**changes: Any) -> None:
        try:
            bsky.publish(post(**changes))
        except PublishError as exc:
            errors.append(exc)

    attempt(key="k/1/en/b")
    fake.respond(429, {"error": "RateLimitExceeded"}, {"Retry-After": "5"})
    attempt(key="k/2/en/b")
    fake.respond(500, {"error": "InternalServerError", "message": f"echo {SECRET}"})
    attempt(key="k/3/en/b")
    fake.inject(Fault("hang_after", seconds=3.0, method="POST", path="putRecord"))
    attempt(key="k/4/en/b")
    fake.expire_access_tokens()
    attempt(key="k/5/en/b")
    fake.revoke(SECRET)
    fake.expire_access_tokens()
    attempt(key="k/6/en/b")
    report = bsky.check()

    tokens = [*fake._access, *list(fake._refresh)]
    seen = caplog.text + repr(errors) + " ".join(str(e) for e in errors) + repr(report)
    seen += repr(bsky.__dict__.get("_session")) + repr(bsky)
    assert len(errors) == 4
    for secret in [SECRET, *tokens]:
        assert secret not in seen


def test_the_fake_runs_on_its_own() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "connectors.platforms.bluesky.fake", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        config = replace(
            channel(base_url),
            credentials={"identifier": "clarion.test", "app_password": "fake-appp-pass-word"},
        )
        assert BlueskyConnector(config).check().ok
    finally:
        process.terminate()
        process.wait(5)
