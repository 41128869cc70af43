from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from connectors.base import (
    Ambiguous,
    AuthFailed,
    Duplicate,
    LookupUnavailable,
    MediaFile,
    PlatformRef,
    Post,
    PublishError,
    Rejected,
    RetryLater,
)
from connectors.fakes.params import multipart
from connectors.fakes.server import Fault
from connectors.platforms.x import media as x_media
from connectors.platforms.x.connector import XConnector, classify
from connectors.platforms.x.fake import (
    ACCESS_TOKEN,
    ACCESS_TOKEN_SECRET,
    CLIENT_ID,
    CONSUMER_KEY,
    CONSUMER_SECRET,
    DUPLICATE,
    OAUTH2_ACCESS_TOKEN,
    OAUTH2_REFRESH_TOKEN,
    XFake,
    problem,
)
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

OAUTH1 = {
    "consumer_key": CONSUMER_KEY,
    "consumer_secret": CONSUMER_SECRET,
    "access_token": ACCESS_TOKEN,
    "access_token_secret": ACCESS_TOKEN_SECRET,
}
OAUTH2 = {
    "oauth2_access_token": OAUTH2_ACCESS_TOKEN,
    "oauth2_refresh_token": OAUTH2_REFRESH_TOKEN,
    "oauth2_client_id": CLIENT_ID,
}


connector = Connectors(XConnector, name="x-main", platform="x", credentials=OAUTH1)


@pytest.fixture
def fake() -> Iterator[XFake]:
    with XFake() as fake:
        yield fake


def created(fake: XFake) -> list[Any]:
    return [r.json() for r in fake.requests if (r.method, r.path) == ("POST", "/2/tweets")]


def epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# -- posting ------------------------------------------------------------------------------


def test_a_post_goes_out_signed_with_oauth1(fake: XFake) -> None:
    published = connector(fake).publish(post("One week to #SaferInternetDay. #SayNo"))

    request = fake.requests[-1]
    assert (request.method, request.path) == ("POST", "/2/tweets")
    assert request.json() == {"text": "One week to #SaferInternetDay. #SayNo"}
    authorization = request.header("authorization") or ""
    assert authorization.startswith("OAuth ")
    assert f'oauth_consumer_key="{CONSUMER_KEY}"' in authorization
    assert 'oauth_signature_method="HMAC-SHA1"' in authorization
    assert (request.header("user-agent") or "").startswith("clarion")
    post_id = fake.posts[-1]["id"]
    assert published.ref == PlatformRef(post_id, f"https://x.com/i/web/status/{post_id}")


def test_the_url_names_the_account_when_the_channel_does(fake: XFake) -> None:
    published = connector(fake, account="@saynocampaign").publish(post())
    assert published.ref.url == f"https://x.com/saynocampaign/status/{published.ref.id}"


def test_a_thread_is_a_chain_of_replies(fake: XFake) -> None:
    x = connector(fake)
    first = x.publish(post("1/ Online sexual coercion is a crime."))
    second = x.publish(post("2/ You are not alone.", reply_to=first.ref, thread_root=first.ref))
    third = x.publish(post("3/ Talk to someone.", reply_to=second.ref, thread_root=first.ref))

    assert created(fake)[1:] == [
        {"text": "2/ You are not alone.", "reply": {"in_reply_to_tweet_id": first.ref.id}},
        {"text": "3/ Talk to someone.", "reply": {"in_reply_to_tweet_id": second.ref.id}},
    ]
    assert [p["reply_to"] for p in fake.posts] == [None, first.ref.id, second.ref.id]
    assert third.ref.id == fake.posts[-1]["id"]


