"""The Bluesky connector against a real PDS on loopback (@atproto/dev-env, tests/peers/pds).

Also pins down the PDS behaviour the connector's idempotency rests on: `createRecord` at a
key in use fails with a bare 500, `putRecord` of the identical record is a no-op answering the
same cid, and `putRecord` with `swapRecord: null` refuses to replace another record.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.base import AuthFailed, ChannelAccess, MediaFile, Post, Rejected
from connectors.fakes.server import Response
from connectors.platforms.bluesky.connector import BlueskyConnector, login
from connectors.platforms.bluesky.tid import tid_for
from tests.connectors.fakeweb import FakeWeb, png
from tests.connectors.platforms.bluesky.peer import Account, create_account, running
from tests.connectors.platforms.bluesky.test_video import BAD_EMBEDS, refusal
from tests.videos import clip

pytestmark = pytest.mark.node

START_SECONDS = 90
DUE = datetime(2027, 2, 9, 8, 0, tzinfo=UTC)
POST = "app.bsky.feed.post"
JWT_SECRET = b"jwt-secret"
"""@atproto/dev-env's fixed signing secret (packages/dev-env/src/const.ts)."""


@pytest.fixture(scope="session")
def pds() -> Iterator[str]:
    """The address of a fresh PDS, shared by this module's tests."""
    with running("pds.mjs", START_SECONDS) as peer:
        yield str(peer.ready["pds"])


def connector(pds: str, account: Account, **options: Any) -> BlueskyConnector:
    config = ChannelAccess(
        name="bluesky-main",
        platform="bluesky",
        credentials={"identifier": account.handle, "app_password": account.app_password},
        base_url=pds,
        options={"link_cards": False, "video_upload": "blob", **options},  # no video service here
        timeout=10.0,
    )
    return BlueskyConnector(config)


def records(pds: str, did: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{pds}/xrpc/com.atproto.repo.listRecords",
        params={"repo": did, "collection": POST, "limit": "100"},
    )
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()["records"]
    return found


def record(pds: str, uri: str) -> dict[str, Any]:
    did, collection, rkey = uri.removeprefix("at://").split("/")
    response = httpx.get(
        f"{pds}/xrpc/com.atproto.repo.getRecord",
        params={"repo": did, "collection": collection, "rkey": rkey},
    )
    response.raise_for_status()
    value: dict[str, Any] = response.json()["value"]
    return value


def post(key: str, text: str, **changes: Any) -> Post:
    return replace(Post(key=key, text=text, due=DUE, language="en"), **changes)


def expired(access_jwt: str) -> str:
    """The same access token, expired: re-signed with dev-env's known secret."""
    header, payload, _ = access_jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(iat=int(time.time()) - 7300, exp=int(time.time()) - 100)
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    signed = f"{header}.{encoded}".encode()
    signature = hmac.new(JWT_SECRET, signed, hashlib.sha256).digest()
    return f"{header}.{encoded}." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def test_posts_threads_and_repeats_on_a_real_pds(pds: str, tmp_path: Path) -> None:
    alice, bob = create_account(pds, "alice"), create_account(pds, "bob")
    bsky = connector(pds, alice)
    card = tmp_path / "card.png"
    card.write_bytes(png(30, 20))
    text = f"One week to #SaferInternetDay with @{bob.handle} https://example.org/sayno #SayNo"
    deliveries = [
        post("sayno/countdown/en/bsky", text),
        post("sayno/card/en/bsky", "The card", media=(MediaFile(card, "A card", "image/png"),)),
        post("sayno/tips/en/bsky/1", "1/ tips"),
    ]
    first, with_image, root = (bsky.publish(d).ref for d in deliveries)
    second = bsky.publish(post("sayno/tips/en/bsky/2", "2/ more", reply_to=root)).ref
    third = bsky.publish(
        post("sayno/tips/en/bsky/3", "3/ end", reply_to=second, thread_root=root)
    ).ref

    written = record(pds, first.id)
    assert written["createdAt"] == "2027-02-09T08:00:00.000Z"
    assert written["langs"] == ["en"]
    features = [f["features"][0] for f in written["facets"]]
    assert features == [
        {"$type": "app.bsky.richtext.facet#tag", "tag": "SaferInternetDay"},
        {"$type": "app.bsky.richtext.facet#mention", "did": bob.did},
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/sayno"},
        {"$type": "app.bsky.richtext.facet#tag", "tag": "SayNo"},
    ]
    image = record(pds, with_image.id)["embed"]["images"][0]
    assert (image["alt"], image["aspectRatio"]) == ("A card", {"width": 30, "height": 20})
    assert image["image"]["size"] == card.stat().st_size
    strong = {ref.id: {"uri": ref.extra["uri"], "cid": ref.extra["cid"]} for ref in (root, second)}
    assert record(pds, second.id)["reply"] == {"root": strong[root.id], "parent": strong[root.id]}
    assert record(pds, third.id)["reply"] == {
        "root": strong[root.id],
        "parent": strong[second.id],
    }
    assert first.url == f"https://bsky.app/profile/{alice.did}/post/{first.id.rsplit('/', 1)[1]}"

    restarted = connector(pds, alice)
    again = restarted.publish(deliveries[0])
    assert again.ref == first
    assert again.note == "already on Bluesky: an earlier attempt posted it"
    rkey = tid_for(deliveries[0].key, DUE)
    listed = records(pds, alice.did)
    assert [r["uri"] for r in listed].count(first.id) == 1
    assert first.id.endswith("/" + rkey)
    assert len(listed) == 5
    assert restarted.lookup(deliveries[0]) == first
    assert restarted.lookup(post("sayno/never/en/bsky", "x")) is None


