from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import Ambiguous, MediaFile, Rejected, RetryLater
from connectors.fakes.server import Fault
from connectors.platforms.linkedin.fake import ORGANIZATION, LinkedInFake
from connectors.platforms.linkedin.video import RESUME_MARGIN_MS, LinkedInVideos, Part
from tests.connectors.platforms.linkedin.test_connector import connector
from tests.connectors.social import images, post
from tests.videos import clip


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LinkedInVideos, "ready_interval", 0.0)
    monkeypatch.setattr(LinkedInVideos, "retry_pause", 0.0)


@pytest.fixture
def fake() -> Iterator[LinkedInFake]:
    with LinkedInFake() as fake:
        fake.videos.part_size = 1024  # a few parts for a clip of a few kilobytes
        yield fake


def video(tmp_path: Path, **extra: Path) -> MediaFile:
    path = clip(tmp_path / "clip.mp4", seconds=2)
    return MediaFile(path, "A hand saying no", "video/mp4", **extra)


def test_a_video_is_uploaded_in_parts_then_posted(fake: LinkedInFake, tmp_path: Path) -> None:
    media = video(tmp_path)
    size = media.path.stat().st_size
    published = connector(fake).publish(post("Watch", media=[media]))

    [made] = fake.videos.videos.values()
    assert len(made.parts) == -(-size // 1024) > 1
    assert made.content() == media.path.read_bytes()
    init, *rest = fake.requests
    assert init.json() == {
        "initializeUploadRequest": {
            "owner": ORGANIZATION,
            "fileSizeBytes": size,
            "uploadCaptions": False,
            "uploadThumbnail": False,
        }
    }
    puts = [r for r in rest if r.method == "PUT"]
    assert [r.header("content-type") for r in puts] == ["application/octet-stream"] * len(puts)
    finalize = next(r for r in rest if r.query.get("action") == ["finalizeUpload"])
    assert finalize.json()["finalizeUploadRequest"] == {
        "video": made.urn,
        "uploadToken": "",
        "uploadedPartIds": [made.etags[i] for i in range(len(made.parts))],
    }
    reads = [r for r in rest if r.method == "GET"]
    assert len(reads) == 2  # PROCESSING, then AVAILABLE
    assert fake.posts[-1]["content"] == {"media": {"id": made.urn, "title": media.alt}}
    assert published.ref.id == fake.posts[-1]["urn"]


def test_captions_and_thumbnail_go_where_linkedin_says(fake: LinkedInFake, tmp_path: Path) -> None:
    captions = tmp_path / "clip.srt"
    captions.write_text("1\n00:00:00,000 --> 00:00:02,000\nSay no.\n")
    [thumbnail] = images(tmp_path, 1)
    media = video(tmp_path, captions=captions, thumbnail=thumbnail.path)
    connector(fake).publish(post(media=[media]))

    [made] = fake.videos.videos.values()
    assert fake.requests[0].json()["initializeUploadRequest"]["uploadCaptions"] is True
    assert fake.requests[0].json()["initializeUploadRequest"]["uploadThumbnail"] is True
    assert made.captions == captions.read_bytes()
    assert made.thumbnail == thumbnail.path.read_bytes()


def test_a_failed_part_is_sent_again_alone(fake: LinkedInFake, tmp_path: Path) -> None:
    fake.respond(503, {"message": "upstream unavailable"}, method="PUT", path="/parts/1$")
    fake.inject(Fault("drop_before", method="PUT", path="/parts/2$"))
    connector(fake).publish(post(media=[video(tmp_path)]))

    sent = Counter(r.path.rsplit("/", 1)[1] for r in fake.requests if "/parts/" in r.path)
    [made] = fake.videos.videos.values()
    assert sent["1"] == sent["2"] == 2
    assert {sent[str(i)] for i in range(len(made.parts)) if i not in (1, 2)} == {1}
    assert len(fake.videos.videos) == 1 and len(fake.posts) == 1


def test_a_part_failing_every_time_publishes_nothing(fake: LinkedInFake, tmp_path: Path) -> None:
    fake.respond(500, {"message": "boom"}, method="PUT", path="/parts/0$", times=3)
    with pytest.raises(RetryLater, match="500"):
        connector(fake).publish(post(media=[video(tmp_path)]))
    assert fake.posts == []


def test_expired_upload_addresses_start_the_upload_again(
    fake: LinkedInFake, tmp_path: Path
) -> None:
    fake.videos.url_lifetime_ms = -1
    li = connector(fake)
    with pytest.raises(RetryLater, match="expired"):
        li.publish(post(media=[video(tmp_path)]))
    assert fake.posts == []
    fake.videos.url_lifetime_ms = 3_600_000
    li.publish(post(media=[video(tmp_path)]))
    assert len(fake.videos.videos) == 2 and len(fake.posts) == 1


def test_a_broken_clip_fails_processing_and_is_not_posted(
    fake: LinkedInFake, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(clip(tmp_path / "clip.mp4").read_bytes()[:2000])
    with pytest.raises(Rejected, match=r"could not process the video broken\.mp4"):
        connector(fake).publish(post(media=[MediaFile(broken, "", "video/mp4")]))
    assert fake.posts == []


def test_an_oversized_video_is_refused_before_any_byte_is_sent(
    fake: LinkedInFake, tmp_path: Path
) -> None:
    huge = tmp_path / "huge.mp4"
    with huge.open("wb") as out:
        out.truncate(501 * 1024 * 1024)  # sparse: nothing is written
    with pytest.raises(Rejected, match="500 MB"):
        connector(fake).publish(post(media=[MediaFile(huge, "", "video/mp4")]))
    assert [r.method for r in fake.requests] == ["POST"] and fake.posts == []


def test_a_video_still_processing_is_waited_for_not_uploaded_again(
    fake: LinkedInFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LinkedInVideos, "ready_checks", 2)
    fake.videos.processing_reads = 3
    li = connector(fake)
    with pytest.raises(RetryLater, match="still processing") as caught:
        li.publish(post(media=[video(tmp_path)]))
    assert caught.value.retry_at is not None and caught.value.retry_at > datetime.now(UTC)
    li.publish(post(media=[video(tmp_path)]))
    assert len(fake.videos.videos) == 1 and len(fake.posts) == 1


def test_throttled_video_upload_waits_as_linkedin_says(fake: LinkedInFake, tmp_path: Path) -> None:
    fake.respond(
        429,
        {"status": 429, "code": "TOO_MANY_REQUESTS", "message": "Resource level throttle"},
        {"Retry-After": "120"},
        path="/rest/videos",
    )
    with pytest.raises(RetryLater, match="rate limit") as caught:
        connector(fake).publish(post(media=[video(tmp_path)]))
    assert caught.value.retry_at is not None
    assert fake.videos.videos == {} and fake.posts == []


def test_a_crash_between_upload_and_post_never_posts_twice(
    fake: LinkedInFake, tmp_path: Path
) -> None:
    """The upload is not the post: after the process died with the video uploaded, the
    delivery is reconciled (nothing was posted) and sent once, with a new upload."""
    fake.inject(Fault("drop_before", path="/rest/posts"))
    with pytest.raises(Ambiguous):
        connector(fake).publish(post(media=[video(tmp_path)], due=datetime.now(UTC)))
    assert len(fake.videos.videos) == 1 and fake.posts == []

    restarted = connector(fake)  # a new process: nothing of the first upload is remembered
    assert restarted.lookup(post(due=datetime.now(UTC))) is None
    restarted.publish(post(media=[video(tmp_path)]))
    assert len(fake.posts) == 1
    assert len(fake.videos.videos) == 2  # the first upload stays unused, never shown


def test_a_video_with_other_media_is_refused(fake: LinkedInFake, tmp_path: Path) -> None:
    with pytest.raises(Rejected, match="alone"):
        connector(fake).publish(post(media=[video(tmp_path), *images(tmp_path, 1)]))
    assert fake.requests == []


class Crash(BaseException):
    """The process dies: nothing after it runs, only what is on disk remains."""


def crash_at_part(monkeypatch: pytest.MonkeyPatch, index: int) -> None:
    sending = LinkedInVideos._part

    def part(self: LinkedInVideos, path: Path, part: Part) -> str:
        if part.first // 1024 == index:
            raise Crash
        return sending(self, path, part)

    monkeypatch.setattr(LinkedInVideos, "_part", part)


def parts_sent(fake: LinkedInFake) -> list[int]:
    return [int(r.path.rsplit("/", 1)[1]) for r in fake.requests if "/parts/" in r.path]


def initializes(fake: LinkedInFake) -> int:
    return sum(r.query.get("action") == ["initializeUpload"] for r in fake.requests)


@pytest.mark.parametrize("meanwhile", ["valid", "expiring", "refused by LinkedIn"])
def test_an_upload_cut_short_by_a_crash_goes_on_with_the_parts_without_an_etag(
    fake: LinkedInFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, meanwhile: str
) -> None:
    state = str(tmp_path / "state")
    media = video(tmp_path)
    if meanwhile == "expiring":  # too close to uploadUrlsExpireAt to finish in time
        fake.videos.url_lifetime_ms = RESUME_MARGIN_MS - 60_000
    with monkeypatch.context() as crashing:
        crash_at_part(crashing, 2)
        with pytest.raises(Crash):
            connector(fake, state_dir=state).publish(post(media=[media]))
    assert parts_sent(fake) == [0, 1] and fake.posts == []
    [first] = fake.videos.videos.values()
    if meanwhile == "refused by LinkedIn":
        fake.videos.expire()

    connector(fake, state_dir=state).publish(post(media=[media]))  # a new process
    [*_, made] = fake.videos.videos.values()
    count = len(made.parts)
    if meanwhile == "valid":
        assert parts_sent(fake)[2:] == list(range(2, count))
        assert initializes(fake) == 1 and made is first
    else:
        tried = [2] if meanwhile == "refused by LinkedIn" else []
        assert parts_sent(fake)[2:] == [*tried, *range(count)]
        assert initializes(fake) == 2 and made is not first
    assert made.content() == media.path.read_bytes()
    assert len(fake.posts) == 1
    assert fake.posts[0]["content"]["media"]["id"] == made.urn


def test_an_upload_whose_parts_all_arrived_is_finalized_without_sending_any_again(
    fake: LinkedInFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = str(tmp_path / "state")
    media = video(tmp_path)
    sending = LinkedInVideos._action

    def action(self: LinkedInVideos, name: str, body: dict[str, object]) -> dict[str, object]:
        if name == "finalizeUpload":
            raise Crash
        return sending(self, name, body)

    with monkeypatch.context() as crashing:
        crashing.setattr(LinkedInVideos, "_action", action)
        with pytest.raises(Crash):
            connector(fake, state_dir=state).publish(post(media=[media]))
    sent = len(parts_sent(fake))
    connector(fake, state_dir=state).publish(post(media=[media]))

    assert len(parts_sent(fake)) == sent and initializes(fake) == 1
    assert len(fake.videos.videos) == 1 and len(fake.posts) == 1


def test_the_record_of_an_upload_is_dropped_once_the_post_is_made(
    fake: LinkedInFake, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    connector(fake, state_dir=str(state)).publish(post(media=[video(tmp_path)]))
    assert json.loads((state / "linkedin-linkedin-main.json").read_text()) == {}
