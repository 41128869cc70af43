from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from connectors.base import (
    Ambiguous,
    AuthFailed,
    Duplicate,
    LookupUnavailable,
    PublishError,
    Rejected,
    RetryLater,
)
from connectors.fakes.params import multipart
from connectors.fakes.server import Fault
from connectors.graph import classify, regain_access
from connectors.platforms.facebook.connector import DEFAULT_VERSION, FacebookConnector
from connectors.platforms.facebook.fake import PAGE, TOKEN, FacebookFake
from tests.connectors.social import (
    HANG,
    IMPATIENT,
    Connectors,
    assert_retries_after,
    images,
    post,
)

V = DEFAULT_VERSION

connector = Connectors(
    FacebookConnector,
    name="facebook-page",
    platform="facebook",
    credentials={"page_access_token": TOKEN},
    options={"page_id": PAGE},
)


@pytest.fixture
def fake() -> Iterator[FacebookFake]:
    with FacebookFake() as fake:
        yield fake


def test_a_text_post_goes_to_the_feed(fake: FacebookFake) -> None:
    published = connector(fake).publish(post("Hello #SayNo", link="https://example.org/sayno"))

    request = fake.requests[-1]
    assert (request.method, request.path) == ("POST", f"/{V}/{PAGE}/feed")
    assert request.query == {"access_token": [TOKEN]}
    assert request.form() == {"message": ["Hello #SayNo"], "link": ["https://example.org/sayno"]}
    post_id = fake.posts[-1]["id"]
    assert published.ref.id == post_id
    assert published.ref.url == f"https://www.facebook.com/{PAGE}/posts/{post_id.split('_')[1]}"


def test_the_graph_version_is_an_option(fake: FacebookFake) -> None:
    connector(fake, graph_version="v25.0").publish(post())
    assert fake.requests[-1].path == f"/v25.0/{PAGE}/feed"


def test_one_photo_is_posted_with_its_caption_and_alt_text(
    fake: FacebookFake, tmp_path: Path
) -> None:
    media = images(tmp_path, 1)
    published = connector(fake).publish(post("Caption", media=media))

    request = fake.requests[-1]
    assert request.path == f"/{V}/{PAGE}/photos"
    parts = multipart(request)
    assert parts["message"].content == b"Caption"
    assert parts["alt_text_custom"].content == media[0].alt.encode()
    assert parts["source"].content == media[0].path.read_bytes()
    assert "published" not in parts
    assert published.ref.id == fake.posts[-1]["id"]
    assert len(fake.requests) == 1


def test_a_photo_without_alt_text_sends_no_empty_description(
    fake: FacebookFake, tmp_path: Path
) -> None:
    [photo] = images(tmp_path, 1)
    connector(fake).publish(post("Caption", media=[replace(photo, alt="")]))
    assert "alt_text_custom" not in multipart(fake.requests[-1])


def test_several_photos_are_attached_to_one_post(fake: FacebookFake, tmp_path: Path) -> None:
    media = images(tmp_path, 3)
    published = connector(fake).publish(post("Three", media=media))

    uploads, feed = fake.requests[:3], fake.requests[3]
    for upload, m in zip(uploads, media, strict=True):
        parts = multipart(upload)
        assert parts["published"].content == b"false"
        assert parts["alt_text_custom"].content == m.alt.encode()
    assert feed.path == f"/{V}/{PAGE}/feed"
    photo_ids = list(fake.photos)
    assert feed.form() == {
        "message": ["Three"],
        **{
            f"attached_media[{i}]": [json.dumps({"media_fbid": pid})]
            for i, pid in enumerate(photo_ids)
        },
    }
    assert fake.posts[-1]["attached_media"] == photo_ids
    assert published.ref.id == fake.posts[-1]["id"]


def test_a_photo_upload_that_times_out_publishes_nothing(
    fake: FacebookFake, tmp_path: Path
) -> None:
    fake.inject(Fault("hang_after", seconds=HANG, path="/photos"))
    with pytest.raises(RetryLater, match="before anything was published"):
        connector(fake, timeout=IMPATIENT).publish(post(media=images(tmp_path, 2)))
    assert fake.posts == []


def test_media_other_than_photos_and_videos_is_rejected(fake: FacebookFake, tmp_path: Path) -> None:
    with pytest.raises(Rejected, match="audio/mpeg"):
        connector(fake).publish(post(media=images(tmp_path, 1, mime="audio/mpeg")))
    assert fake.requests == []


def test_later_thread_parts_are_comments(fake: FacebookFake) -> None:
    fb = connector(fake)
    first = fb.publish(post("1/ Tips"))
    second = fb.publish(post("2/ More", reply_to=first.ref, thread_root=first.ref))
    fb.publish(post("3/ End", reply_to=second.ref, thread_root=first.ref))

    request = fake.requests[1]
    assert request.path == f"/{V}/{first.ref.id}/comments"
    assert request.form() == {"message": ["2/ More"]}
    assert [c["parent"] for c in fake.comments] == [first.ref.id, first.ref.id]
    assert second.ref.id == fake.comments[0]["id"]
    assert second.ref.url == f"{first.ref.url}?comment_id={second.ref.id.split('_')[1]}"


