"""Bluesky video against the fake PDS and its fake video service: real clips, broken ones,
failed jobs, used-up allowances, and crashes between the upload and the post."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.base import Ambiguous, MediaFile, Post, Rejected, RetryLater
from connectors.fakes.server import Fault
from connectors.platforms.bluesky import connector as bluesky
from connectors.platforms.bluesky.connector import ALREADY, BlueskyConnector
from connectors.platforms.bluesky.fake import FakeBluesky
from tests.connectors import clips
from tests.connectors.fakeweb import png
from tests.videos import clip

DUE = datetime(2027, 2, 9, 8, 0, tzinfo=UTC)
XRPC = "/xrpc/"
SRT = (
    "1\n00:00:00,000 --> 00:00:01,500\nSay no.\n\n"
    "2\n00:00:01,500 --> 00:00:02,000\n<i>Report it.</i>\n"
)


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bluesky, "JOB_POLL_SECONDS", 0.0)


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    with FakeBluesky() as server:
        yield server


@pytest.fixture
def video(tmp_path: Path) -> Path:
    return clip(tmp_path / "sayno.mp4", seconds=2, size=(320, 240))


@contextmanager
def connect(fake: FakeBluesky, **options: Any) -> Iterator[BlueskyConnector]:
    """A connector of the fake's account (a new process each time: it remembers nothing)."""
    config = fake.channel()
    connector = BlueskyConnector(replace(config, options={**config.options, **options}))
    try:
        yield connector
    finally:
        connector.close()


def post(*media: MediaFile, key: str = "sayno/clip/en/bluesky-main") -> Post:
    return Post(
        key=key,
        text="Online sexual coercion is a crime. #SayNo",
        due=DUE,
        language="en",
        media=media,
    )


def mp4(path: Path, alt: str = "A black screen", **changes: Any) -> MediaFile:
    return MediaFile(path, alt, "video/mp4", **changes)


def embed(fake: FakeBluesky) -> dict[str, Any]:
    [made] = fake.posts
    found: dict[str, Any] = made.value["embed"]
    return found


def test_a_video_goes_through_the_video_service(fake: FakeBluesky, video: Path) -> None:
    with connect(fake) as bsky:
        published = bsky.publish(post(mp4(video)))

    got = embed(fake)
    assert got["$type"] == "app.bsky.embed.video"
    assert (got["alt"], got["aspectRatio"]) == ("A black screen", {"width": 320, "height": 240})
    assert got["video"]["mimeType"] == "video/mp4"
    assert fake.blobs[got["video"]["ref"]["$link"]][0] == video.read_bytes()
    assert published.ref.id == fake.posts[0].uri
    [upload] = [r for r in fake.video.requests if r.path.endswith("uploadVideo")]
    assert upload.header("content-length") == str(video.stat().st_size)
    assert upload.header("transfer-encoding") is None
    assert upload.query["name"] == ["sayno.mp4"]
    tokens = [r.query for r in fake.requests if r.path.endswith("getServiceAuth")]
    assert [(q["aud"], q["lxm"]) for q in tokens] == [
        ([fake.video.did], ["app.bsky.video.getUploadLimits"]),
        ([fake.service_did], ["com.atproto.repo.uploadBlob"]),
    ]
    limits = fake.video.allowance(fake.posts[0].uri.split("/")[2])
    assert limits.videos == 24
    assert fake.requests[-1].path == XRPC + "com.atproto.repo.putRecord"
    polls = [r for r in fake.video.requests if r.path.endswith("getJobStatus")]
    assert len(polls) == 4  # encoding, scanning, uploading, completed
    assert all(r.header("authorization") is None for r in polls)


def test_a_video_as_a_blob_on_the_pds(fake: FakeBluesky, video: Path) -> None:
    with connect(fake, video_upload="blob") as bsky:
        bsky.publish(post(mp4(video)))
    [upload] = [r for r in fake.requests if r.path.endswith("uploadBlob")]
    assert (upload.header("content-type"), upload.body) == ("video/mp4", video.read_bytes())
    assert upload.header("transfer-encoding") is None
    assert embed(fake)["video"]["size"] == video.stat().st_size
    assert fake.video.requests == []


def test_srt_captions_are_sent_as_webvtt(fake: FakeBluesky, video: Path, tmp_path: Path) -> None:
    captions = tmp_path / "sayno.srt"
    captions.write_text(SRT.replace("\n", "\r\n"), encoding="utf-8-sig")
    with connect(fake) as bsky:
        bsky.publish(post(mp4(video, captions=captions)))
    [caption] = embed(fake)["captions"]
    assert caption["lang"] == "en"
    assert caption["file"]["mimeType"] == "text/vtt"
    assert fake.blobs[caption["file"]["ref"]["$link"]][0].decode() == (
        "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.500\nSay no.\n\n"
        "2\n00:00:01.500 --> 00:00:02.000\n<i>Report it.</i>\n"
    )