def test_a_link_card_with_its_image(pds: str) -> None:
    alice = create_account(pds, "carder")
    web = FakeWeb()
    web.start()
    try:
        web.pages["/og.png"] = Response(200, png(120, 63), {"Content-Type": "image/png"})
        url = web.html(
            "/sayno",
            '<meta property="og:title" content="#SayNo"><meta property="og:image" '
            'content="/og.png"><meta property="og:description" content="Report it.">',
        )
        ref = connector(pds, alice, link_cards=True).publish(post("k/card", url, link=url)).ref
    finally:
        web.stop()
    external = record(pds, ref.id)["embed"]["external"]
    assert (external["uri"], external["title"], external["description"]) == (
        url,
        "#SayNo",
        "Report it.",
    )
    assert external["thumb"]["mimeType"] == "image/png"


def test_a_video_with_its_alt_text_aspect_ratio_and_captions(pds: str, tmp_path: Path) -> None:
    """The video goes to the PDS as a blob: no video service runs on loopback."""
    alice = create_account(pds, "filmer")
    video = clip(tmp_path / "sayno.mp4", seconds=2, size=(320, 180))
    captions = tmp_path / "sayno.srt"
    captions.write_text("1\n00:00:00,000 --> 00:00:01,500\nSay no.\n")
    media = MediaFile(video, "A black screen", "video/mp4", captions=captions)
    delivery = post("sayno/clip/en/bsky", "Say no #SayNo", media=(media,))
    published = connector(pds, alice).publish(delivery).ref

    embed = record(pds, published.id)["embed"]
    assert embed["$type"] == "app.bsky.embed.video"
    assert (embed["alt"], embed["aspectRatio"]) == ("A black screen", {"width": 320, "height": 180})
    assert (embed["video"]["mimeType"], embed["video"]["size"]) == (
        "video/mp4",
        video.stat().st_size,
    )
    [caption] = embed["captions"]
    assert (caption["lang"], caption["file"]["mimeType"]) == ("en", "text/vtt")
    blob = httpx.get(
        f"{pds}/xrpc/com.atproto.sync.getBlob",
        params={"did": alice.did, "cid": embed["video"]["ref"]["$link"]},
    )
    assert blob.content == video.read_bytes()
    again = connector(pds, alice).publish(delivery)
    assert (again.ref, again.note) == (
        published,
        "already on Bluesky: an earlier attempt posted it",
    )
    assert len(records(pds, alice.did)) == 1


@pytest.mark.parametrize(("extra", "message"), BAD_EMBEDS)
def test_what_the_pds_refuses_in_a_video_embed(
    pds: str, tmp_path: Path, extra: Any, message: str
) -> None:
    alice = create_account(pds, f"spoiler{BAD_EMBEDS.index((extra, message))}")  # one e-mail each
    video = clip(tmp_path / "sayno.mp4", seconds=1)
    status, said = refusal(pds, alice.handle, alice.app_password, video, extra)
    assert (status, said) == (400, f"InvalidRequest: Invalid app.bsky.feed.post record: {message}")
    assert records(pds, alice.did) == []


