from __future__ import annotations

import hashlib
import json
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.base import (
    Ambiguous,
    AuthFailed,
    LookupUnavailable,
    MediaFile,
    Post,
    Rejected,
    RetryLater,
)
from connectors.fakes.server import Fault
from connectors.platforms.tiktok import connector as connector_module
from connectors.platforms.tiktok.connector import (
    CREATOR_INFO,
    INBOX_INIT,
    INBOX_NOTE,
    VIDEO_INIT,
    TikTokConnector,
)
from connectors.platforms.tiktok.fake import TikTokFake
from connectors.settings import settings_problems
from connectors.upload import Span
from tests.connectors.platforms.tiktok.conftest import Connect
from tests.connectors.platforms.tiktok.videos import video

DUE = datetime(2027, 2, 9, 9, tzinfo=UTC)


def post(path: Path, text: str = "#SayNo to sextortion. Talk to someone you trust.") -> Post:
    return Post("sayno/clip/tiktok-main", text, DUE, media=(MediaFile(path, "", "video/mp4"),))


def puts(fake: TikTokFake) -> list[tuple[str | None, int]]:
    return [(r.header("content-range"), len(r.body)) for r in fake.requests if r.method == "PUT"]


def test_a_small_video_goes_whole_after_the_creator_info_query(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    clip = video(tmp_path / "clip.mp4")
    size = clip.stat().st_size
    published = connect().publish(post(clip))
    paths = [r.path for r in fake.requests if r.method == "POST"]
    assert paths[paths.index(CREATOR_INFO) + 1] == VIDEO_INIT
    assert puts(fake) == [(f"bytes 0-{size - 1}/{size}", size)]
    made = fake.posts[0]
    assert (made.title, made.privacy, made.mime) == (
        "#SayNo to sextortion. Talk to someone you trust.",
        "PUBLIC_TO_EVERYONE",
        "video/mp4",
    )
    assert made.digest.hexdigest() == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert published.ref.url == f"https://www.tiktok.com/@sayno_europe/video/{made.post_id}"
    assert published.ref.extra["publish_id"] == made.publish_id


def test_a_large_video_goes_in_chunks_the_rest_joining_the_last(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    clip = video(tmp_path / "clip.mp4", size=25_000_123)
    connect().publish(post(clip))
    init = next(r for r in fake.requests if r.path == VIDEO_INIT).json()
    assert init["source_info"] == {
        "source": "FILE_UPLOAD",
        "video_size": 25_000_123,
        "chunk_size": 10_000_000,
        "total_chunk_count": 2,
    }
    assert puts(fake) == [
        ("bytes 0-9999999/25000123", 10_000_000),
        ("bytes 10000000-25000122/25000123", 15_000_123),
    ]
    assert fake.posts[0].digest.hexdigest() == hashlib.sha256(clip.read_bytes()).hexdigest()


def test_interactions_stay_off_unless_the_channel_allows_them_and_the_creator_too(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    clip = video(tmp_path / "clip.mp4")
    connect().publish(post(clip))
    assert {k: v for k, v in fake.posts[0].post_info.items() if k.startswith("disable")} == {
        "disable_comment": True,
        "disable_duet": True,
        "disable_stitch": True,
    }
    fake.comment_disabled = True  # the creator's own setting wins; stitches are off (fake)
    again = Post("sayno/clip-2/tiktok-main", "again", DUE, media=post(clip).media)
    connect(comments=True, duets=True, stitches=True).publish(again)
    assert {k: v for k, v in fake.posts[1].post_info.items() if k.startswith("disable")} == {
        "disable_comment": True,
        "disable_duet": False,
        "disable_stitch": True,
    }


def test_a_privacy_the_account_does_not_offer_stops_before_anything_is_sent(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    fake.privacy_options = ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    with pytest.raises(AuthFailed, match="PUBLIC_TO_EVERYONE, which this TikTok account"):
        connect().publish(post(video(tmp_path / "clip.mp4")))
    assert not [r for r in fake.requests if r.path == VIDEO_INIT]


def test_a_video_longer_than_the_creator_may_post_is_refused_clearly(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    fake.max_seconds = 2
    with pytest.raises(Rejected, match=r"lasts 3 s.*up to 2 s"):
        connect().publish(post(video(tmp_path / "clip.mp4", seconds=3)))
    assert not [r for r in fake.requests if r.path == VIDEO_INIT]


def test_a_post_without_media_is_refused(connect: Connect) -> None:
    with pytest.raises(Rejected, match="need a video or photos"):
        connect().publish(Post("k", "text alone", DUE))


def test_inbox_mode_sends_a_draft_and_says_someone_must_post_it(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    published = connect(mode="inbox").publish(post(video(tmp_path / "clip.mp4")))
    assert published.note == INBOX_NOTE
    assert CREATOR_INFO not in [r.path for r in fake.requests]
    assert "post_info" not in next(r for r in fake.requests if r.path == INBOX_INIT).json()
    assert fake.posts[0].mode == "inbox"


def test_a_full_inbox_waits_an_hour(fake: TikTokFake, connect: Connect, tmp_path: Path) -> None:
    clip = video(tmp_path / "clip.mp4")
    inbox = connect(mode="inbox")
    for n in range(5):
        inbox.publish(Post(f"k{n}", "draft", DUE, media=post(clip).media))
    with pytest.raises(RetryLater, match="five drafts") as caught:
        inbox.publish(post(clip))
    assert caught.value.retry_at is not None
    assert caught.value.retry_at > datetime.now(UTC) + timedelta(minutes=55)


@pytest.mark.parametrize(
    ("reason", "error"),
    [
        ("frame_rate_check_failed", Rejected),
        ("spam_risk_text", Rejected),
        ("auth_removed", AuthFailed),
        ("internal", RetryLater),
    ],
)
def test_a_failed_post_says_why_in_the_right_class(
    fake: TikTokFake, connect: Connect, tmp_path: Path, reason: str, error: type[Exception]
) -> None:
    fake.fail_with = reason
    connector = connect()
    clip = video(tmp_path / "clip.mp4")
    with pytest.raises(error, match=reason):
        connector.publish(post(clip))
    connector.publish(post(clip))  # nothing went out: the next attempt starts afresh
    assert len(fake.posts) == 1


def test_the_per_minute_limit_is_a_retry_a_minute_later(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    fake.inject(Fault("respond", fake.throttle(datetime.now(UTC)), method="POST", path=VIDEO_INIT))
    with pytest.raises(RetryLater, match="per-minute limit") as caught:
        connect().publish(post(video(tmp_path / "clip.mp4")))
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.retry_at is not None
    assert caught.value.retry_at > datetime.now(UTC) + timedelta(seconds=50)


def test_a_daily_cap_said_under_http_200_by_the_creator_query_waits(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    fake.creator_error = "spam_risk_too_many_posts"
    with pytest.raises(RetryLater, match="daily cap of posts") as caught:
        connect().publish(post(video(tmp_path / "clip.mp4")))
    assert "TikTok log id" in caught.value.reason


def test_tokens_are_renewed_kept_private_and_shared(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    clip = video(tmp_path / "clip.mp4")
    connect().publish(post(clip))
    token_file = tmp_path / "state" / "tiktok-tiktok-main-tokens.json"
    kept = json.loads(token_file.read_text())
    assert kept["refresh_token"] in fake.refresh_tokens  # TikTok replaced the first one
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    renewals = sum(r.path == "/v2/oauth/token/" for r in fake.requests)
    connect().publish(Post("other", "again", DUE, media=post(clip).media))
    assert sum(r.path == "/v2/oauth/token/" for r in fake.requests) == renewals


def test_a_refused_access_token_is_renewed_once(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    connector = connect()
    clip = video(tmp_path / "clip.mp4")
    connector.publish(post(clip))
    fake.access_tokens.clear()  # TikTok forgot it early
    connector.publish(Post("other", "again", DUE, media=post(clip).media))
    assert len(fake.posts) == 2


def test_revoked_credentials_hold_the_channel_without_showing_a_secret(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    fake.revoke()
    fake.echo_credentials = True
    with pytest.raises(AuthFailed, match="clarion login") as caught:
        connect().publish(post(video(tmp_path / "clip.mp4")))
    assert "rft." not in caught.value.reason
    assert "fakeTikTokClientSecret" not in caught.value.reason


# -- never twice -----------------------------------------------------------------------------


def test_a_time_out_after_the_last_chunk_is_settled_at_once_by_the_status(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    fake.inject(Fault("hang_after", seconds=3, method="PUT", path="/upload/"))
    published = connect(state=None).publish(post(video(tmp_path / "clip.mp4")))
    assert published.ref.url is not None
    assert len(fake.posts) == 1 and len(puts(fake)) == 1


def test_a_lost_answer_to_the_last_chunk_is_asked_about_before_anything_else(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    fake.inject(Fault("hang_after", seconds=3, method="PUT", path="/upload/"))
    fake.respond(503, "", path="/status/fetch/")  # nor can TikTok tell at once
    fake.processing_reads = 1
    clip = video(tmp_path / "clip.mp4")
    with pytest.raises(RetryLater, match="asks TikTok"):
        connect().publish(post(clip))
    with pytest.raises(LookupUnavailable, match="still processing"):
        connect().lookup(post(clip))  # a new process asks TikTok, which is not done yet
    published = connect().publish(post(clip))
    assert published.note == "published by an earlier attempt"
    assert connect().lookup(post(clip)) == published.ref
    assert len(fake.posts) == 1 and len(puts(fake)) == 1


def test_without_a_state_folder_a_lost_answer_to_the_last_chunk_is_ambiguous(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    fake.inject(Fault("hang_after", seconds=3, method="PUT", path="/upload/"))
    fake.respond(503, "", path="/status/fetch/")
    with pytest.raises(Ambiguous):
        connect(state=None).publish(post(video(tmp_path / "clip.mp4")))


def test_a_chunk_answered_5xx_is_sent_again_as_tiktok_asks(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    clip = video(tmp_path / "clip.mp4", size=21_000_000)
    fake.respond(503, "", method="PUT", path="/upload/", times=2)
    connect().publish(post(clip))
    assert [length for _, length in puts(fake)] == [10_000_000] * 3 + [11_000_000]
    assert len(fake.posts) == 1 and len(fake.uploads) == 1


def test_an_upload_cut_short_goes_on_with_the_same_upload(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    clip = video(tmp_path / "clip.mp4", size=21_000_000)
    fake.respond(503, "", method="PUT", path="/upload/", times=3)  # the first of two chunks
    with pytest.raises(RetryLater):
        connect().publish(post(clip))
    assert connect().lookup(post(clip)) is None
    connect().publish(post(clip))
    assert len(fake.posts) == 1 and len(fake.uploads) == 1


class Crash(BaseException):
    """The process dies: nothing after it runs, only what is on disk remains."""


@pytest.mark.parametrize("meanwhile", ["valid", "expiring", "refused by TikTok"])
def test_an_upload_cut_short_by_a_crash_goes_on_from_the_first_chunk_tiktok_lacks(
    fake: TikTokFake,
    connect: Connect,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    meanwhile: str,
) -> None:
    clip = video(tmp_path / "clip.mp4", size=41_000_000)  # chunks 0 to 3 (the last 11 MB)
    sending = TikTokConnector._chunk

    def crash_at_chunk_2(self: TikTokConnector, media: MediaFile, span: Span, url: str) -> Any:
        if span.index == 2:
            raise Crash
        return sending(self, media, span, url)

    with monkeypatch.context() as crashing:
        crashing.setattr(TikTokConnector, "_chunk", crash_at_chunk_2)
        with pytest.raises(Crash):
            connect().publish(post(clip))
    assert [length for _, length in puts(fake)] == [10_000_000] * 2 and fake.posts == []
    if meanwhile == "expiring":  # too close to the end of the address's hour to finish
        monkeypatch.setattr(connector_module, "RESUMABLE", timedelta(0))
    elif meanwhile == "refused by TikTok":
        fake.expire()
        with pytest.raises(RetryLater, match="starts again"):
            connect().publish(post(clip))

    connect().publish(post(clip))  # a new process
    sent = [length for _, length in puts(fake)][2:]
    if meanwhile == "valid":
        assert sent == [10_000_000, 11_000_000] and len(fake.uploads) == 1
    else:
        tried = [10_000_000] if meanwhile == "refused by TikTok" else []
        assert sent == [*tried, *[10_000_000] * 3, 11_000_000] and len(fake.uploads) == 2
    assert len(fake.posts) == 1


def test_a_last_chunk_that_may_still_arrive_is_waited_for_until_its_address_expires(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    clip = video(tmp_path / "clip.mp4")
    fake.inject(Fault("drop_before", method="PUT", path="/upload/"))
    with pytest.raises(RetryLater):
        connect().publish(post(clip))
    with pytest.raises(RetryLater, match="still processing"):
        connect().publish(post(clip))
    state = tmp_path / "state" / "tiktok-tiktok-main.json"
    entries = json.loads(state.read_text())
    entries[post(clip).key]["sent"] = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    state.write_text(json.dumps(entries))
    connect().publish(post(clip))  # the old upload address has expired: start again
    assert len(fake.posts) == 1


def test_a_lost_answer_to_the_init_costs_an_init_not_a_post(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    clip = video(tmp_path / "clip.mp4")
    fake.inject(Fault("drop_after", method="POST", path=VIDEO_INIT))
    with pytest.raises(RetryLater):
        connect().publish(post(clip))
    assert connect().lookup(post(clip)) is None
    connect().publish(post(clip))
    assert len(fake.uploads) == 2 and len(fake.posts) == 1


# -- photos ----------------------------------------------------------------------------------


def photo_post(tmp_path: Path) -> Post:
    photos = tuple(MediaFile(tmp_path / f"card-{n}.jpeg", "", "image/jpeg") for n in range(2))
    return Post("sayno/cards/tiktok-main", "Safer Internet Day #SayNo", DUE, media=photos)


def test_photos_are_fetched_from_media_base_url(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    published = connect(media_base_url="https://cdn.example.org/sayno").publish(
        photo_post(tmp_path)
    )
    body = next(r for r in fake.requests if r.path.endswith("/content/init/")).json()
    assert body["source_info"]["photo_images"] == [
        "https://cdn.example.org/sayno/card-0.jpeg",
        "https://cdn.example.org/sayno/card-1.jpeg",
    ]
    assert (body["post_mode"], body["post_info"]["description"]) == (
        "DIRECT_POST",
        "Safer Internet Day #SayNo",
    )
    assert published.ref.url is not None
    with pytest.raises(Rejected, match="media_base_url"):
        connect(media_base_url=None).publish(replace(photo_post(tmp_path), key="another"))


def test_a_photo_post_whose_answer_is_lost_is_left_to_an_operator(
    fake: TikTokFake, connect: Connect, tmp_path: Path
) -> None:
    fake.inject(Fault("hang_after", seconds=3, method="POST", path="/content/init/"))
    connector = connect(media_base_url="https://cdn.example.org/sayno")
    with pytest.raises(Ambiguous):
        connector.publish(photo_post(tmp_path))
    with pytest.raises(Ambiguous, match="look at the account"):
        connect(media_base_url="https://cdn.example.org/sayno").publish(photo_post(tmp_path))


# -- check -----------------------------------------------------------------------------------


def test_check_names_the_account_its_limits_and_what_direct_posting_means(
    connect: Connect,
) -> None:
    report = connect().check()
    assert report.ok and report.account == "@sayno_europe"
    assert report.limits["max_video_seconds"] == 600
    assert "directly, as PUBLIC_TO_EVERYONE" in report.notes[0]
    assert "SELF_ONLY" in report.notes[1]


def test_check_says_inbox_posts_are_drafts_someone_must_post(connect: Connect) -> None:
    report = connect(mode="inbox").check()
    assert report.ok and report.account == "SayNo Europe"
    assert "inbox as drafts: someone must open TikTok" in report.notes[0]


def test_check_finds_a_privacy_the_account_does_not_offer(
    fake: TikTokFake, connect: Connect
) -> None:
    fake.privacy_options = ["SELF_ONLY"]
    report = connect().check()
    assert not report.ok
    assert "it offers SELF_ONLY" in report.problems[0]


def test_a_channel_without_mode_or_privacy_is_told_what_to_write(connect: Connect) -> None:
    with pytest.raises(ValueError, match=r"options\.mode"):
        connect(mode="")
    with pytest.raises(ValueError, match=r"options\.privacy"):
        connect(privacy="everyone")
    assert connect(privacy="Friends").privacy == "MUTUAL_FOLLOW_FRIENDS"
    assert connect(mode="inbox", privacy=None).privacy is None


def test_validate_checks_the_options_that_have_a_few_answers(fake: TikTokFake) -> None:
    options = {"mode": "draft", "privacy": "everyone", "comments": "yes"}
    found = settings_problems(replace(fake.channel(), options=options))
    assert [message for _, message in found] == [
        "tiktok's options.mode is 'draft': write direct or inbox",
        "tiktok's options.privacy is 'everyone': write public or friends or followers or private",
        "tiktok's options.comments is 'yes': write true or false",
    ]