def test_webvtt_captions_go_as_they_are(fake: FakeBluesky, video: Path, tmp_path: Path) -> None:
    captions = tmp_path / "sayno.vtt"
    captions.write_text("WEBVTT\n\n00:00.000 --> 00:01.500\nSay no.\n")
    with connect(fake, video_upload="blob") as bsky:
        bsky.publish(replace(post(mp4(video, captions=captions)), language="fr"))
    [caption] = embed(fake)["captions"]
    assert caption["lang"] == "fr"
    assert fake.blobs[caption["file"]["ref"]["$link"]][0] == captions.read_bytes()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("Say no.\n", "not SRT or WebVTT: line 1: expected the number of a caption"),
        ("WEBVTT\n\n" + "00:00.000 --> 00:01.500\nSay no.\n\n" * 700, "up to 20,000 bytes"),
    ],
)
def test_captions_bluesky_cannot_take_are_refused_before_sending(
    fake: FakeBluesky, video: Path, tmp_path: Path, content: str, reason: str
) -> None:
    captions = tmp_path / "sayno.txt"
    captions.write_text(content)
    with connect(fake) as bsky, pytest.raises(Rejected, match=reason):
        bsky.publish(post(mp4(video, captions=captions)))
    assert fake.requests == fake.video.requests == []


def test_a_broken_video_is_refused_before_sending(fake: FakeBluesky, tmp_path: Path) -> None:
    with connect(fake) as bsky, pytest.raises(Rejected, match=r"cut\.mp4: not a video file"):
        bsky.publish(post(clips.broken(tmp_path)))
    assert fake.requests == []


BAD_EMBEDS: list[tuple[Callable[[Any], dict[str, Any]], str]] = [
    (
        lambda blob: {"aspectRatio": {"width": 0, "height": 180}},
        "integer too small (minimum 1, got 0) at $.record.embed.aspectRatio.width",
    ),
    (
        lambda blob: {"captions": [{"lang": "en", "file": blob}]},
        'Expected "text/vtt" (got "video/mp4") at $.record.embed.captions[0].file.mimeType',
    ),
]
"""Video embeds a PDS refuses, with the end of its message: test_pds.py has the reference PDS
refuse them, this module the fake, in the same words."""


def refusal(pds: str, handle: str, password: str, video: Path, extra: Any) -> tuple[int, str]:
    """How the PDS at `pds` answers a post of `video` whose embed `extra(blob)` spoils."""
    with httpx.Client(base_url=pds + XRPC) as client:
        session = client.post(
            "com.atproto.server.createSession", json={"identifier": handle, "password": password}
        ).json()
        auth = {"Authorization": f"Bearer {session['accessJwt']}"}
        blob = client.post(
            "com.atproto.repo.uploadBlob",
            content=video.read_bytes(),
            headers=auth | {"Content-Type": "video/mp4"},
        ).json()["blob"]
        record = {
            "$type": "app.bsky.feed.post",
            "text": "Say no",
            "createdAt": "2027-02-09T08:00:00.000Z",
            "embed": {"$type": "app.bsky.embed.video", "video": blob} | extra(blob),
        }
        answer = client.post(
            "com.atproto.repo.createRecord",
            json={"repo": session["did"], "collection": "app.bsky.feed.post", "record": record},
            headers=auth,
        )
    return answer.status_code, f"{answer.json()['error']}: {answer.json()['message']}"


@pytest.mark.parametrize(("extra", "message"), BAD_EMBEDS)
def test_the_fake_pds_refuses_video_embeds_as_the_real_one(
    fake: FakeBluesky, video: Path, extra: Any, message: str
) -> None:
    config = fake.channel()
    status, said = refusal(
        fake.base_url, "clarion.test", config.credentials["app_password"], video, extra
    )
    assert (status, said) == (400, f"InvalidRequest: Invalid app.bsky.feed.post record: {message}")
    assert fake.posts == []


def test_an_oversized_video_is_refused_before_sending(fake: FakeBluesky, video: Path) -> None:
    with video.open("r+b") as file:  # sparse: nothing is written
        file.truncate(300_000_001)
    with connect(fake) as bsky, pytest.raises(Rejected, match="up to 300,000,000 bytes"):
        bsky.publish(post(mp4(video)))
    assert fake.requests == []


def test_a_video_with_an_image_is_refused(fake: FakeBluesky, video: Path, tmp_path: Path) -> None:
    image = tmp_path / "card.png"
    image.write_bytes(png(30, 20))
    with connect(fake) as bsky, pytest.raises(Rejected, match="one video and nothing else"):
        bsky.publish(post(mp4(video), MediaFile(image, "A card", "image/png")))


