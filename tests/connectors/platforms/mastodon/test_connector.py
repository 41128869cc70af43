from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.base import (
    Ambiguous,
    AuthFailed,
    ChannelAccess,
    MediaFile,
    PlatformRef,
    Post,
    PublishError,
    Rejected,
    RetryLater,
)
from connectors.fakes.params import multipart
from connectors.fakes.server import Fault
from connectors.platforms.mastodon.connector import MastodonConnector, classify
from connectors.platforms.mastodon.fake import ACCESS_TOKEN, MESSAGES, MastodonFake
from tests.connectors.social import (
    HANG,
    IMPATIENT,
    Connectors,
    assert_secret_absent,
    capture_everything,
    closed_port,
    images,
    post,
)
from tests.videos import clip


def polling_at_once(config: ChannelAccess) -> MastodonConnector:
    mastodon = MastodonConnector(config)
    mastodon.poll_interval = 0.0
    return mastodon


connector = Connectors(
    polling_at_once,
    name="mastodon-main",
    platform="mastodon",
    credentials={"access_token": ACCESS_TOKEN},
)


@pytest.fixture
def fake() -> Iterator[MastodonFake]:
    with MastodonFake() as fake:
        yield fake


def statuses(fake: MastodonFake) -> list[Any]:
    return [r for r in fake.requests if (r.method, r.path) == ("POST", "/api/v1/statuses")]


# -- posting ------------------------------------------------------------------------------


def test_a_status_goes_out_with_its_idempotency_key(fake: MastodonFake) -> None:
    sent = post("One week to #SaferInternetDay. #SayNo", language="fr")
    published = connector(fake).publish(sent)

    [request] = statuses(fake)
    assert request.form() == {
        "status": ["One week to #SaferInternetDay. #SayNo"],
        "visibility": ["public"],
        "language": ["fr"],
    }
    assert request.header("authorization") == f"Bearer {ACCESS_TOKEN}"
    assert request.header("idempotency-key") == sent.idempotency_key
    status_id = fake.posts[-1]["id"]
    assert published.ref == PlatformRef(
        status_id, f"https://mastodon.example/@clarion_fake/{status_id}"
    )


def test_visibility_content_warning_and_sensitivity_come_from_options(
    fake: MastodonFake,
) -> None:
    mastodon = connector(
        fake, visibility="unlisted", content_warning="Online abuse", sensitive=True
    )
    mastodon.publish(post("Text", language=None))
    assert statuses(fake)[0].form() == {
        "status": ["Text"],
        "sensitive": ["true"],
        "spoiler_text": ["Online abuse"],
        "visibility": ["unlisted"],
    }
    assert fake.posts[0]["spoiler_text"] == "Online abuse"


def test_an_unknown_visibility_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="visibility 'everyone'"):
        connector(base_url="http://127.0.0.1:9", visibility="everyone")


def test_a_channel_without_base_url_is_refused() -> None:
    with pytest.raises(ValueError, match="base_url"):
        MastodonConnector(ChannelAccess("m", "mastodon", credentials={"access_token": "t"}))


def test_a_thread_is_a_chain_of_replies(fake: MastodonFake) -> None:
    mastodon = connector(fake)
    first = mastodon.publish(post("1/ Start", key="t/1"))
    second = mastodon.publish(post("2/ Next", key="t/2", reply_to=first.ref))
    mastodon.publish(post("3/ End", key="t/3", reply_to=second.ref, thread_root=first.ref))
    replies = [r.form().get("in_reply_to_id") for r in statuses(fake)]
    assert replies == [None, [first.ref.id], [second.ref.id]]


