"""Videos on Mastodon: `POST /api/v2/media` answers 202 with no `url` while the server
processes the file, `GET /api/v1/media/:id` answers 206 until it is done; with real clips
made by the tests (tests/videos.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.base import Rejected, RetryLater
from connectors.fakes.params import multipart
from connectors.platforms.mastodon.fake import MastodonFake
from tests.connectors.clips import broken, cover, padded, video
from tests.connectors.platforms.mastodon.test_connector import connector
from tests.connectors.social import post


@pytest.fixture
def fake() -> Iterator[MastodonFake]:
    with MastodonFake() as fake:
        yield fake


def test_a_video_goes_up_with_its_alt_text_and_cover_then_waits_for_its_url(
    fake: MastodonFake, tmp_path: Path
) -> None:
    fake.processing_polls = 2
    clip = video(tmp_path, thumbnail=cover(tmp_path))
    published = connector(fake).publish(post("Watch", media=[clip]))

    upload = fake.requests[0]
    parts = multipart(upload)
    assert parts["file"].content == clip.path.read_bytes()
    assert parts["file"].content_type == "video/mp4"
    assert parts["description"].content == b"A black screen, two seconds"
    assert parts["thumbnail"].content == (tmp_path / "cover.jpg").read_bytes()
    assert parts["thumbnail"].content_type == "image/jpeg"
    [attachment] = fake.media.values()
    assert attachment.thumbnail == (tmp_path / "cover.jpg").read_bytes()
    looks = [r.path for r in fake.requests if r.method == "GET"]
    assert looks == [f"/api/v1/media/{attachment.id}"] * 3  # 206, 206, then 200 with the url
    assert fake.posts[0]["media_ids"] == [attachment.id]
    assert published.ref.id == fake.posts[0]["id"]


def test_a_video_without_cover_sends_no_thumbnail(fake: MastodonFake, tmp_path: Path) -> None:
    connector(fake).publish(post(media=[video(tmp_path)]))
    assert "thumbnail" not in multipart(fake.requests[0])


def test_a_broken_clip_fails_processing_and_is_rejected_with_the_server_s_words(
    fake: MastodonFake, tmp_path: Path
) -> None:
    with pytest.raises(Rejected, match="Error processing thumbnail for uploaded media") as caught:
        connector(fake).publish(post(media=[broken(tmp_path)]))
    assert caught.value.status == 422
    assert fake.posts == []


def test_a_video_over_the_instance_s_limit_is_rejected(fake: MastodonFake, tmp_path: Path) -> None:
    fake.video_size_limit = 100_000
    with pytest.raises(Rejected, match="file size must be less than 100000") as caught:
        connector(fake).publish(post(media=[padded(tmp_path, 200_000)]))
    assert caught.value.status == 422
    assert fake.posts == []


def test_a_missing_cover_rejects_the_post_before_anything_is_sent(
    fake: MastodonFake, tmp_path: Path
) -> None:
    clip = video(tmp_path, thumbnail=tmp_path / "gone.jpg")
    with pytest.raises(Rejected, match=r"gone\.jpg"):
        connector(fake).publish(post(media=[clip]))
    assert fake.requests == []


def uploads(fake: MastodonFake) -> int:
    return sum(1 for r in fake.requests if r.path == "/api/v2/media")


def test_a_video_still_processing_is_not_sent_again_by_the_next_attempt(
    fake: MastodonFake, tmp_path: Path
) -> None:
    fake.processing_polls = 1_000
    state = tmp_path / "state"
    clip = video(tmp_path)
    with pytest.raises(RetryLater, match="still processing"):
        connector(fake, media_timeout=0, state_dir=str(state)).publish(post(media=[clip]))
    [attachment] = fake.media.values()
    attachment.polls_left = 1  # the server finishes in the meantime
    connector(fake, state_dir=str(state)).publish(post(media=[clip]))  # after a restart
    assert uploads(fake) == 1
    assert fake.posts[0]["media_ids"] == [attachment.id]


def test_an_upload_the_server_deleted_is_sent_again(fake: MastodonFake, tmp_path: Path) -> None:
    fake.processing_polls = 1_000
    mastodon = connector(fake, media_timeout=0)
    clip = video(tmp_path)
    with pytest.raises(RetryLater):
        mastodon.publish(post(media=[clip]))
    fake.media.clear()  # Mastodon deletes unattached uploads after a day
    fake.processing_polls = 1
    mastodon.media_timeout = 60
    mastodon.publish(post(media=[clip]))
    assert uploads(fake) == 2
    assert fake.posts[0]["media_ids"] == list(fake.media)
