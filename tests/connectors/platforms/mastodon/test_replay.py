"""The Mastodon connector against exchanges Mastodon.py recorded with a real Mastodon server.

Requests must match the recordings on method, URL and body, where the body is compared as
form fields: every field Mastodon.py sent must be sent alike, except `lang` (Mastodon.py's
choice of error language, which we leave to the account) and empty fields (an empty
`spoiler_text` means none). We may add only `visibility` and `language`, which Mastodon.py
left to the server's defaults and we always state. Multipart media bodies are not compared:
their boundaries are random and Mastodon.py also sends a `focus` we have no use for; our
uploads are checked field by field instead. Tokens in the recordings are placeholders.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import vcr
import yaml
from vcr.request import Request as Recorded

from connectors.base import ChannelAccess, MediaFile, PlatformRef, Post, Rejected
from connectors.fakes.params import multipart
from connectors.fakes.server import Request
from connectors.platforms.mastodon.connector import MastodonConnector

CASSETTES = Path(__file__).parents[2] / "cassettes" / "mastodon-py"
BASE = "http://localhost:3000"
TOKEN = "__MASTODON_PY_TEST_ACCESS_TOKEN"
OUR_EXTRAS = {"visibility", "language"}
THEIR_EXTRAS = {"lang"}


def _form(request: Recorded) -> dict[str, list[str]] | None:
    kind = str(request.headers.get("Content-Type", ""))
    if not kind.startswith("application/x-www-form-urlencoded"):
        return None
    body = request.body or b""
    text = body.decode() if isinstance(body, bytes) else body
    return {k: v for k, v in parse_qs(text, keep_blank_values=True).items() if v != [""]}


def form_body(ours: Recorded, theirs: Recorded) -> None:
    """vcrpy matcher: `theirs` is the recording, `ours` the request the connector made."""
    recorded, sent = _form(theirs), _form(ours)
    if recorded is None or sent is None:
        assert (recorded is None) == (sent is None) or theirs.body is None
        return
    for key in THEIR_EXTRAS:
        recorded.pop(key, None)
    assert {k: v for k, v in sent.items() if k in recorded} == recorded
    assert set(sent) - set(recorded) <= OUR_EXTRAS


replay = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    match_on=["method", "scheme", "host", "port", "path", "query", "form_body"],
)
replay.register_matcher("form_body", form_body)


def connector(token: str = TOKEN, **options: Any) -> tuple[MastodonConnector, list[httpx.Request]]:
    mastodon = MastodonConnector(
        ChannelAccess(
            "mastodon-main",
            "mastodon",
            credentials={"access_token": token},
            base_url=BASE,
            options=options,
        )
    )
    mastodon.poll_interval = 0.0
    sent: list[httpx.Request] = []
    mastodon._client.event_hooks["request"].append(sent.append)
    return mastodon, sent


def recorded(name: str) -> list[dict[str, Any]]:
    interactions: list[dict[str, Any]] = yaml.safe_load((CASSETTES / name).read_text())[
        "interactions"
    ]
    return interactions


def status(text: str, **kw: Any) -> Post:
    return Post(f"replay/{text[:20]}", text, datetime.now(UTC), **kw)


@pytest.fixture
def media(tmp_path: Path) -> Iterator[list[MediaFile]]:
    files = []
    for name, mime in (("walk.jpg", "image/jpeg"), ("cat.mp4", "video/mp4")):
        path = tmp_path / name
        path.write_bytes(b"\xff\xd8\xff" + name.encode())
        files.append(MediaFile(path, f"alt for {name}", mime))
    yield files


def test_a_public_status() -> None:
    mastodon, sent = connector()
    with replay.use_cassette("test_status_post[None-public].yaml") as cassette:
        published = mastodon.publish(status("Toot!"))
        assert cassette.play_count == 1
    assert published.ref == PlatformRef(
        "117020585924712638", "http://localhost:3000/@mastodonpy_test/117020585924712638"
    )
    [request] = sent
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["idempotency-key"] == status("Toot!").idempotency_key
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize("visibility", ["public", "unlisted"])
def test_a_status_with_a_content_warning(visibility: str) -> None:
    mastodon, sent = connector(content_warning="Content warning", visibility=visibility)
    with replay.use_cassette(f"test_status_post[Content_warning-{visibility}].yaml"):
        published = mastodon.publish(status("Toot!"))
    assert published.ref.url is not None and "/@mastodonpy_test/" in published.ref.url
    assert parse_qs(sent[0].content.decode()) == {
        "status": ["Toot!"],
        "spoiler_text": ["Content warning"],
        "visibility": [visibility],
    }


def test_a_reply() -> None:
    first, _ = connector(f"{TOKEN}_3")
    second, sent = connector(f"{TOKEN}_2")
    with replay.use_cassette("test_status_reply.yaml") as cassette:
        parent = first.publish(status("Toot, finally!"))
        reply = second.publish(status("@mastodonpy_test_2 same!", reply_to=parent.ref))
        assert cassette.play_count == 2
    assert parent.ref.id == "117020583245459824"
    assert reply.ref == PlatformRef(
        "117020583258292382", "http://localhost:3000/@admin/117020583258292382"
    )
    assert sent[0].headers["authorization"] == f"Bearer {TOKEN}_2"
    assert parse_qs(sent[0].content.decode())["in_reply_to_id"] == ["117020583245459824"]


def test_a_video_with_its_cover_processed_in_the_background(
    media: list[MediaFile], tmp_path: Path
) -> None:
    """Mastodon.py sent the video with a cover (`thumbnail`) and a `focus` we have no use for;
    our upload has the recording's other parts, with the same types."""
    cover = tmp_path / "cover.jpg"
    cover.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    clip = replace(media[1], thumbnail=cover)
    mastodon, sent = connector()
    with replay.use_cassette("test_media_post[False].yaml") as cassette:
        published = mastodon.publish(status("LOL check this out", media=(clip,)))
        assert cassette.play_count == 3  # 202, then one look that finds it ready, then the post
    assert published.ref.id == "117020620300441304"
    assert [(r.method, r.url.path) for r in sent] == [
        ("POST", "/api/v2/media"),
        ("GET", "/api/v1/media/117020619601888181"),
        ("POST", "/api/v1/statuses"),
    ]
    parts = _parts(sent[0])
    assert parts["file"].content == clip.path.read_bytes()
    assert parts["description"].content == b"alt for cat.mp4"
    assert parts["thumbnail"].content == cover.read_bytes()
    upload = recorded("test_media_post[False].yaml")[0]["request"]
    theirs = multipart(
        Request("POST", "/api/v2/media", {}, _lower(upload["headers"]), upload["body"])
    )
    kinds = {name: part.content_type for name, part in theirs.items() if name != "focus"}
    assert kinds == {name: part.content_type for name, part in parts.items()}
    assert kinds == {"description": "text/plain", "file": "video/mp4", "thumbnail": "image/jpeg"}