def test_images_go_up_with_their_alt_text(fake: MastodonFake, tmp_path: Path) -> None:
    cards = images(tmp_path, 2)
    connector(fake).publish(post("Cards", media=cards))

    uploads = [r for r in fake.requests if r.path == "/api/v2/media"]
    for request, card in zip(uploads, cards, strict=True):
        parts = multipart(request)
        assert parts["file"].content == card.path.read_bytes()
        assert parts["file"].filename == card.path.name
        assert parts["file"].content_type == "image/png"
        assert parts["description"].content.decode() == card.alt
    ids = list(fake.media)
    assert statuses(fake)[0].form()["media_ids[]"] == ids
    assert fake.posts[0]["media_ids"] == ids
    assert not [r for r in fake.requests if r.path.startswith("/api/v1/media/")]


def test_a_video_is_processed_in_the_background_and_awaited(
    fake: MastodonFake, tmp_path: Path
) -> None:
    fake.processing_polls = 2
    video = MediaFile(clip(tmp_path / "clip.mp4"), "A clip", "video/mp4")
    connector(fake).publish(post("Watch", media=[video]))
    media_id = next(iter(fake.media))
    assert [(r.method, r.path) for r in fake.requests] == [
        ("POST", "/api/v2/media"),
        ("GET", f"/api/v1/media/{media_id}"),
        ("GET", f"/api/v1/media/{media_id}"),
        ("GET", f"/api/v1/media/{media_id}"),
        ("POST", "/api/v1/statuses"),
    ]
    assert fake.posts[0]["media_ids"] == [media_id]


def test_media_still_processing_at_the_deadline_posts_nothing(
    fake: MastodonFake, tmp_path: Path
) -> None:
    fake.processing_polls = 1_000
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00" * 64)
    with pytest.raises(RetryLater, match="still processing"):
        connector(fake, media_timeout=0).publish(post(media=[MediaFile(clip, "c", "video/mp4")]))
    assert fake.posts == []


def test_a_not_ready_422_waits_for_the_media_then_posts(fake: MastodonFake, tmp_path: Path) -> None:
    fake.respond(422, {"error": MESSAGES["de"]["not_ready"]}, path="/api/v1/statuses")
    fake.respond(206, {"id": "x", "url": None}, method="GET", path="/api/v1/media/")
    published = connector(fake).publish(post(media=images(tmp_path, 1)))
    assert len(statuses(fake)) == 2
    assert published.ref.id == fake.posts[0]["id"]


def test_a_422_with_processed_media_is_rejected_with_its_reason(
    fake: MastodonFake, tmp_path: Path
) -> None:
    fake.locale = "de"
    with pytest.raises(Rejected) as caught:
        connector(fake).publish(post("a" * 501, media=images(tmp_path, 1)))
    assert caught.value.status == 422
    assert "Zeichen" in caught.value.reason
    assert len(statuses(fake)) == 1


@pytest.mark.parametrize("locale", ["en", "de", "ja"])
def test_too_long_a_status_is_rejected_whatever_the_language(
    fake: MastodonFake, locale: str
) -> None:
    fake.locale = locale
    with pytest.raises(Rejected) as caught:
        connector(fake).publish(post("a" * 501))
    assert MESSAGES[locale]["too_long"].format(limit=500) in caught.value.reason


def test_publishing_again_with_the_same_key_returns_the_original(fake: MastodonFake) -> None:
    mastodon = connector(fake)
    first = mastodon.publish(post("Once", key="k"))
    again = mastodon.publish(post("Once", key="k"))
    assert again.ref == first.ref
    assert len(fake.posts) == 1
    assert len(statuses(fake)) == 2


def test_an_ambiguous_publish_is_settled_by_publishing_again(fake: MastodonFake) -> None:
    fake.inject(Fault("hang_after", seconds=HANG, method="POST", path="/api/v1/statuses"))
    mastodon = connector(fake, timeout=IMPATIENT)
    with pytest.raises(Ambiguous):
        mastodon.publish(post("Maybe", key="k"))
    assert len(fake.posts) == 1
    settled = mastodon.publish(post("Maybe", key="k"))
    assert settled.ref.id == fake.posts[0]["id"]
    assert len(fake.posts) == 1


