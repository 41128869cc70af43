"""Uploading a video: the resumable protocol, resuming after a dropped connection or a crash,
and never a second video for one delivery."""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

import pytest

from connectors.base import Ambiguous, AuthFailed, Rejected, RetryLater
from connectors.fakes.server import Fault, Response
from connectors.platforms.youtube.connector import GRANULE, YouTubeConnector, marker
from connectors.platforms.youtube.fake import YouTubeFake
from tests.connectors.platforms.youtube.kit import connector, video
from tests.connectors.social import post

TEXT = (
    "Say no to sextortion\nIf someone threatens you, tell a trusted adult. #SayNo #SaferInternetDay"
)
UPLOAD = r"/upload/youtube/v3/videos"


def puts(fake: YouTubeFake) -> list[str]:
    """The Content-Range of each PUT to an upload session, in order."""
    return [str(r.header("content-range")) for r in fake.requests if r.method == "PUT"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_video_goes_up_in_chunks_with_its_title_tags_and_made_for_kids_flag(
    fake: YouTubeFake, tmp_path: Path
) -> None:
    media = video(tmp_path)
    size = media.path.stat().st_size
    published = connector(fake, tmp_path / "state").publish(post(TEXT, media=[media]))

    [made] = fake.videos
    assert published.ref.id == made["id"]
    assert published.ref.url == f"https://www.youtube.com/watch?v={made['id']}"
    assert (made["_bytes"], made["_sha256"], made["_mime"]) == (
        size,
        sha256(media.path),
        "video/mp4",
    )
    snippet, status = made["snippet"], made["status"]
    assert snippet["title"] == "Say no to sextortion"
    assert snippet["description"] == TEXT
    key = post(TEXT).idempotency_key
    assert snippet["tags"] == ["SayNo", "SaferInternetDay", f"clarion-{key[:16]}"]
    assert (snippet["defaultLanguage"], snippet["defaultAudioLanguage"]) == ("en", "en")
    assert status["selfDeclaredMadeForKids"] is False
    assert status["privacyStatus"] == "public"
    assert puts(fake) == [
        f"bytes 0-{GRANULE - 1}/{size}",
        f"bytes {GRANULE}-{2 * GRANULE - 1}/{size}",
        f"bytes {2 * GRANULE}-{3 * GRANULE - 1}/{size}",
        f"bytes {3 * GRANULE}-{size - 1}/{size}",
    ]
    opened = next(r for r in fake.requests if r.method == "POST" and r.path == UPLOAD)
    assert opened.query["uploadType"] == ["resumable"]
    assert opened.header("x-upload-content-length") == str(size)


@pytest.mark.parametrize("value", [None, "maybe", "false", 0])
def test_without_a_made_for_kids_answer_nothing_is_uploaded(
    fake: YouTubeFake, tmp_path: Path, value: object
) -> None:
    youtube = connector(fake, made_for_kids=value)
    with pytest.raises(AuthFailed, match=r"made_for_kids must be true or false.*COPPA"):
        youtube.publish(post(TEXT, media=[video(tmp_path)]))
    assert fake.requests == []


def test_made_for_kids_true_is_declared(fake: YouTubeFake, tmp_path: Path) -> None:
    connector(fake, made_for_kids=True, privacy="unlisted").publish(
        post(TEXT, media=[video(tmp_path)])
    )
    assert fake.videos[0]["status"]["selfDeclaredMadeForKids"] is True
    assert fake.videos[0]["status"]["privacyStatus"] == "unlisted"


def test_a_dropped_connection_mid_upload_resumes_where_youtube_stopped(
    fake: YouTubeFake, tmp_path: Path
) -> None:
    media = video(tmp_path)
    size = media.path.stat().st_size
    fake.inject(Fault("stall", method="PUT", path=UPLOAD))  # the first chunk arrives
    fake.inject(Fault("drop_before", method="PUT", path=UPLOAD))  # the second is lost
    connector(fake).publish(post(TEXT, media=[media]))

    [made] = fake.videos
    assert made["_sha256"] == sha256(media.path)
    assert puts(fake)[:4] == [
        f"bytes 0-{GRANULE - 1}/{size}",
        f"bytes {GRANULE}-{2 * GRANULE - 1}/{size}",  # dropped
        f"bytes */{size}",  # how much do you hold? the first chunk (308, Range: bytes=0-...)
        f"bytes {GRANULE}-{2 * GRANULE - 1}/{size}",
    ]


def test_a_chunk_failing_again_and_again_leaves_the_rest_to_the_next_attempt(
    fake: YouTubeFake, tmp_path: Path
) -> None:
    media = video(tmp_path)
    state = tmp_path / "state"
    fake.inject(Fault("stall", method="PUT", path=UPLOAD))
    for _ in range(YouTubeConnector.resumes + 1):
        fake.inject(Fault("respond", Response(503, {}), method="PUT", path=UPLOAD))
        fake.inject(Fault("stall", method="PUT", path=UPLOAD))  # the progress question
    with pytest.raises(RetryLater, match=f"goes on from byte {GRANULE} of"):
        connector(fake, state).publish(post(TEXT, media=[media]))
    assert fake.videos == []

    fake.requests.clear()
    connector(fake, state).publish(post(TEXT, media=[media]))  # a new process, same state
    assert len(fake.videos) == 1
    assert [
        r for r in fake.requests if r.method == "POST" and r.path == UPLOAD
    ] == []  # the same session


def test_a_restart_mid_upload_resumes_the_same_session(fake: YouTubeFake, tmp_path: Path) -> None:
    media = video(tmp_path)
    size = media.path.stat().st_size
    state = tmp_path / "state"
    fake.inject(Fault("stall", method="PUT", path=UPLOAD))
    fake.inject(Fault("drop_before", method="PUT", path=UPLOAD), times=2)  # chunk and question
    with pytest.raises(RetryLater, match="asks again before sending anything"):
        connector(fake, state).publish(post(TEXT, media=[media]))

    fake.requests.clear()
    connector(fake, state).publish(post(TEXT, media=[media]))

    [made] = fake.videos
    assert made["_sha256"] == sha256(media.path)
    assert [r for r in fake.requests if r.method == "POST" and r.path == UPLOAD] == []
    assert puts(fake)[:2] == [f"bytes */{size}", f"bytes {GRANULE}-{2 * GRANULE - 1}/{size}"]


def test_a_crash_after_the_upload_completed_is_found_by_the_next_attempt(
    fake: YouTubeFake, tmp_path: Path
) -> None:
    media = video(tmp_path, size=1000)
    state = tmp_path / "state"
    fake.inject(Fault("drop_after", method="PUT", path=UPLOAD))  # made, the answer lost
    fake.inject(Fault("drop_before", method="PUT", path=UPLOAD))  # and the question
    with pytest.raises(RetryLater, match="asks again before sending anything"):
        connector(fake, state).publish(post(TEXT, media=[media]))
    [made] = fake.videos

    published = connector(fake, state).publish(post(TEXT, media=[media]))
    assert published.ref.id == made["id"]
    assert published.note == "uploaded by an earlier attempt"
    assert len(fake.videos) == 1


def test_without_a_state_folder_a_lost_last_answer_is_ambiguous(
    fake: YouTubeFake, tmp_path: Path
) -> None:
    media = video(tmp_path, size=1000)
    fake.inject(Fault("drop_after", method="PUT", path=UPLOAD), times=5)
    with pytest.raises(Ambiguous, match="may exist"):
        connector(fake).publish(post(TEXT, media=[media]))


def test_an_expired_session_is_looked_for_by_its_tag_before_uploading_again(
    fake: YouTubeFake, tmp_path: Path
) -> None:
    media = video(tmp_path, size=1000)
    state = tmp_path / "state"
    fake.inject(Fault("drop_after", method="PUT", path=UPLOAD), times=2)  # chunk, question
    with pytest.raises(RetryLater):
        connector(fake, state).publish(post(TEXT, media=[media]))
    [made] = fake.videos
    fake.expire_sessions()  # a week later

    published = connector(fake, state).publish(post(TEXT, media=[media]))
    assert published.ref.id == made["id"]
    assert len(fake.videos) == 1
    assert marker(post(TEXT)) in made["snippet"]["tags"]


def test_lookup_finds_the_video_by_its_tag_when_the_state_is_lost(
    fake: YouTubeFake, tmp_path: Path
) -> None:
    media = video(tmp_path, size=1000)
    connector(fake, tmp_path / "a").publish(post(TEXT, media=[media]))
    other = post(TEXT, key="sayno-2027/other/en/chan", media=[media])

    youtube = connector(fake, tmp_path / "b")  # another machine, nothing on file
    found = youtube.lookup(post(TEXT, media=[media]))
    assert found is not None and found.id == fake.videos[0]["id"]
    assert youtube.lookup(other) is None


def test_the_upload_never_holds_the_whole_file_in_memory(
    fake: YouTubeFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(YouTubeConnector, "chunk", 4 * GRANULE)  # 1 MiB per request
    path = tmp_path / "big.mp4"
    size = 48 * 1024 * 1024
    with path.open("wb") as out:
        out.truncate(size)  # a sparse file: written in no time
    media = video(tmp_path, size=1)
    media = type(media)(path, "", "video/mp4")
    tracemalloc.start()
    try:
        connector(fake).publish(post(TEXT, media=[media]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert fake.videos[0]["_bytes"] == size
    assert peak < size / 6, f"{peak} bytes at the peak for a file of {size}"


def test_a_post_without_exactly_one_video_is_refused(fake: YouTubeFake, tmp_path: Path) -> None:
    with pytest.raises(Rejected, match="one video"):
        connector(fake).publish(post(TEXT))
    with pytest.raises(Rejected, match=r"title.*101 characters"):
        connector(fake).publish(post("x" * 101, media=[video(tmp_path)]))
    with pytest.raises(Rejected, match="'<' and '>'"):
        connector(fake).publish(post("Title\n<b>bold</b>", media=[video(tmp_path)]))
    assert fake.requests == []