def test_images_go_up_through_v2_with_their_alt_text(fake: XFake, tmp_path: Path) -> None:
    cards = images(tmp_path, 2)
    published = connector(fake).publish(post("Cards", media=cards))

    uploads = [r for r in fake.requests if r.path == "/2/media/upload"]
    assert [r.method for r in uploads] == ["POST", "POST"]
    for request, card in zip(uploads, cards, strict=True):
        parts = multipart(request)
        assert parts["media"].content == card.path.read_bytes()
        assert parts["media"].filename == card.path.name
        assert parts["media"].content_type == "image/png"
        assert parts["media_category"].content == b"tweet_image"
        assert (request.header("authorization") or "").startswith("OAuth ")
    ids = list(fake.media)
    metadata = [r.json() for r in fake.requests if r.path == "/2/media/metadata"]
    assert metadata == [
        {"id": ids[0], "metadata": {"alt_text": {"text": "Card 0: a hand saying no"}}},
        {"id": ids[1], "metadata": {"alt_text": {"text": "Card 1: a hand saying no"}}},
    ]
    assert created(fake) == [{"text": "Cards", "media": {"media_ids": ids}}]
    assert [fake.media[i].alt for i in ids] == [c.alt for c in cards]
    assert published.ref.id == fake.posts[-1]["id"]


def test_an_image_without_alt_text_sets_no_metadata(fake: XFake, tmp_path: Path) -> None:
    card = images(tmp_path, 1)[0]
    connector(fake).publish(post(media=[MediaFile(card.path, "", card.mime)]))
    assert not [r for r in fake.requests if r.path == "/2/media/metadata"]