def test_a_dropped_connection_after_sending_is_ambiguous(fake: MastodonFake) -> None:
    fake.inject(Fault("drop_after", method="POST", path="/api/v1/statuses"))
    with pytest.raises(Ambiguous):
        connector(fake).publish(post())


def test_no_connection_means_nothing_was_sent() -> None:
    with pytest.raises(RetryLater, match="could not reach Mastodon"):
        connector(base_url=closed_port()).publish(post())


def test_the_status_limit_retries_at_the_iso_reset() -> None:
    fake = MastodonFake(status_limit=1)
    with fake:
        mastodon = connector(fake)
        mastodon.publish(post("first", key="a"))
        with pytest.raises(RetryLater) as caught:
            mastodon.publish(post("second", key="b"))
    reset = datetime.fromtimestamp(fake.windows["statuses"].reset, UTC)
    assert caught.value.status == 429
    assert caught.value.retry_at == reset
    assert len(fake.posts) == 1


def test_a_server_error_to_a_media_upload_is_retried_when_the_server_says(
    fake: MastodonFake, tmp_path: Path
) -> None:
    fake.respond(503, {"error": "busy"}, {"Retry-After": "30"}, path="/api/v2/media")
    before = datetime.now(UTC)
    with pytest.raises(RetryLater) as caught:
        connector(fake).publish(post(media=images(tmp_path, 1)))
    assert caught.value.retry_at is not None
    assert caught.value.retry_at >= before + timedelta(seconds=29)
    assert fake.posts == []


def test_a_revoked_token_holds_the_channel(fake: MastodonFake) -> None:
    fake.revoke()
    with pytest.raises(AuthFailed, match="The access token is invalid"):
        connector(fake).publish(post())


def test_a_token_without_the_write_scope_holds_the_channel(fake: MastodonFake) -> None:
    fake.add_token("read-only", "read")
    with pytest.raises(AuthFailed) as caught:
        connector(fake, token="read-only").publish(post())
    assert caught.value.status == 403


def test_a_reply_to_a_deleted_status_is_rejected(fake: MastodonFake) -> None:
    with pytest.raises(Rejected, match="does not appear to exist"):
        connector(fake).publish(post(reply_to=PlatformRef("1")))


def test_a_404_without_a_reply_points_at_the_base_url(fake: MastodonFake) -> None:
    fake.respond(404, {"error": "Not Found"}, path="/api/v1/statuses")
    with pytest.raises(AuthFailed, match="base_url"):
        connector(fake).publish(post())


@given(
    status=st.sampled_from([400, 401, 403, 404, 410, 422, 429, 500, 503]),
    message=st.text(max_size=80),
)
def test_errors_are_classified_by_status_never_by_their_words(status: int, message: str) -> None:
    response = httpx.Response(status, json={"error": message})
    error = classify(response, "publish the post", replying=True)
    expected: type[PublishError] = Rejected
    if status in (401, 403):
        expected = AuthFailed
    elif status == 429 or status >= 500:
        expected = RetryLater
    assert type(error) is expected
    assert error.status == status
    assert message[:300] in error.reason


# -- check --------------------------------------------------------------------------------


def test_check_reads_the_instance_s_own_limits() -> None:
    fake = MastodonFake(max_characters=1000)
    with fake:
        report = connector(fake).check()
    assert report.ok
    assert report.account == "@clarion_fake@mastodon.example"
    assert report.limits == {
        "max_length": 1000,
        "max_media": 4,
        "url_length": 23,
        "image_max_bytes": 16_777_216,
        "alt_max": 1500,
    }
    [budget] = report.budgets
    assert (budget.scope, budget.limit, budget.remaining) == ("requests per 5 min", 300, 299)
    assert budget.resets_at is not None
    assert not [r for r in fake.requests if r.method == "POST"]


def test_check_falls_back_to_the_v1_instance_on_older_servers(fake: MastodonFake) -> None:
    fake.instance_v2 = False
    report = connector(fake).check()
    assert report.ok
    assert report.limits["max_length"] == 500
    assert [r.path for r in fake.requests][-1] == "/api/v1/instance"