def test_two_images(media: list[MediaFile]) -> None:
    photo = media[0]
    second = MediaFile(photo.path, "John Lennon doing a funny walk", "image/jpeg")
    mastodon, sent = connector()
    with replay.use_cassette("test_media_post_multiple.yaml") as cassette:
        published = mastodon.publish(status("LOL check this out", media=(photo, second)))
        assert cassette.play_count == 3
    assert published.ref.id == "117020576664345360"
    assert parse_qs(sent[-1].content.decode())["media_ids[]"] == [
        "117020576646493592",
        "117020576661238952",
    ]
    assert [_parts(r)["description"].content for r in sent[:2]] == [
        b"alt for walk.jpg",
        b"John Lennon doing a funny walk",
    ]


def test_localized_over_length_errors_are_rejections_with_the_server_s_words() -> None:
    interactions = recorded("test_lang_for_errors.yaml")
    text = parse_qs(interactions[0]["request"]["body"])["status"][0]
    mastodon, _ = connector()
    reasons = []
    with replay.use_cassette("test_lang_for_errors.yaml") as cassette:
        for _ in interactions:
            with pytest.raises(Rejected) as caught:
                mastodon.publish(status(text))
            assert caught.value.status == 422
            reasons.append(caught.value.reason)
        assert cassette.play_count == 2
    assert "Text上限は500文字です" in reasons[0]
    assert "Text Begrenzung von 500 Zeichen überschritten" in reasons[1]


def _lower(headers: dict[str, list[str]]) -> dict[str, str]:
    return {name.lower(): values[0] for name, values in headers.items()}


def _parts(request: httpx.Request) -> dict[str, Any]:
    as_received = Request(
        request.method,
        request.url.path,
        {},
        {"content-type": request.headers["content-type"]},
        request.read(),
    )
    return dict(multipart(as_received))