def test_a_video_goes_up_in_chunks_and_waits_for_processing(
    fake: XFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = clip(tmp_path / "clip.mp4")
    content = video.read_bytes()
    monkeypatch.setattr(x_media, "CHUNK_BYTES", len(content) // 3 + 1)
    connector(fake).publish(post("Watch", media=[MediaFile(video, "A short clip", "video/mp4")]))

    media_id = next(iter(fake.media))
    calls = [(r.method, r.path) for r in fake.requests]
    assert calls == [
        ("POST", "/2/media/upload/initialize"),
        ("POST", f"/2/media/upload/{media_id}/append"),
        ("POST", f"/2/media/upload/{media_id}/append"),
        ("POST", f"/2/media/upload/{media_id}/append"),
        ("POST", f"/2/media/upload/{media_id}/finalize"),
        ("GET", "/2/media/upload"),
        ("GET", "/2/media/upload"),
        ("POST", "/2/media/metadata"),
        ("POST", "/2/tweets"),
    ]
    assert fake.requests[0].json() == {
        "media_type": "video/mp4",
        "total_bytes": len(content),
        "media_category": "tweet_video",
    }
    segments = [multipart(r) for r in fake.requests[1:4]]
    assert [s["segment_index"].content for s in segments] == [b"0", b"1", b"2"]
    assert b"".join(s["media"].content for s in segments) == content
    assert fake.requests[5].query == {"command": ["STATUS"], "media_id": [media_id]}
    assert fake.media[media_id].content == content
    assert created(fake) == [{"text": "Watch", "media": {"media_ids": [media_id]}}]


def test_media_that_x_cannot_process_is_rejected(fake: XFake, tmp_path: Path) -> None:
    fake.fail_processing = True
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not really a video")
    with pytest.raises(Rejected, match="Unsupported video format"):
        connector(fake).publish(post(media=[MediaFile(clip, "clip", "video/mp4")]))
    assert fake.posts == []


def test_media_still_processing_at_the_deadline_is_retried_later(
    fake: XFake, tmp_path: Path
) -> None:
    clip = tmp_path / "clip.gif"
    clip.write_bytes(b"GIF89a")
    with pytest.raises(RetryLater, match="still processing"):
        connector(fake, media_timeout=0).publish(post(media=[MediaFile(clip, "g", "image/gif")]))
    assert fake.posts == []


def test_a_missing_media_file_rejects_the_post(fake: XFake, tmp_path: Path) -> None:
    gone = MediaFile(tmp_path / "gone.png", "alt", "image/png")
    with pytest.raises(Rejected, match=r"gone\.png"):
        connector(fake).publish(post(media=[gone]))
    assert fake.requests == []


# -- errors -------------------------------------------------------------------------------


def second_post_waits(fake: XFake) -> RetryLater:
    """Two posts to a fake that allows only one: the second must wait."""
    with fake:
        x = connector(fake)
        x.publish(post("first"))
        with pytest.raises(RetryLater) as caught:
            x.publish(post("second"))
    return caught.value


def test_the_post_window_exhausted_retries_at_its_reset() -> None:
    fake = XFake(post_limit=1)
    caught = second_post_waits(fake)
    assert caught.status == 429
    assert caught.retry_at == epoch(fake.windows["post"].reset)
    assert len(fake.posts) == 1


def test_the_24_hour_cap_retries_at_the_largest_relevant_reset() -> None:
    fake = XFake(user_day_limit=1)
    caught = second_post_waits(fake)
    day = epoch(fake.windows["user_day"].reset)
    assert caught.retry_at == day
    assert day > epoch(fake.windows["post"].reset)


def test_a_429_without_an_exhausted_window_waits_for_the_latest_reset(fake: XFake) -> None:
    fake.respond(
        429,
        problem(429, "Too Many Requests", "Too Many Requests"),
        {"x-rate-limit-remaining": "3", "x-rate-limit-reset": "2000000000", "retry-after": "60"},
        path="/2/tweets",
    )
    with pytest.raises(RetryLater) as caught:
        connector(fake).publish(post())
    assert caught.value.retry_at == epoch(2_000_000_000)


def test_a_server_error_to_a_media_upload_is_retried_when_the_server_says(
    fake: XFake, tmp_path: Path
) -> None:
    fake.respond(503, "Over capacity", {"Retry-After": "120"}, path="/2/media/upload")
    before = datetime.now(UTC)
    with pytest.raises(RetryLater) as caught:
        connector(fake).publish(post(media=images(tmp_path, 1)))
    assert caught.value.retry_at is not None
    assert before + timedelta(seconds=119) < caught.value.retry_at
    assert fake.posts == []


def test_no_connection_means_nothing_was_sent() -> None:
    with pytest.raises(RetryLater, match="could not reach X"):
        connector(base_url=closed_port()).publish(post())


def test_a_time_out_after_sending_is_ambiguous_and_lookup_settles_it(fake: XFake) -> None:
    fake.inject(Fault("hang_after", seconds=HANG, method="POST", path="/2/tweets"))
    x = connector(fake, timeout=IMPATIENT)
    sent = post("Safer Internet Day: talk about it & #SayNo https://example.org/sayno")
    with pytest.raises(Ambiguous):
        x.publish(sent)
    assert len(fake.posts) == 1  # the platform did the work
    found = x.lookup(sent)
    assert found is not None and found.id == fake.posts[0]["id"]


@pytest.mark.parametrize("kind", ["drop_after", "drop_before"])
def test_a_dropped_connection_after_sending_is_ambiguous(fake: XFake, kind: str) -> None:
    fake.inject(Fault(kind, method="POST", path="/2/tweets"))  # type: ignore[arg-type]
    with pytest.raises(Ambiguous):
        connector(fake).publish(post())


def test_the_same_text_twice_is_a_duplicate(fake: XFake) -> None:
    x = connector(fake)
    x.publish(post("Same words", key="a"))
    with pytest.raises(Duplicate) as caught:
        x.publish(post("Same words", key="b"))
    assert caught.value.status == 403
    assert "duplicate content" in caught.value.reason
    assert len(fake.posts) == 1


def test_a_v1_duplicate_code_is_a_duplicate(fake: XFake) -> None:
    fake.respond(403, {"errors": [{"code": 187, "message": "Status is a duplicate."}]})
    with pytest.raises(Duplicate) as caught:
        connector(fake).publish(post())
    assert caught.value.code == "187"


def test_a_wrong_signature_is_refused(fake: XFake) -> None:
    wrong = {**OAUTH1, "access_token_secret": "not-the-secret"}
    with pytest.raises(AuthFailed):
        connector(fake, credentials=wrong).publish(post())
    assert fake.posts == []


def test_an_app_without_write_access_holds_the_channel(fake: XFake) -> None:
    body = problem(
        403,
        "Forbidden",
        "Your client app is not configured with the appropriate oauth1 app permissions.",
        "https://api.twitter.com/2/problems/oauth1-permissions",
    )
    fake.respond(403, body, path="/2/tweets")
    with pytest.raises(AuthFailed) as caught:
        connector(fake).publish(post())
    assert caught.value.code == "https://api.twitter.com/2/problems/oauth1-permissions"


def test_too_long_a_text_is_rejected_with_x_s_reason(fake: XFake) -> None:
    with pytest.raises(Rejected, match="too long") as caught:
        connector(fake).publish(post("a" * 281))
    assert caught.value.status == 400


def test_a_reply_to_a_deleted_post_is_rejected(fake: XFake) -> None:
    with pytest.raises(Rejected, match="replying to"):
        connector(fake).publish(post(reply_to=PlatformRef("1")))


@given(
    status=st.sampled_from([400, 401, 403, 404, 409, 422, 429, 500, 503]),
    body=st.one_of(
        st.none(),
        st.text(max_size=50),
        st.dictionaries(
            st.sampled_from(["title", "detail", "type", "errors", "status"]),
            st.one_of(st.text(max_size=30), st.integers(), st.lists(st.integers(), max_size=2)),
        ),
    ),
)
def test_any_answer_is_classified_by_status(status: int, body: Any) -> None:
    response = requests.Response()
    response.status_code = status
    response._content = (json.dumps(body) if not isinstance(body, str) else body).encode()
    error = classify(response, "create the post")
    expected: dict[int, type[PublishError]] = {401: AuthFailed, 404: AuthFailed, 429: RetryLater}
    if status >= 500:
        assert isinstance(error, RetryLater)
    elif status == 403:
        assert isinstance(error, AuthFailed | Duplicate)
    else:
        assert isinstance(error, expected.get(status, Rejected))
    assert error.status == status


# -- OAuth 2.0 ----------------------------------------------------------------------------


def test_an_oauth2_token_is_sent_as_a_bearer(fake: XFake) -> None:
    connector(fake, credentials={"oauth2_access_token": OAUTH2_ACCESS_TOKEN}).publish(post())
    assert fake.requests[-1].header("authorization") == f"Bearer {OAUTH2_ACCESS_TOKEN}"


def test_an_expired_oauth2_token_is_refreshed_once(fake: XFake) -> None:
    x = connector(fake, credentials=OAUTH2)
    fake.expire_oauth2_tokens()
    x.publish(post("after two hours"))

    refresh = [r for r in fake.requests if r.path == "/2/oauth2/token"]
    assert len(refresh) == 1
    assert refresh[0].form() == {
        "grant_type": ["refresh_token"],
        "refresh_token": [OAUTH2_REFRESH_TOKEN],
        "client_id": [CLIENT_ID],
    }
    assert OAUTH2_REFRESH_TOKEN not in fake.oauth2_refresh  # spent
    assert len(fake.posts) == 1
    x.publish(post("again"))
    assert len([r for r in fake.requests if r.path == "/2/oauth2/token"]) == 1


def test_a_confidential_client_refreshes_with_basic_auth(tmp_path: Path) -> None:
    fake = XFake(client_secret="s3cret")
    with fake:
        x = connector(fake, credentials={**OAUTH2, "oauth2_client_secret": "s3cret"})
        fake.expire_oauth2_tokens()
        x.publish(post())
    refresh = next(r for r in fake.requests if r.path == "/2/oauth2/token")
    assert (refresh.header("authorization") or "").startswith("Basic ")


def test_without_a_refresh_token_an_expired_token_holds_the_channel(fake: XFake) -> None:
    fake.expire_oauth2_tokens()
    x = connector(fake, credentials={"oauth2_access_token": OAUTH2_ACCESS_TOKEN})
    with pytest.raises(AuthFailed):
        x.publish(post())


def test_a_spent_refresh_token_holds_the_channel(fake: XFake) -> None:
    first = connector(fake, credentials=OAUTH2)
    fake.expire_oauth2_tokens()
    first.publish(post("one"))
    fake.expire_oauth2_tokens()
    restarted = connector(fake, credentials=OAUTH2)  # config.yaml still has the spent token
    with pytest.raises(AuthFailed, match="refresh token"):
        restarted.publish(post("two"))


def test_the_token_file_keeps_rotated_tokens_across_restarts(fake: XFake, tmp_path: Path) -> None:
    tokens = tmp_path / "x-tokens.json"
    x = connector(fake, credentials=OAUTH2, token_file=str(tokens))
    fake.expire_oauth2_tokens()
    x.publish(post("one"))

    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    saved = json.loads(tokens.read_text())
    assert saved["oauth2_access_token"] in fake.oauth2_access
    assert saved["oauth2_refresh_token"] in fake.oauth2_refresh
    restarted = connector(fake, credentials=OAUTH2, token_file=str(tokens))
    restarted.publish(post("two"))
    assert len(fake.posts) == 2
    assert len([r for r in fake.requests if r.path == "/2/oauth2/token"]) == 1


def test_two_processes_share_one_refresh_through_the_token_file(
    fake: XFake, tmp_path: Path
) -> None:
    tokens = str(tmp_path / "x-tokens.json")
    daemon = connector(fake, credentials=OAUTH2, token_file=tokens)
    check = connector(fake, credentials=OAUTH2, token_file=tokens)
    fake.expire_oauth2_tokens()
    assert check.check().ok
    daemon.publish(post())  # its token is stale: it adopts the one `check` wrote
    assert len([r for r in fake.requests if r.path == "/2/oauth2/token"]) == 1
    assert len(fake.posts) == 1


def test_a_corrupt_token_file_is_reported(tmp_path: Path) -> None:
    tokens = tmp_path / "x-tokens.json"
    tokens.write_text("{")
    with pytest.raises(ValueError, match="not a token file"):
        connector(base_url="http://127.0.0.1:9", credentials=OAUTH2, token_file=str(tokens))


# -- set-up -------------------------------------------------------------------------------


def test_incomplete_credentials_are_refused() -> None:
    with pytest.raises(ValueError, match="oauth2_access_token"):
        connector(credentials={"consumer_key": "k"})


def test_plain_http_is_refused_beyond_this_machine() -> None:
    with pytest.raises(ValueError, match="plain http"):
        connector(base_url="http://api.example.org")


# -- check --------------------------------------------------------------------------------


def test_check_names_the_account_its_limits_and_its_budget(fake: XFake) -> None:
    report = connector(fake).check()
    assert report.ok
    assert report.account == "@clarion_fake"
    assert report.limits == {
        "max_length": 280,
        "max_media": 4,
        "alt_max": 1000,
        "image_max_bytes": 5_000_000,
    }
    [budget] = report.budgets
    assert budget.scope == "requests per 15 min (GET /2/users/me)"
    assert (budget.limit, budget.remaining) == (900, 899)
    assert budget.resets_at == epoch(fake.windows["read"].reset)
    assert report.figures is not None and "public metrics" in report.figures
    assert [(r.method, r.path) for r in fake.requests] == [
        ("GET", "/2/users/me"),
        ("GET", f"/2/users/{fake.USER_ID}/tweets"),  # may this plan read posts? (figures)
    ]


def test_check_reports_revoked_credentials(fake: XFake) -> None:
    fake.revoke()
    report = connector(fake).check()
    assert not report.ok
    assert "401" in report.problems[0]


def test_check_reports_an_unreachable_platform() -> None:
    report = connector(base_url=closed_port()).check()
    assert not report.ok
    assert "could not reach X" in report.problems[0]


# -- lookup -------------------------------------------------------------------------------


def test_lookup_finds_a_post_despite_x_rewriting_its_links(fake: XFake, tmp_path: Path) -> None:
    x = connector(fake)
    sent = post("Help & advice <here>: example.org/help and https://example.org/sayno?utm=x")
    published = x.publish(post(sent.text, media=images(tmp_path, 1)))
    assert x.lookup(sent) == published.ref
    timeline = next(r for r in fake.requests if r.path.endswith("/tweets") and r.method == "GET")
    assert timeline.query["tweet.fields"] == ["created_at,referenced_tweets,note_tweet"]
    assert timeline.query["max_results"] == ["100"]
    assert datetime.fromisoformat(timeline.query["start_time"][0]) <= datetime.now(UTC)


def test_lookup_tells_thread_parts_apart_by_their_parent(fake: XFake) -> None:
    x = connector(fake)
    first = x.publish(post("1/ Start"))
    second = x.publish(post("2/ More", reply_to=first.ref))
    assert x.lookup(post("2/ More", reply_to=first.ref)) == second.ref
    assert x.lookup(post("2/ More", reply_to=PlatformRef("999"))) is None


def test_lookup_says_none_when_the_post_is_not_there(fake: XFake) -> None:
    x = connector(fake)
    x.publish(post("Something else"))
    assert x.lookup(post("Never sent")) is None


def test_lookup_pages_through_the_timeline(fake: XFake) -> None:
    x = connector(fake)
    target = x.publish(post("the very first"))
    later = [{**fake.posts[0], "id": str(i), "text": f"later {i}"} for i in range(100)]
    with fake.lock:
        fake.posts.extend(later)
    assert x.lookup(post("the very first")) == target.ref
    pages = [r for r in fake.requests if r.method == "GET" and r.path.endswith("/tweets")]
    assert len(pages) == 2
    assert pages[1].query["pagination_token"] == ["100"]


def test_lookup_is_unavailable_where_the_api_plan_forbids_timelines(fake: XFake) -> None:
    fake.timeline_forbidden = True
    with pytest.raises(LookupUnavailable):
        connector(fake).lookup(post())


# -- secrets ------------------------------------------------------------------------------

CANARIES = {
    "consumer_key": "CANARY-ck-0a1b2c",
    "consumer_secret": "CANARY-cs-3d4e5f",
    "access_token": "CANARY-at-6a7b8c",
    "access_token_secret": "CANARY-ats-9d0e1f",
}


def test_secrets_never_reach_logs_or_errors(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    capture_everything(caplog)
    seen: list[object] = []
    fake = XFake(
        consumer_key=CANARIES["consumer_key"],
        consumer_secret=CANARIES["consumer_secret"],
        access_token=CANARIES["access_token"],
        access_token_secret=CANARIES["access_token_secret"],
    )
    with fake:
        fake.echo_credentials = True  # every error quotes the Authorization header
        fake.oauth2_access.add("CANARY-bearer")
        x = connector(fake, credentials=CANARIES, timeout=IMPATIENT)
        bearer = connector(fake, credentials={"oauth2_access_token": "CANARY-bearer"})
        seen += [x.publish(post("ok", media=images(tmp_path, 1))), bearer.publish(post("b"))]
        seen += [x.check(), bearer.check(), x.lookup(post("ok"))]
        for status, body in [
            (429, problem(429, "Too Many Requests", "Too Many Requests")),
            (500, "oops"),
            (403, problem(403, "Forbidden", DUPLICATE)),
            (400, problem(400, "Bad Request", "bad")),
        ]:
            fake.respond(status, body, path="/2/tweets")
            with pytest.raises(PublishError) as caught:
                x.publish(post())
            seen.append(caught.value)
        fake.inject(Fault("hang_after", seconds=HANG, method="POST", path="/2/tweets"))
        with pytest.raises(Ambiguous) as ambiguous:
            x.publish(post("slow"))
        seen.append(ambiguous.value)
        fake.revoke()
        for revoked in (x, bearer):
            with pytest.raises(AuthFailed) as refused:
                revoked.publish(post())
            seen.append(refused.value)
        seen += [x.check(), bearer.check()]
    for secret in [*CANARIES.values(), "CANARY-bearer"]:
        assert_secret_absent(secret, caplog, seen, requests_logged="/2/tweets")
    assert all(secret not in repr(x) for secret in CANARIES.values())


def test_posts_are_sent_exactly_as_written(fake: XFake) -> None:
    texts = ['Ça va? Ünïcödé & <tags> "quotes"', "emoji 👩🏽‍💻 and CJK 日本語", "line\nbreak"]
    x = connector(fake, credentials=OAUTH1)
    for index, text in enumerate(texts):
        x.publish(Post(f"k{index}", text, datetime.now(UTC)))
    assert [p["text"] for p in fake.posts] == texts