def test_check_reports_a_revoked_token(fake: MastodonFake) -> None:
    fake.revoke()
    report = connector(fake).check()
    assert not report.ok
    assert report.problems == [
        "Mastodon refused to read the account (401: The access token is invalid)"
    ]


# -- lookup -------------------------------------------------------------------------------


def test_lookup_finds_the_status_by_its_source_text(fake: MastodonFake) -> None:
    mastodon = connector(fake)
    sent = post("Help & advice <here>: https://example.org/sayno\n\n#SayNo", key="a")
    published = mastodon.publish(sent)
    mastodon.publish(post("Another", key="b"))
    assert mastodon.lookup(sent) == published.ref


def test_lookup_tells_thread_parts_apart_by_their_parent(fake: MastodonFake) -> None:
    mastodon = connector(fake)
    first = mastodon.publish(post("1/ Start", key="a"))
    second = mastodon.publish(post("2/ Next", key="b", reply_to=first.ref))
    assert mastodon.lookup(post("2/ Next", reply_to=first.ref)) == second.ref
    assert mastodon.lookup(post("2/ Next", reply_to=PlatformRef("5"))) is None


def test_lookup_says_none_when_nothing_matches(fake: MastodonFake) -> None:
    mastodon = connector(fake)
    mastodon.publish(post("Something else"))
    assert mastodon.lookup(post("Never sent")) is None


def test_lookup_stops_at_statuses_older_than_the_due_time(fake: MastodonFake) -> None:
    mastodon = connector(fake)
    mastodon.publish(post("Old news"))
    with fake.lock:
        fake.posts[0]["created_at"] -= timedelta(days=1)
    due_now = Post("k", "Old news", datetime.now(UTC))  # yesterday's status is no match
    assert mastodon.lookup(due_now) is None
    assert not [r for r in fake.requests if r.path.endswith("/source")]


def test_lookup_pages_back_through_the_account(fake: MastodonFake) -> None:
    mastodon = connector(fake)
    target = mastodon.publish(post("the very first", key="first"))
    later = [{**fake.posts[0], "id": str(int(target.ref.id) + 1 + i)} for i in range(40)]
    with fake.lock:
        fake.posts.extend({**p, "text": f"later {i}"} for i, p in enumerate(later))
    assert mastodon.lookup(post("the very first")) == target.ref
    pages = [r for r in fake.requests if r.path.endswith("/statuses") and r.method == "GET"]
    assert len(pages) == 2
    assert pages[1].query["max_id"] == [later[0]["id"]]


# -- secrets ------------------------------------------------------------------------------

CANARY = "CANARY-mastodon-t0ken-do-not-log"


def test_the_token_never_reaches_logs_or_errors(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    capture_everything(caplog)
    seen: list[object] = []
    fake = MastodonFake(access_token=CANARY)
    with fake:
        fake.echo_credentials = True  # every error quotes the Authorization header
        mastodon = connector(fake, token=CANARY, timeout=IMPATIENT)
        seen += [mastodon.publish(post("ok", media=images(tmp_path, 1))), mastodon.check()]
        seen.append(mastodon.lookup(post("ok")))
        for status in (422, 429, 500, 503, 404):
            fake.respond(status, {"error": "nope"}, path="/api/v1/statuses")
            with pytest.raises(PublishError) as caught:
                mastodon.publish(post(key=str(status)))
            seen.append(caught.value)
        fake.inject(Fault("hang_after", seconds=HANG, method="POST", path="/api/v1/statuses"))
        with pytest.raises(Ambiguous) as ambiguous:
            mastodon.publish(post(key="slow"))
        seen.append(ambiguous.value)
        fake.revoke()
        with pytest.raises(AuthFailed) as refused:
            mastodon.publish(post(key="revoked"))
        seen += [refused.value, mastodon.check()]
    assert_secret_absent(CANARY, caplog, seen)
    assert CANARY not in repr(mastodon)
