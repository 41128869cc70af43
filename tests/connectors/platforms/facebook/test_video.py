from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import Ambiguous, AuthFailed, MediaFile, Rejected, RetryLater
from connectors.fakes.server import Fault
from connectors.platforms.facebook.fake import PAGE, TOKEN, FacebookFake
from connectors.platforms.facebook.fake_video import APP
from connectors.platforms.facebook.video import FacebookUploads
from tests.connectors.platforms.facebook.test_connector import V
from tests.connectors.platforms.facebook.test_connector import connector as page_connector
from tests.connectors.social import images, post
from tests.videos import clip

connector = replace(page_connector, options={**page_connector.options, "app_id": APP})


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FacebookUploads, "retry_pause", 0.0)


@pytest.fixture
def fake() -> Iterator[FacebookFake]:
    with FacebookFake() as fake:
        yield fake


def video(tmp_path: Path, name: str = "clip.mp4") -> MediaFile:
    return MediaFile(clip(tmp_path / name, seconds=2), "A hand saying no", "video/mp4")


def test_a_video_is_uploaded_then_posted(fake: FacebookFake, tmp_path: Path) -> None:
    media = video(tmp_path)
    size = media.path.stat().st_size
    published = connector(fake).publish(post("Watch #SayNo", media=[media]))

    start, transfer, create, status = fake.requests
    assert (start.method, start.path) == ("POST", f"/{V}/{APP}/uploads")
    assert {k: v[0] for k, v in start.query.items() if k != "access_token"} == {
        "file_name": "clip.mp4",
        "file_length": str(size),
        "file_type": "video/mp4",
    }
    [session] = fake.videos.sessions
    assert (transfer.method, transfer.path) == ("POST", f"/{V}/{session}")
    assert transfer.header("authorization") == f"OAuth {TOKEN}"
    assert transfer.header("file_offset") == "0"
    assert transfer.body == media.path.read_bytes()
    assert (create.method, create.path) == ("POST", f"/{V}/{PAGE}/videos")
    [made] = fake.videos.videos.values()
    assert published.ref.id == made.id
    assert published.ref.url == f"https://www.facebook.com/{PAGE}/videos/{made.id}"
    assert made.description == "Watch #SayNo" and made.content == media.path.read_bytes()
    assert (status.method, status.query["fields"]) == ("GET", ["status"])
    assert published.note is None


def test_an_interrupted_upload_resumes_where_facebook_says(
    fake: FacebookFake, tmp_path: Path
) -> None:
    media = video(tmp_path)
    fake.videos.accept_next = 1000
    fake.inject(Fault("drop_after", method="POST", path="upload:"))
    connector(fake).publish(post(media=[media]))

    transfers = [r for r in fake.requests if "upload:" in r.path]
    assert [(r.method, r.header("file_offset")) for r in transfers] == [
        ("POST", "0"),
        ("GET", None),
        ("POST", "1000"),
    ]
    assert transfers[2].body == media.path.read_bytes()[1000:]
    [made] = fake.videos.videos.values()
    assert made.content == media.path.read_bytes() and len(fake.posts) == 1


def test_a_server_error_mid_upload_resumes_too(fake: FacebookFake, tmp_path: Path) -> None:
    fake.respond(500, {"error": {"code": 2, "message": "Service unavailable"}}, path="upload:")
    connector(fake).publish(post(media=[video(tmp_path)]))
    assert len(fake.videos.sessions) == 1 and len(fake.posts) == 1


def test_an_upload_failing_every_time_posts_nothing(fake: FacebookFake, tmp_path: Path) -> None:
    fake.respond(500, {"error": {"code": 2, "message": "Unavailable"}}, path="upload:", times=3)
    with pytest.raises(RetryLater, match="Unavailable"):
        connector(fake).publish(post(media=[video(tmp_path)]))
    assert fake.posts == [] and fake.videos.videos == {}


def test_a_broken_clip_is_posted_but_its_failure_is_said(
    fake: FacebookFake, tmp_path: Path
) -> None:
    """Facebook processes a video after the post is made: the post is not made again."""
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(clip(tmp_path / "clip.mp4").read_bytes()[:2000])
    fake.videos.processing_reads = 0
    published = connector(fake).publish(post(media=[MediaFile(broken, "", "video/mp4")]))
    assert published.note is not None and "could not process the video" in published.note
    assert "not supported" in published.note


def test_a_video_without_the_app_id_fails_before_anything_is_sent(
    fake: FacebookFake, tmp_path: Path
) -> None:
    with pytest.raises(Rejected, match=r"options\.app_id"):
        page_connector(fake).publish(post(media=[video(tmp_path)]))
    assert fake.requests == []


def test_a_video_type_facebook_does_not_take_is_refused(fake: FacebookFake, tmp_path: Path) -> None:
    media = MediaFile(clip(tmp_path / "clip.mov"), "", "video/quicktime")
    with pytest.raises(Rejected, match="Invalid file_type"):
        connector(fake).publish(post(media=[media]))
    assert fake.posts == []


def test_throttled_upload_waits_as_facebook_says(fake: FacebookFake, tmp_path: Path) -> None:
    fake.answer(fake.throttle(datetime.now(UTC) + timedelta(minutes=7)))
    with pytest.raises(RetryLater) as caught:
        connector(fake).publish(post(media=[video(tmp_path)]))
    assert caught.value.code == "80001" and caught.value.retry_at is not None
    assert fake.posts == []


def test_an_expired_token_holds_the_channel(fake: FacebookFake, tmp_path: Path) -> None:
    fake.expire()
    with pytest.raises(AuthFailed):
        connector(fake).publish(post(media=[video(tmp_path)]))


def test_a_crash_between_upload_and_post_never_posts_twice(
    fake: FacebookFake, tmp_path: Path
) -> None:
    """The upload is not the post. A post request that may have left is never sent again
    blindly (Facebook cannot be looked up): an operator settles it; once settled as not sent,
    the next attempt uploads afresh and posts once."""
    fake.inject(Fault("drop_before", path=f"{PAGE}/videos"))
    with pytest.raises(Ambiguous):
        connector(fake).publish(post(media=[video(tmp_path)]))
    assert fake.posts == [] and len(fake.videos.handles) == 1

    connector(fake).publish(post(media=[video(tmp_path)]))  # after `clarion resolve --not-sent`
    assert len(fake.posts) == 1 and len(fake.videos.handles) == 2


def test_a_video_with_other_media_is_refused(fake: FacebookFake, tmp_path: Path) -> None:
    with pytest.raises(Rejected, match="alone"):
        connector(fake).publish(post(media=[video(tmp_path), *images(tmp_path, 1)]))
    assert fake.requests == []