def test_comments_without_permission_are_rejected(fake: FacebookFake) -> None:
    fb = connector(fake)
    first = fb.publish(post("1/ Tips"))
    fake.comments_allowed = False
    with pytest.raises(Rejected, match="pages_manage_engagement"):
        fb.publish(post("2/ More", reply_to=first.ref, thread_root=first.ref))


def test_a_duplicate_status_is_reported(fake: FacebookFake) -> None:
    fb = connector(fake)
    fb.publish(post("Same"))
    with pytest.raises(Duplicate) as caught:
        fb.publish(post("Same"))
    assert caught.value.code == "506"
    assert caught.value.existing is None
    assert len(fake.posts) == 1


def test_page_throttling_waits_for_regained_access(fake: FacebookFake) -> None:
    fake.answer(fake.throttle(datetime.now(UTC) + timedelta(minutes=17)))
    caught = assert_retries_after(connector(fake), timedelta(minutes=17))
    assert caught.code == "80001"


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80001])
def test_rate_codes_are_retried_even_for_a_post(code: int) -> None:
    """A throttled call was refused, not made."""
    response = httpx.Response(400, json={"error": {"code": code, "message": "later"}})
    assert isinstance(classify(response, "Facebook", creates=True), RetryLater)


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"code": 1, "message": "An unknown error occurred"}},
        {"error": {"code": 2, "message": "Service temporarily unavailable"}},
        {"error": {"code": 100, "is_transient": True, "message": "try again"}},
        "<html>Bad Gateway</html>",
    ],
)
def test_transient_trouble_is_retried_for_a_read_and_ambiguous_for_a_post(body: object) -> None:
    response = httpx.Response(500, json=body)
    assert isinstance(classify(response, "Facebook"), RetryLater)
    assert isinstance(classify(response, "Facebook", creates=True), Ambiguous)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (190, AuthFailed),
        (10, AuthFailed),
        (200, AuthFailed),
        (299, AuthFailed),
        (506, Duplicate),
        (368, Rejected),
        (100, Rejected),
        (1609005, Rejected),
    ],
)
def test_codes_decide_the_class(code: int, kind: type[PublishError]) -> None:
    body = {"error": {"code": code, "message": "Mensaje traducido", "error_subcode": 1}}
    assert type(classify(httpx.Response(400, json=body), "Facebook")) is kind


def test_regain_access_reads_the_largest_estimate() -> None:
    now = datetime(2027, 2, 9, 9, 0, tzinfo=UTC)
    usage = {"1": [{"estimated_time_to_regain_access": 3}, {"estimated_time_to_regain_access": 9}]}
    headers = httpx.Headers({"x-business-use-case-usage": json.dumps(usage)})
    assert regain_access(headers, now) == now + timedelta(minutes=9)
    assert regain_access(httpx.Headers({"x-business-use-case-usage": "not json"}), now) is None


def test_a_server_error_to_an_unpublished_photo_is_retried(
    fake: FacebookFake, tmp_path: Path
) -> None:
    fake.respond(502, "<html>Bad Gateway</html>", path="/photos")
    with pytest.raises(RetryLater):
        connector(fake).publish(post(media=images(tmp_path, 2)))
    assert fake.posts == []


@pytest.mark.parametrize("subcode", [463, 460])
def test_an_expired_or_invalidated_token_holds_the_channel(
    fake: FacebookFake, subcode: int
) -> None:
    fake.expire(subcode)
    with pytest.raises(AuthFailed) as caught:
        connector(fake).publish(post())
    assert caught.value.code == f"190/{subcode}"


def test_policy_blocks_are_rejected(fake: FacebookFake) -> None:
    fake.respond(400, {"error": {"code": 368, "message": "blocked", "type": "OAuthException"}})
    with pytest.raises(Rejected, match="368"):
        connector(fake).publish(post())


def test_nothing_can_be_looked_up(fake: FacebookFake) -> None:
    with pytest.raises(LookupUnavailable):
        connector(fake).lookup(post())


def test_check_names_the_page_and_its_usage(fake: FacebookFake) -> None:
    report = connector(fake).check()
    assert report.ok and report.account == "SayNo Europe"
    request = fake.requests[-1]
    assert (request.method, request.path) == ("GET", f"/{V}/{PAGE}")
    assert request.query == {"fields": ["name"], "access_token": [TOKEN]}
    assert [(b.limit, b.remaining) for b in report.budgets] == [(100, 99)]
    fake.expire()
    report = connector(fake).check()
    assert not report.ok and "190" in report.problems[0]
    assert fake.posts == []
