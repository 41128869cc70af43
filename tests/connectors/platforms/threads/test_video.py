from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Ambiguous, MediaFile, Rejected, RetryLater
from connectors.fakes.server import Fault, Response
from connectors.platforms.threads.connector import ThreadsConnector
from connectors.platforms.threads.fake import ThreadsFake
from tests.connectors.fakeweb import FakeWeb
from tests.connectors.platforms.threads.test_connector import connector
from tests.connectors.social import images, post
from tests.videos import clip


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ThreadsConnector, "ready_interval", 0.0)


@pytest.fixture
def fake() -> Iterator[ThreadsFake]:
    with ThreadsFake() as fake:
        fake.processing_reads = 2  # a video takes a while
        yield fake


def served(web: FakeWeb, path: Path, mime: str = "video/mp4") -> MediaFile:
    """The file, as the media folder published at `web` serves it."""
    web.pages[f"/sayno/{path.name}"] = Response(200, path.read_bytes(), {"Content-Type": mime})
    return MediaFile(path, "A hand saying no", mime)


def channel(fake: ThreadsFake, web: FakeWeb, **options: Any) -> ThreadsConnector:
    return connector(fake, media_base_url=f"{web.base_url}/sayno", **options)


def statuses(fake: ThreadsFake) -> int:
    return sum(1 for r in fake.requests if r.query.get("fields") == ["status,error_message"])


def test_a_video_is_fetched_prepared_then_published(
    fake: ThreadsFake, web: FakeWeb, tmp_path: Path
) -> None:
    media = served(web, clip(tmp_path / "clip.mp4"))
    published = channel(fake, web).publish(post(media=[media]))

    created = fake.requests[0].query
    assert created["media_type"] == ["VIDEO"]
    assert created["video_url"] == [f"{web.base_url}/sayno/clip.mp4"]
    assert created["alt_text"] == [media.alt]
    assert [r.path for r in web.requests] == ["/sayno/clip.mp4"]  # Threads downloaded it
    assert statuses(fake) == 3  # IN_PROGRESS twice, then FINISHED
    assert fake.posts[-1]["media_type"] == "VIDEO"
    assert published.ref.id == fake.posts[-1]["id"]


def test_a_video_still_being_prepared_is_published_on_a_later_attempt(
    fake: ThreadsFake, web: FakeWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ThreadsConnector, "ready_checks", 2)
    media = served(web, clip(tmp_path / "clip.mp4"))
    th = channel(fake, web, state_dir=str(tmp_path / "state"))
    with pytest.raises(RetryLater, match="still preparing") as caught:
        th.publish(post(media=[media]))
    assert caught.value.retry_at is not None and caught.value.retry_at > datetime.now(UTC)
    assert fake.posts == []
    th.publish(post(media=[media]))
    assert len(fake.containers) == 1 and len(fake.posts) == 1


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.write_bytes(clip(p.with_name("ok.mp4")).read_bytes()[:2000]), "process"),
        (lambda p: clip(p, seconds=301, rate=24, size=(32, 32)), "5 minutes"),
        (lambda p: clip(p, rate=10), "23 to 60 frames"),
    ],
    ids=["broken", "too-long", "too-slow"],
)
def test_a_video_threads_refuses_fails_in_plain_words(
    fake: ThreadsFake, web: FakeWeb, tmp_path: Path, make: object, words: str
) -> None:
    path = tmp_path / "clip.mp4"
    make(path)  # type: ignore[operator]
    with pytest.raises(Rejected, match=words) as caught:
        channel(fake, web).publish(post(media=[served(web, path)]))
    assert "(FAILED_PROCESSING_VIDEO)" in caught.value.reason or "(INVALID_" in caught.value.reason
    assert fake.posts == []


def test_a_video_the_media_address_does_not_serve(
    fake: ThreadsFake, web: FakeWeb, tmp_path: Path
) -> None:
    media = MediaFile(clip(tmp_path / "clip.mp4"), "", "video/mp4")  # not published
    with pytest.raises(Rejected, match="could not download the video from media_base_url"):
        channel(fake, web).publish(post(media=[media]))
    assert fake.posts == []


def test_an_expired_container_is_made_again(
    fake: ThreadsFake, web: FakeWeb, tmp_path: Path
) -> None:
    media = served(web, clip(tmp_path / "clip.mp4"))
    fake.processing_reads = 99
    th = channel(fake, web, state_dir=str(tmp_path / "state"))
    with pytest.raises(RetryLater, match="still preparing"):
        th.publish(post(media=[media]))
    [first] = fake.containers.values()
    first["status"] = "EXPIRED"  # 24 hours later
    fake.processing_reads = 0
    th.publish(post(media=[media]))
    assert len(fake.containers) == 2 and len(fake.posts) == 1


def test_a_carousel_waits_for_its_videos(fake: ThreadsFake, web: FakeWeb, tmp_path: Path) -> None:
    media = [served(web, clip(tmp_path / "clip.mp4")), *images(tmp_path, 1)]
    channel(fake, web).publish(post(media=media))

    video, image, _ = fake.containers.values()
    assert (video["params"]["media_type"], image["params"]["media_type"]) == ("VIDEO", "IMAGE")
    created = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/threads")]
    reads = [i for i, r in enumerate(fake.requests) if r.method == "GET"]
    assert fake.requests.index(created[2]) > reads[2]  # the video was FINISHED first
    assert fake.posts[-1]["media_type"] == "CAROUSEL"
    assert [c["media_type"] for c in fake.posts[-1]["children"]] == ["VIDEO", "IMAGE"]


def test_a_carousel_whose_video_is_still_prepared_keeps_its_items(
    fake: ThreadsFake, web: FakeWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ThreadsConnector, "ready_checks", 1)
    media = [served(web, clip(tmp_path / "clip.mp4")), *images(tmp_path, 1)]
    th = channel(fake, web)
    for _ in range(2):
        with pytest.raises(RetryLater, match="carousel's videos"):
            th.publish(post(media=media))
    monkeypatch.setattr(ThreadsConnector, "ready_checks", 10)
    th.publish(post(media=media))
    assert len(fake.containers) == 3 and len(fake.posts) == 1


def test_a_carousel_with_a_broken_video_fails(
    fake: ThreadsFake, web: FakeWeb, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    media = [served(web, broken), *images(tmp_path, 1)]
    with pytest.raises(Rejected, match="FAILED_PROCESSING_VIDEO"):
        channel(fake, web).publish(post(media=media))
    assert fake.posts == []


def test_a_crash_before_publishing_a_video_never_posts_twice(
    fake: ThreadsFake, web: FakeWeb, tmp_path: Path
) -> None:
    """The container is not the post: after a restart the delivery is reconciled from the
    container on record, and that same container is published, once."""
    state = str(tmp_path / "state")
    media = served(web, clip(tmp_path / "clip.mp4"))
    fake.inject(Fault("drop_before", path="threads_publish"))
    with pytest.raises(Ambiguous):
        channel(fake, web, state_dir=state).publish(post(media=[media], due=datetime.now(UTC)))
    restarted = channel(fake, web, state_dir=state)
    assert restarted.lookup(post(due=datetime.now(UTC))) is None
    restarted.publish(post(media=[media]))
    assert len(fake.containers) == 1 and len(fake.posts) == 1