@pytest.mark.parametrize(
    ("code", "outcome"),
    [("encoding_failure", Rejected), ("pds_upload_failure", RetryLater)],
)
def test_a_failed_job_makes_no_post(
    fake: FakeBluesky, video: Path, code: str, outcome: type[Exception]
) -> None:
    fake.video.fail_next(code, "Failed to process video")
    with connect(fake) as bsky:
        with pytest.raises(outcome) as caught:
            bsky.publish(post(mp4(video)))
        assert "could not process sayno.mp4: Failed to process video" in str(caught.value)
        assert fake.posts == []
        bsky.publish(post(mp4(video)))  # the service tries afresh: this time it works
    assert len(fake.posts) == 1


def test_a_used_up_daily_allowance_is_tried_again_later(fake: FakeBluesky, video: Path) -> None:
    with connect(fake) as bsky:
        did = bsky._login().did
        fake.video.allowance(did).bytes = 1000
        with pytest.raises(RetryLater, match="allowance on Bluesky is used up") as caught:
            bsky.publish(post(mp4(video)))
    assert caught.value.retry_at is not None
    assert caught.value.retry_at > datetime.now(UTC) + timedelta(minutes=59)
    assert not any(r.path.endswith("uploadVideo") for r in fake.video.requests)


def test_an_account_that_may_not_upload_video_is_refused(fake: FakeBluesky, video: Path) -> None:
    with connect(fake) as bsky:
        allowance = fake.video.allowance(bsky._login().did)
        allowance.can_upload, allowance.message = False, "unconfirmed_email"
        with pytest.raises(Rejected, match=r"upload video \(unconfirmed_email\)"):
            bsky.publish(post(mp4(video)))
    assert fake.posts == []


