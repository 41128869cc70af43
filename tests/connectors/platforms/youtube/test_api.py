"""The rest of the YouTube connector: quota, rate limits, access tokens, captions and
thumbnails, comments for thread parts, `check`, figures, and secrets kept out of messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import AuthFailed, FiguresUnavailable, PlatformRef, RetryLater
from connectors.platforms.youtube.connector import comment_ref
from connectors.platforms.youtube.fake import (
    CLIENT_SECRET,
    REFRESH_TOKEN,
    YouTubeFake,
    quota_exceeded,
)
from connectors.platforms.youtube.quota import PACIFIC, next_reset
from tests.connectors.platforms.youtube.kit import connector, video
from tests.connectors.social import post

TEXT = "Say no to sextortion\nTell someone you trust. #SayNo"


def uploads_opened(fake: YouTubeFake) -> int:
    return sum(r.method == "POST" and r.path == "/upload/youtube/v3/videos" for r in fake.requests)


# -- quota ------------------------------------------------------------------------------


def test_the_reset_is_midnight_in_california_whatever_the_season() -> None:
    winter = datetime(2027, 2, 9, 7, 59, tzinfo=UTC)  # 23:59 PST
    assert next_reset(winter) == datetime(2027, 2, 9, 8, 0, tzinfo=UTC)
    summer = datetime(2027, 7, 1, 12, 0, tzinfo=UTC)
    assert next_reset(summer) == datetime(2027, 7, 2, 7, 0, tzinfo=UTC)  # PDT
    assert next_reset(summer).astimezone(PACIFIC).hour == 0


def test_quota_exceeded_waits_for_the_reset_and_stops_asking(
    fake: YouTubeFake, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    fake.respond(*_quota_answer(), path="/upload/youtube/v3/videos")
    before = datetime.now(UTC)
    with pytest.raises(RetryLater, match="daily quota is spent") as caught:
        connector(fake, state).publish(post(TEXT, media=[video(tmp_path)]))
    assert caught.value.status == 403 and caught.value.code == "quotaExceeded"
    assert caught.value.retry_at == next_reset(before)

    fake.requests.clear()
    with pytest.raises(RetryLater, match="waits for the daily reset"):
        connector(fake, state).publish(post(TEXT, media=[video(tmp_path)]))
    assert uploads_opened(fake) == 0  # known to be spent: not even asked


def test_the_day_s_uploads_are_counted_so_the_next_one_waits(
    fake: YouTubeFake, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    youtube = connector(fake, state, quota_uploads=1)
    youtube.publish(post(TEXT, media=[video(tmp_path)]))
    with pytest.raises(RetryLater, match="0 of 1 uploads left") as caught:
        youtube.publish(post(TEXT, key="sayno/second/en/yt", media=[video(tmp_path)]))
    assert caught.value.retry_at == next_reset(datetime.now(UTC))
    assert uploads_opened(fake) == 1
    [saved] = state.glob("youtube-quota-*.json")
    assert json.loads(saved.read_text())["uploads"] == 1


def test_units_are_counted_per_method_and_shared_by_the_project_s_channels(
    fake: YouTubeFake, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    captions = tmp_path / "clip.vtt"
    captions.write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nSay no\n")
    connector(fake, state).publish(post(TEXT, media=[video(tmp_path, captions=captions)]))
    report = connector(fake, state).check()  # another channel of the same project
    units, uploads = report.budgets
    assert (units.limit, units.remaining) == (10_000, 10_000 - 400 - 1)
    assert (uploads.limit, uploads.remaining) == (100, 99)
    assert fake.units == 401


def test_a_short_term_limit_waits_as_long_as_youtube_says(
    fake: YouTubeFake, tmp_path: Path
) -> None:
    until = datetime.now(UTC) + timedelta(minutes=5)
    answer = fake.throttle(until)
    fake.respond(answer.status, answer.body, answer.headers, path="/upload/youtube/v3/videos")
    with pytest.raises(RetryLater, match="slow down") as caught:
        connector(fake).publish(post(TEXT, media=[video(tmp_path)]))
    assert caught.value.retry_at is not None
    assert abs((caught.value.retry_at - until).total_seconds()) < 5


def test_the_channel_s_own_upload_limit_waits_a_day(fake: YouTubeFake, tmp_path: Path) -> None:
    fake.respond(
        400,
        {
            "error": {
                "code": 400,
                "message": "The user has exceeded the number of videos they may upload.",
                "errors": [{"domain": "youtube.video", "reason": "uploadLimitExceeded"}],
            }
        },
        path="/upload/youtube/v3/videos",
    )
    with pytest.raises(RetryLater, match="limit of uploads for 24 hours") as caught:
        connector(fake).publish(post(TEXT, media=[video(tmp_path)]))
    assert caught.value.retry_at is not None
    assert caught.value.retry_at > datetime.now(UTC) + timedelta(hours=23)


def _quota_answer() -> tuple[int, object]:
    answer = quota_exceeded()
    return answer.status, answer.body


# -- access ---------------------------------------------------------------------------


def test_an_expired_access_token_is_replaced_without_the_post_noticing(
    fake: YouTubeFake, tmp_path: Path
) -> None:
    youtube = connector(fake)
    youtube.check()
    fake.access.clear()  # every access token expired
    youtube.publish(post(TEXT, media=[video(tmp_path)]))
    assert len(fake.videos) == 1
    assert sum(r.path == "/token" for r in fake.requests) == 2


def test_a_revoked_refresh_token_asks_for_clarion_login(fake: YouTubeFake, tmp_path: Path) -> None:
    fake.revoke()
    with pytest.raises(AuthFailed, match="clarion login") as caught:
        connector(fake).publish(post(TEXT, media=[video(tmp_path)]))
    assert caught.value.code == "invalid_grant"
    assert "7 days" in caught.value.reason  # the Testing consent screen, said plainly
    assert fake.videos == []


def test_no_secret_reaches_a_message(fake: YouTubeFake, tmp_path: Path) -> None:
    fake.echo_credentials = True
    youtube = connector(fake)
    youtube.check()
    fake.respond(500, {"error": {"code": 500, "message": "backend error"}}, path="/upload/")
    with pytest.raises(RetryLater) as caught:
        youtube.publish(post(TEXT, media=[video(tmp_path)]))
    for secret in (CLIENT_SECRET, REFRESH_TOKEN, *youtube._tokens.issued):
        assert secret not in caught.value.reason
    fake.revoke()
    with pytest.raises(AuthFailed) as refused:
        connector(fake).publish(post(TEXT, media=[video(tmp_path)]))
    assert REFRESH_TOKEN not in refused.value.reason
    assert CLIENT_SECRET not in refused.value.reason


# -- captions, thumbnail, comments ----------------------------------------------------


def test_captions_and_thumbnail_follow_the_video(fake: YouTubeFake, tmp_path: Path) -> None:
    captions = tmp_path / "clip.srt"
    captions.write_text("1\n00:00:00,000 --> 00:00:01,000\nSay no\n")
    cover = tmp_path / "cover.png"
    cover.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(2000))
    media = video(tmp_path, captions=captions, thumbnail=cover)
    published = connector(fake).publish(post(TEXT, language="fr", media=[media]))

    assert published.note is None
    [caption] = fake.captions
    assert caption["snippet"]["videoId"] == published.ref.id
    assert caption["snippet"]["language"] == "fr"
    assert caption["_bytes"] == captions.read_bytes()
    assert fake.thumbnails[published.ref.id] == ("image/png", cover.stat().st_size)


def test_a_refused_thumbnail_is_a_note_on_a_sent_video(fake: YouTubeFake, tmp_path: Path) -> None:
    cover = tmp_path / "cover.jpg"
    cover.write_bytes(bytes(100))
    fake.respond(
        403,
        {
            "error": {
                "code": 403,
                "message": "The user may not set custom thumbnails.",
                "errors": [{"reason": "forbidden"}],
            }
        },
        path="/thumbnails/set",
    )
    published = connector(fake).publish(post(TEXT, media=[video(tmp_path, thumbnail=cover)]))
    assert published.note is not None
    assert "video is on YouTube but its thumbnail could not be added" in published.note
    assert len(fake.videos) == 1


def test_a_thread_s_later_part_is_a_comment_on_the_video(fake: YouTubeFake, tmp_path: Path) -> None:
    youtube = connector(fake)
    first = youtube.publish(post(TEXT, media=[video(tmp_path)])).ref
    later = post("Where to get help: call 116 111", key="k/2", reply_to=first, thread_root=first)
    comment = youtube.publish(later).ref

    assert fake.comments[0]["videoId"] == first.id
    assert fake.comments[0]["text"] == "Where to get help: call 116 111"
    assert comment == comment_ref(first.id, fake.comments[0]["id"])
    assert youtube.lookup(later) == comment
    again = post("Another part", key="k/3", reply_to=comment, thread_root=first)
    assert youtube.lookup(again) is None
    assert youtube.publish(again).ref.extra["video"] == first.id


# -- check and figures ----------------------------------------------------------------


def test_check_names_the_channel_its_budgets_and_the_made_for_kids_answer(
    fake: YouTubeFake,
) -> None:
    report = connector(fake).check()
    assert report.ok
    assert report.account == "SayNo Campaign (@saynocampaign)"
    assert [b.scope for b in report.budgets] == [
        "quota units per day (counted by Clarion)",
        "video uploads per day",
    ]
    assert any("not made for kids" in p for p in report.problems)


def test_check_says_loudly_that_made_for_kids_is_missing(fake: YouTubeFake) -> None:
    fake.long_uploads = "eligible"
    report = connector(fake, made_for_kids=None).check()
    assert not report.ok
    assert any("made_for_kids must be true or false" in p for p in report.problems)
    assert any("longer than 15 minutes" in p for p in report.problems)


def test_figures_are_the_video_s_views_likes_and_comments(
    fake: YouTubeFake, tmp_path: Path
) -> None:
    youtube = connector(fake)
    ref = youtube.publish(post(TEXT, media=[video(tmp_path)])).ref
    fake.video(ref.id)["statistics"].update(viewCount="120", likeCount="7", commentCount="2")
    figures = youtube.figures(ref)
    assert (figures.views, figures.likes, figures.replies) == (120, 7, 2)
    assert figures.reposts is None
    with pytest.raises(FiguresUnavailable) as gone:
        youtube.figures(PlatformRef("deleted", "https://www.youtube.com/watch?v=deleted"))
    assert gone.value.why == "gone"
