"""Videos and animated GIFs on X: the chunked v2 upload, X's processing, and its refusals,
with real clips made by the tests (tests/videos.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.base import MediaFile, Rejected, RetryLater
from connectors.fakes.params import multipart
from connectors.fakes.server import Fault, Response
from connectors.platforms.x import media as x_media
from connectors.platforms.x.fake import Window, XFake, problem
from tests.connectors.clips import broken, padded, sparse, video
from tests.connectors.platforms.x.test_connector import connector
from tests.connectors.social import HANG, IMPATIENT, post


@pytest.fixture
def fake() -> Iterator[XFake]:
    with XFake() as fake:
        yield fake


def paths(fake: XFake) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in fake.requests]


def test_a_video_is_posted_once_x_has_processed_it_with_its_alt_text(
    fake: XFake, tmp_path: Path
) -> None:
    fake.processing_polls = 3
    published = connector(fake).publish(post("Watch", media=[video(tmp_path)]))
    [media] = fake.media.values()
    assert media.category == "tweet_video"
    assert media.state == "succeeded"
    assert media.alt == "A black screen, two seconds"
    assert [p for p in paths(fake) if p[0] == "GET"] == [("GET", "/2/media/upload")] * 3
    assert paths(fake)[-2:] == [("POST", "/2/media/metadata"), ("POST", "/2/tweets")]
    assert fake.posts[0]["media_ids"] == [media.id]
    assert published.ref.id == fake.posts[0]["id"]


def test_an_animated_gif_goes_up_in_chunks_as_tweet_gif(fake: XFake, tmp_path: Path) -> None:
    gif = tmp_path / "wave.gif"
    gif.write_bytes(b"GIF89a" + bytes(2000))
    connector(fake).publish(post("Wave", media=[MediaFile(gif, "A wave", "image/gif")]))
    initialize = fake.requests[0]
    assert initialize.path == "/2/media/upload/initialize"
    assert initialize.json()["media_category"] == "tweet_gif"
    assert len(fake.posts) == 1


def test_the_file_goes_up_one_piece_at_a_time(
    fake: XFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each append carries one piece read from disk; none is larger than CHUNK_BYTES."""
    monkeypatch.setattr(x_media, "CHUNK_BYTES", 64 * 1024)
    connector(fake).publish(post(media=[padded(tmp_path, 300 * 1024)]))
    appends = [multipart(r) for r in fake.requests if r.path.endswith("/append")]
    assert [len(a["media"].content) for a in appends] == [64 * 1024] * 4 + [44 * 1024]
    assert [a["segment_index"].content for a in appends] == [b"0", b"1", b"2", b"3", b"4"]


@pytest.mark.parametrize(
    "fault",
    [Fault("respond", Response(503, "Service Unavailable")), Fault("stall", seconds=HANG)],
    ids=["503", "time-out"],
)
def test_a_piece_x_fails_to_take_is_sent_again_and_the_upload_goes_on(
    fake: XFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: Fault
) -> None:
    monkeypatch.setattr(x_media, "CHUNK_BYTES", 64 * 1024)
    monkeypatch.setattr(x_media, "APPEND_PAUSE", 0.0)
    fake.inject(Fault(fault.kind, fault.response, fault.seconds, "POST", "/append$"))
    connector(fake, timeout=IMPATIENT).publish(post(media=[padded(tmp_path, 200 * 1024)]))
    appends = [multipart(r)["segment_index"].content for r in fake.requests if "/append" in r.path]
    assert appends[-4:] == [b"0", b"1", b"2", b"3"]  # the first once more, then the rest
    assert paths(fake).count(("POST", "/2/media/upload/initialize")) == 1
    assert len(fake.posts) == 1