def test_the_pds_behaviour_idempotency_rests_on(pds: str) -> None:
    alice = create_account(pds, "raw")
    rkey = tid_for("raw/post/en/bsky", DUE)
    value = {"$type": POST, "text": "hello", "createdAt": "2027-02-09T08:00:00.000Z"}
    body = {"repo": alice.did, "collection": POST, "rkey": rkey, "record": value}
    with httpx.Client(base_url=pds + "/xrpc/") as client:
        session = client.post(
            "com.atproto.server.createSession",
            json={"identifier": alice.handle, "password": alice.app_password},
        ).json()
        auth = {"Authorization": f"Bearer {session['accessJwt']}"}
        created = client.post("com.atproto.repo.createRecord", json=body, headers=auth)
        assert created.status_code == 200
        cid = created.json()["cid"]

        again = client.post("com.atproto.repo.createRecord", json=body, headers=auth)
        assert (again.status_code, again.json()["error"]) == (500, "InternalServerError")

        for extra in ({}, {"swapRecord": None}):
            same = client.post("com.atproto.repo.putRecord", json=body | extra, headers=auth)
            assert same.status_code == 200
            assert same.json()["cid"] == cid
            assert "commit" not in same.json()  # nothing was written

        other = body | {"record": value | {"text": "changed"}, "swapRecord": None}
        refused = client.post("com.atproto.repo.putRecord", json=other, headers=auth)
        assert (refused.status_code, refused.json()["error"]) == (400, "InvalidSwap")
    assert [r["value"]["text"] for r in records(pds, alice.did)] == ["hello"]


def test_an_expired_access_token_is_refreshed(pds: str) -> None:
    alice = create_account(pds, "expiring")
    bsky = connector(pds, alice)
    bsky.publish(post("k/1", "first"))
    session = bsky._login()
    refresh_before = session.refresh
    session.access = expired(session.access)
    bsky.publish(post("k/2", "second"))
    assert bsky._login().refresh != refresh_before  # refreshSession rotated it
    assert len(records(pds, alice.did)) == 2


def test_a_revoked_app_password_fails_authentication(pds: str) -> None:
    alice = create_account(pds, "revoked")
    bsky = connector(pds, alice)
    bsky.publish(post("k/1", "first"))
    with httpx.Client(base_url=pds + "/xrpc/") as client:
        main = client.post(
            "com.atproto.server.createSession",
            json={"identifier": alice.handle, "password": alice.password},
        ).json()
        client.post(
            "com.atproto.server.revokeAppPassword",
            json={"name": "clarion"},
            headers={"Authorization": f"Bearer {main['accessJwt']}"},
        ).raise_for_status()
    session = bsky._login()
    session.access = expired(session.access)
    with pytest.raises(AuthFailed) as caught:
        bsky.publish(post("k/2", "second"))
    assert caught.value.code == "AuthenticationRequired"
    assert len(records(pds, alice.did)) == 1


def test_what_the_pds_refuses_is_rejected(pds: str) -> None:
    alice = create_account(pds, "refused")
    with pytest.raises(Rejected) as caught:
        connector(pds, alice).publish(post("k/1", "hello", language="not a language!"))
    assert (caught.value.status, caught.value.code) == (400, "InvalidRequest")
    assert records(pds, alice.did) == []


def test_check_and_login(pds: str) -> None:
    alice = create_account(pds, "checker")
    report = connector(pds, alice).check()
    assert report.ok
    assert report.account == f"@{alice.handle} ({alice.did}) on {pds}"

    class IO:
        def __init__(self) -> None:
            self.said: list[str] = []

        def ask(self, question: str, *, secret: bool = False) -> str:
            return alice.app_password if secret else alice.handle

        def say(self, text: str) -> None:
            self.said.append(text)

    io = IO()
    credentials = login(io, ChannelAccess("bluesky-main", "bluesky", base_url=pds))
    assert credentials == {"identifier": alice.handle, "app_password": alice.app_password}
    assert io.said[-1] == f"Signed in as @{alice.handle} ({alice.did}), whose posts live on {pds}."