def test_a_throttled_upload_waits_for_the_reset(fake: FakeBluesky, video: Path) -> None:
    reset = int(datetime.now(UTC).timestamp()) + 120
    headers = {
        "RateLimit-Limit": "10",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": str(reset),
        "RateLimit-Policy": "10;w=300",
    }
    fake.video.respond(
        429,
        {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers,
        path="uploadVideo",
    )
    with connect(fake) as bsky, pytest.raises(RetryLater) as caught:
        bsky.publish(post(mp4(video)))
    assert caught.value.retry_at == datetime.fromtimestamp(reset, UTC)
    assert fake.posts == []


def test_a_crash_between_upload_and_post_never_posts_twice(fake: FakeBluesky, video: Path) -> None:
    fake.inject(Fault("drop_before", method="POST", path="putRecord"))
    with connect(fake) as bsky, pytest.raises(Ambiguous):
        bsky.publish(post(mp4(video)))
    assert fake.posts == []

    with connect(fake) as restarted:  # a new process: nothing remembered
        restarted.publish(post(mp4(video)))
    assert len(fake.posts) == 1
    uploads = [r for r in fake.video.requests if r.path.endswith("uploadVideo")]
    assert len(uploads) == 2  # the second met `already_exists` and got the same blob
    blobs = [v for v in fake.blobs.values() if v[1] == "video/mp4"]
    assert len(blobs) == 1


def test_a_long_processing_resumes_from_its_job(
    fake: FakeBluesky, video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An attempt that stops waiting (or a restart) takes the job up again: the file is sent
    once."""
    monkeypatch.setattr(bluesky, "JOB_WAIT_SECONDS", 0.0)
    state = {"state_dir": str(tmp_path / "state")}
    with connect(fake, **state) as bsky, pytest.raises(RetryLater, match="still processing"):
        bsky.publish(post(mp4(video)))
    monkeypatch.setattr(bluesky, "JOB_WAIT_SECONDS", 60.0)
    with connect(fake, **state) as restarted:
        restarted.publish(post(mp4(video)))
    assert len(fake.posts) == 1
    assert [r.path for r in fake.video.requests].count(XRPC + "app.bsky.video.uploadVideo") == 1
    assert json.loads((tmp_path / "state" / "bluesky-bluesky-main.json").read_text()) == {}


def test_a_failed_job_is_not_taken_up_again(fake: FakeBluesky, video: Path, tmp_path: Path) -> None:
    fake.video.fail_next("pds_upload_failure", "Failed to store the video")
    state = {"state_dir": str(tmp_path / "state")}
    with connect(fake, **state) as bsky, pytest.raises(RetryLater):
        bsky.publish(post(mp4(video)))
    with connect(fake, **state) as restarted:
        restarted.publish(post(mp4(video)))
    assert len(fake.posts) == 1
    assert [r.path for r in fake.video.requests].count(XRPC + "app.bsky.video.uploadVideo") == 2


def test_a_processed_video_the_pds_lost_is_sent_again(
    fake: FakeBluesky, video: Path, tmp_path: Path
) -> None:
    state = {"state_dir": str(tmp_path / "state")}
    fake.inject(Fault("drop_before", method="POST", path="putRecord"))
    with connect(fake, **state) as bsky, pytest.raises(Ambiguous):
        bsky.publish(post(mp4(video)))
    fake.blobs.clear()  # the PDS dropped the blob no record held
    with connect(fake, **state) as restarted, pytest.raises(RetryLater, match="sending it again"):
        restarted.publish(post(mp4(video)))
    assert fake.posts == []
    assert json.loads((tmp_path / "state" / "bluesky-bluesky-main.json").read_text()) == {}


def test_a_crash_after_the_post_finds_it(fake: FakeBluesky, video: Path) -> None:
    fake.inject(Fault("drop_after", method="POST", path="putRecord"))
    with connect(fake) as bsky, pytest.raises(Ambiguous):
        bsky.publish(post(mp4(video)))
    fake.video.requests.clear()

    with connect(fake) as restarted:
        again = restarted.publish(post(mp4(video)))
    assert again.note == ALREADY
    assert len(fake.posts) == 1
    assert fake.video.requests == []  # nothing uploaded again


def test_service_tokens_are_secrets(fake: FakeBluesky, video: Path) -> None:
    """Each is a credential for half an hour: every error and log line is cleaned of them."""
    with connect(fake) as bsky:
        bsky.publish(post(mp4(video)))
        secrets = bsky.secrets()
    tokens = [r.header("authorization") or "" for r in fake.video.requests]
    used = {t.removeprefix("Bearer ") for t in tokens if t}
    assert len(used) == 2
    assert used <= set(secrets)


def test_a_refused_service_token_fails_the_post_not_the_channel(
    fake: FakeBluesky, video: Path
) -> None:
    fake.video.respond(
        401,
        {"error": "BadJwtAudience", "message": "jwt audience does not match service did"},
        path="uploadVideo",
    )
    with (
        connect(fake) as bsky,
        pytest.raises(Rejected, match="set the channel's video_upload: blob"),
    ):
        bsky.publish(post(mp4(video)))
    assert fake.posts == []


def test_the_video_service_checks_its_tokens(fake: FakeBluesky) -> None:
    with connect(fake) as bsky:
        did = bsky._login().did
        wrong = bsky._service_token(fake.video.did, "com.atproto.repo.uploadBlob")
        other = bsky._service_token(fake.service_did, "app.bsky.video.getUploadLimits")
    upload = f"{fake.video.base_url}/xrpc/app.bsky.video.uploadVideo"
    limits = f"{fake.video.base_url}/xrpc/app.bsky.video.getUploadLimits"
    answers = [
        httpx.post(upload, params={"did": did}, headers={"Authorization": f"Bearer {wrong}"}),
        httpx.get(limits, headers={"Authorization": f"Bearer {other}"}),
        httpx.get(limits, headers={"Authorization": f"Bearer {wrong}x"}),
        httpx.get(limits),
    ]
    assert [(a.status_code, a.json()["error"]) for a in answers] == [
        (401, "BadJwtAudience"),
        (401, "BadJwtAudience"),
        (401, "BadJwtSignature"),
        (401, "AuthMissing"),
    ]


def test_the_pds_refuses_service_tokens_beyond_an_hour(fake: FakeBluesky) -> None:
    config = fake.channel()
    with httpx.Client(base_url=fake.base_url + XRPC) as client:
        session = client.post(
            "com.atproto.server.createSession",
            json={"identifier": "clarion.test", "password": config.credentials["app_password"]},
        ).json()
        auth = {"Authorization": f"Bearer {session['accessJwt']}"}
        exp = int(datetime.now(UTC).timestamp()) + 7200
        refused = client.get(
            "com.atproto.server.getServiceAuth",
            params={"aud": fake.video.did, "lxm": "app.bsky.video.getUploadLimits", "exp": exp},
            headers=auth,
        )
    assert (refused.status_code, refused.json()["error"]) == (400, "BadExpiration")


def test_check_shows_the_video_allowance(fake: FakeBluesky) -> None:
    with connect(fake) as bsky:
        fake.video.allowance(bsky._login().did).videos = 3
        report = bsky.check()
    assert report.ok
    assert report.limits["video_max_bytes"] == 300_000_000
    shown = {b.scope: b.remaining for b in report.budgets if "video" in b.scope}
    assert shown == {"videos per day": 3, "video bytes per day": 10_000_000_000}


def test_check_is_fine_without_the_video_service(fake: FakeBluesky) -> None:
    fake.video.respond(502, "Bad Gateway", method="GET", path="getUploadLimits")
    with connect(fake) as bsky:
        report = bsky.check()
    assert report.ok
    assert not any("video" in b.scope for b in report.budgets)