def test_a_piece_x_keeps_refusing_ends_the_attempt(
    fake: XFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(x_media, "APPEND_PAUSE", 0.0)
    for _ in range(x_media.APPEND_TRIES):
        fake.inject(Fault("respond", Response(503, "Service Unavailable"), 0.0, "POST", "/append$"))
    with pytest.raises(RetryLater):
        connector(fake).publish(post(media=[video(tmp_path)]))
    assert paths(fake).count(("POST", "/2/media/upload/initialize")) == 1
    assert fake.posts == []


def test_a_broken_clip_is_rejected_with_x_s_reason_and_nothing_is_posted(
    fake: XFake, tmp_path: Path
) -> None:
    with pytest.raises(Rejected, match=r"X could not process cut\.mp4: Unsupported video format"):
        connector(fake).publish(post(media=[broken(tmp_path)]))
    assert [m.state for m in fake.media.values()] == ["failed"]
    assert fake.posts == []


def test_a_gif_over_x_s_size_is_refused_at_initialize(fake: XFake, tmp_path: Path) -> None:
    gif = sparse(tmp_path / "huge.gif", 16 * 1024 * 1024)
    with pytest.raises(Rejected, match="File size exceeds 15728640 bytes") as caught:
        connector(fake).publish(post(media=[MediaFile(gif, "huge", "image/gif")]))
    assert caught.value.status == 400
    assert paths(fake) == [("POST", "/2/media/upload/initialize")]


def test_an_append_over_x_s_request_size_is_refused(
    fake: XFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(x_media, "CHUNK_BYTES", 9 * 1024 * 1024)
    big = sparse(tmp_path / "big.mp4", 9 * 1024 * 1024)
    with pytest.raises(Rejected) as caught:
        connector(fake, timeout=30).publish(post(media=[MediaFile(big, "big", "video/mp4")]))
    assert caught.value.status == 413
    assert fake.posts == []


def test_a_used_up_upload_window_retries_at_x_s_reset(fake: XFake, tmp_path: Path) -> None:
    fake.windows["chunked"] = Window(2, 15 * 60)  # initialize and one append, then 429
    with pytest.raises(RetryLater) as caught:
        connector(fake).publish(post(media=[video(tmp_path)]))
    assert caught.value.status == 429
    reset = fake.windows["chunked"].reset
    assert caught.value.retry_at == datetime.fromtimestamp(reset, UTC)
    assert fake.posts == []


def test_a_video_too_long_for_the_account_is_rejected_not_an_auth_failure(
    fake: XFake, tmp_path: Path
) -> None:
    detail = "This user is not allowed to post a video longer than 20 minutes."
    fake.respond(403, problem(403, "Forbidden", detail), path="/2/tweets")
    with pytest.raises(Rejected, match="not allowed to post a video longer") as caught:
        connector(fake).publish(post(media=[video(tmp_path)]))
    assert caught.value.status == 403


def test_a_video_still_processing_at_the_deadline_posts_nothing(
    fake: XFake, tmp_path: Path
) -> None:
    fake.processing_polls = 1_000
    with pytest.raises(RetryLater, match=r"still processing clip\.mp4; nothing was posted"):
        connector(fake, media_timeout=0).publish(post(media=[video(tmp_path)]))
    assert fake.posts == []


def initializes(fake: XFake) -> int:
    return sum(1 for r in fake.requests if r.path == "/2/media/upload/initialize")


def test_a_video_still_processing_is_not_sent_again_by_the_next_attempt(
    fake: XFake, tmp_path: Path
) -> None:
    fake.processing_polls = 1_000
    x = connector(fake, media_timeout=0)
    clip = video(tmp_path)
    with pytest.raises(RetryLater, match="still processing"):
        x.publish(post("Watch", media=[clip]))
    [media] = fake.media.values()
    media.polls_left = 1  # X finishes processing in the meantime
    x.publish(post("Watch", media=[clip]))
    assert initializes(fake) == 1
    assert fake.posts[0]["media_ids"] == [media.id]
    assert media.alt == clip.alt


def test_after_a_restart_the_upload_on_file_is_used(fake: XFake, tmp_path: Path) -> None:
    fake.processing_polls = 1_000
    state = tmp_path / "state"
    clip = video(tmp_path)
    with pytest.raises(RetryLater):
        connector(fake, media_timeout=0, state_dir=str(state)).publish(post(media=[clip]))
    [media] = fake.media.values()
    media.polls_left = 1
    connector(fake, state_dir=str(state)).publish(post(media=[clip]))  # a new process
    assert initializes(fake) == 1
    assert fake.posts[0]["media_ids"] == [media.id]
    assert json.loads(next(state.glob("x-*.json")).read_text()) == {}  # forgotten once posted


@pytest.mark.parametrize("meanwhile", ["expired", "replaced"])
def test_the_file_is_sent_again_when_x_lost_the_upload_or_the_file_changed(
    fake: XFake, tmp_path: Path, meanwhile: str
) -> None:
    fake.processing_polls = 1_000
    x = connector(fake, media_timeout=0)
    clip = video(tmp_path)
    with pytest.raises(RetryLater):
        x.publish(post(media=[clip]))
    if meanwhile == "expired":
        fake.media.clear()  # X discards an unused upload after a day
    else:
        clip.path.write_bytes(clip.path.read_bytes() + bytes(10))  # the operator replaced it
    fake.processing_polls = 1
    x.media_timeout = 300
    x.publish(post(media=[clip]))
    assert initializes(fake) == 2
    assert fake.posts[0]["media_ids"] == [list(fake.media)[-1]]


def cut_at_piece(monkeypatch: pytest.MonkeyPatch, failing: int) -> None:
    """Every later attempt to append piece `failing` loses its connection."""
    append = x_media._append

    def cut(call: x_media.Call, media: MediaFile, media_id: str, index: int, *rest: Any) -> None:
        if index == failing:
            raise RetryLater("could not reach X: ConnectionError")
        append(call, media, media_id, index, *rest)

    monkeypatch.setattr(x_media, "_append", cut)


def appended(fake: XFake) -> list[bytes]:
    return [multipart(r)["segment_index"].content for r in fake.requests if "/append" in r.path]


@pytest.mark.parametrize("meanwhile", ["kept", "expired"])
def test_an_upload_cut_short_goes_on_from_its_first_missing_piece_after_a_restart(
    fake: XFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, meanwhile: str
) -> None:
    monkeypatch.setattr(x_media, "CHUNK_BYTES", 64 * 1024)
    state = str(tmp_path / "state")
    clip = padded(tmp_path, 300 * 1024)  # five pieces
    with monkeypatch.context() as cutting:
        cut_at_piece(cutting, 2)
        with pytest.raises(RetryLater):
            connector(fake, state_dir=state).publish(post(media=[clip]))
    assert appended(fake) == [b"0", b"1"]
    if meanwhile == "expired":
        fake.media.clear()  # X discards an unfinished upload after a day
    connector(fake, state_dir=state).publish(post(media=[clip]))  # a new process
    if meanwhile == "kept":
        assert appended(fake)[2:] == [b"2", b"3", b"4"]
        assert initializes(fake) == 1
    else:
        assert appended(fake)[2:] == [b"2", b"0", b"1", b"2", b"3", b"4"]
        assert initializes(fake) == 2
    [media] = fake.media.values()
    assert fake.posts[0]["media_ids"] == [media.id]
