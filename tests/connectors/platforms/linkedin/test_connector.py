from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import (
    Ambiguous,
    AuthFailed,
    Duplicate,
    LookupUnavailable,
    Rejected,
    RetryLater,
)
from connectors.fakes.server import Fault
from connectors.platforms.linkedin.connector import DEFAULT_VERSION, LinkedInConnector, little_text
from connectors.platforms.linkedin.fake import (
    MEMBER,
    ORGANIZATION,
    TOKEN,
    LinkedInFake,
    render_little,
)
from tests.connectors.social import (
    HANG,
    IMPATIENT,
    Connectors,
    images,
    post,
)

TRICKY = st.text(
    st.one_of(
        st.sampled_from(list("\\|{}@[]()<>#*_~ \n.,!1aZé日😀")),
        st.characters(exclude_categories=["Cs"]),
    ),
    max_size=80,
)


connector = Connectors(
    LinkedInConnector,
    name="linkedin-main",
    platform="linkedin",
    credentials={"access_token": TOKEN},
    options={"author": ORGANIZATION},
)


@pytest.fixture
def fake() -> Iterator[LinkedInFake]:
    with LinkedInFake() as fake:
        yield fake


# -- little text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "commentary"),
    [
        ("#SayNo now", "{hashtag|\\#|SayNo} now"),
        ("Vive #SécuritéEnLigne!", "Vive {hashtag|\\#|SécuritéEnLigne}!"),
        ("C# and #1 and #Say_No", "C\\# and \\#1 and \\#Say\\_No"),
        ("a (b) [c] {d} <e> @f *g* _h_ ~i~ |j| \\k", None),
        ("##double", "\\#{hashtag|\\#|double}"),
        ("https://example.org/a_(b)?utm_source=li#top", None),
    ],
)
def test_little_text_escapes_all_but_hashtags(text: str, commentary: str | None) -> None:
    escaped = little_text(text)
    if commentary is not None:
        assert escaped == commentary
    assert render_little(escaped) == text


def test_the_fake_cuts_unescaped_text_as_linkedin_does() -> None:
    assert render_little("Tips (and tricks)") == "Tips "
    assert render_little("Tips \\(and tricks\\)") == "Tips (and tricks)"


@settings(max_examples=400)
@given(TRICKY)
def test_any_text_survives_the_little_format(text: str) -> None:
    assert render_little(little_text(text)) == text


_unique = itertools.count()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(TRICKY)
def test_any_text_is_published_whole(fake: LinkedInFake, text: str) -> None:
    text = f"{next(_unique)} {text}"
    connector(fake).publish(post(text))
    assert fake.posts[-1]["text"] == text


# -- publishing -------------------------------------------------------------------------


def test_a_text_post_is_exactly_as_documented(fake: LinkedInFake) -> None:
    published = connector(fake).publish(post("Hello (world) #SayNo"))

    request = fake.requests[-1]
    assert (request.method, request.path) == ("POST", "/rest/posts")
    assert request.header("authorization") == f"Bearer {TOKEN}"
    assert request.header("linkedin-version") == DEFAULT_VERSION
    assert request.header("x-restli-protocol-version") == "2.0.0"
    assert request.json() == {
        "author": ORGANIZATION,
        "commentary": "Hello \\(world\\) {hashtag|\\#|SayNo}",
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    urn = fake.posts[-1]["urn"]
    assert published.ref.id == urn
    assert published.ref.url == f"https://www.linkedin.com/feed/update/{urn}/"
    assert fake.posts[-1]["text"] == "Hello (world) #SayNo"


def test_the_api_version_is_an_option(fake: LinkedInFake) -> None:
    connector(fake, linkedin_version="202611").publish(post())
    assert fake.requests[-1].header("linkedin-version") == "202611"


def test_a_retired_version_holds_the_channel(fake: LinkedInFake) -> None:
    with pytest.raises(AuthFailed, match="linkedin_version") as caught:
        connector(fake, linkedin_version="202401").publish(post())
    assert caught.value.status == 426


def test_one_image_is_uploaded_then_attached(fake: LinkedInFake, tmp_path: Path) -> None:
    media = images(tmp_path, 1)
    connector(fake).publish(post("With a card", media=media))

    init, put, create = fake.requests
    assert (init.method, init.path, init.query) == (
        "POST",
        "/rest/images",
        {"action": ["initializeUpload"]},
    )
    assert init.json() == {"initializeUploadRequest": {"owner": ORGANIZATION}}
    assert put.method == "PUT" and put.path.startswith("/dms-uploads/")
    assert put.body == media[0].path.read_bytes()
    image = next(iter(fake.images))
    assert create.json()["content"] == {"media": {"id": image, "altText": media[0].alt}}


def test_several_images_make_a_multi_image_post(fake: LinkedInFake, tmp_path: Path) -> None:
    media = images(tmp_path, 3)
    connector(fake).publish(post("Three cards", media=media))
    assert fake.requests[-1].json()["content"] == {
        "multiImage": {
            "images": [
                {"id": image, "altText": m.alt} for image, m in zip(fake.images, media, strict=True)
            ]
        }
    }
    assert all(fake.images.values())


def test_a_link_becomes_an_article(fake: LinkedInFake) -> None:
    connector(fake).publish(
        post(
            "Read the guide https://example.org/sayno\nMore soon", link="https://example.org/sayno"
        )
    )
    assert fake.requests[-1].json()["content"] == {
        "article": {"source": "https://example.org/sayno", "title": "Read the guide"}
    }


def test_an_upload_address_outside_linkedin_gets_no_token(
    fake: LinkedInFake, tmp_path: Path
) -> None:
    fake.respond(
        200,
        {"value": {"uploadUrl": "https://evil.example/upload", "image": "urn:li:image:X"}},
        path="/rest/images",
    )
    with pytest.raises(Rejected, match=r"evil\.example"):
        connector(fake).publish(post(media=images(tmp_path, 1)))
    assert len(fake.requests) == 1 and fake.posts == []


def test_an_upload_address_on_this_machine_is_trusted_when_the_api_is_too(
    fake: LinkedInFake, tmp_path: Path
) -> None:
    """A test server may name itself `localhost` while the channel says 127.0.0.1."""
    port = fake.base_url.rsplit(":", 1)[1]
    fake.images["urn:li:image:X"] = None
    fake.respond(
        200,
        {
            "value": {
                "uploadUrl": f"http://localhost:{port}/dms-uploads/X",
                "image": "urn:li:image:X",
            }
        },
        path="/rest/images",
    )
    connector(fake).publish(post(media=images(tmp_path, 1)))
    assert [(r.method, r.path) for r in fake.requests[1:]] == [
        ("PUT", "/dms-uploads/X"),
        ("POST", "/rest/posts"),
    ]


def test_any_success_with_the_post_id_is_a_success(fake: LinkedInFake) -> None:
    fake.respond(200, None, {"x-restli-id": "urn%3Ali%3Ashare%3A42"}, path="/rest/posts")
    assert connector(fake).publish(post()).ref.id == "urn:li:share:42"


def test_a_success_without_the_post_id_is_ambiguous(fake: LinkedInFake) -> None:
    """The post went out, but which one it is must be looked up, not assumed."""
    fake.respond(201, None, path="/rest/posts")
    with pytest.raises(Ambiguous, match="did not say its id"):
        connector(fake).publish(post())


def test_an_upload_that_times_out_publishes_nothing(fake: LinkedInFake, tmp_path: Path) -> None:
    fake.inject(Fault("hang_after", seconds=HANG, method="PUT"))
    with pytest.raises(RetryLater, match="before anything was published"):
        connector(fake, timeout=IMPATIENT).publish(post(media=images(tmp_path, 1)))
    assert fake.posts == []


def test_later_thread_parts_are_comments_on_the_first(fake: LinkedInFake) -> None:
    li = connector(fake)
    first = li.publish(post("1/ Tips #SayNo"))
    second = li.publish(post("2/ (more)", reply_to=first.ref, thread_root=first.ref))
    li.publish(post("3/ end", reply_to=second.ref, thread_root=first.ref))

    request = fake.requests[1]
    encoded = first.ref.id.replace(":", "%3A")
    assert (request.method, request.path) == ("POST", f"/rest/socialActions/{encoded}/comments")
    assert request.json() == {
        "actor": ORGANIZATION,
        "object": first.ref.id,
        "message": {"text": "2/ (more)"},
    }
    comment = fake.comments[0]
    assert second.ref.id == comment["commentUrn"]
    assert second.ref.url is not None and second.ref.url.startswith(first.ref.url or "")
    assert [c["object"] for c in fake.comments] == [first.ref.id, first.ref.id]
    assert len(fake.posts) == 1


def test_comments_without_partner_access_are_rejected(fake: LinkedInFake) -> None:
    li = connector(fake)
    first = li.publish(post("1/ Tips"))
    fake.comments_allowed = False
    with pytest.raises(Rejected, match="Community Management API") as caught:
        li.publish(post("2/ more", reply_to=first.ref, thread_root=first.ref))
    assert caught.value.status == 403


def test_media_on_a_later_part_is_rejected(fake: LinkedInFake, tmp_path: Path) -> None:
    li = connector(fake)
    first = li.publish(post("1/ Tips"))
    with pytest.raises(Rejected, match="text only"):
        li.publish(post("2/", media=images(tmp_path, 1), reply_to=first.ref, thread_root=first.ref))
    assert len(fake.requests) == 1


def test_a_duplicate_names_the_existing_post(fake: LinkedInFake) -> None:
    li = connector(fake)
    first = li.publish(post("Same words"))
    with pytest.raises(Duplicate) as caught:
        li.publish(post("Same words"))
    assert caught.value.existing == first.ref
    assert caught.value.status == 422
    assert len(fake.posts) == 1


def test_other_validation_errors_are_rejected(fake: LinkedInFake) -> None:
    fake.respond(
        422,
        {
            "status": 422,
            "message": "/commentary :: length exceeds 3000",
            "errorDetails": {"inputErrors": [{"code": "INVALID_VALUE"}]},
        },
    )
    with pytest.raises(Rejected, match="length exceeds"):
        connector(fake).publish(post())


def test_rate_limit_backs_off(fake: LinkedInFake) -> None:
    fake.answer(fake.throttle(datetime.now(UTC)))
    with pytest.raises(RetryLater, match="midnight UTC") as caught:
        connector(fake).publish(post())
    assert caught.value.retry_at is None  # LinkedIn sends no reset time: the scheduler backs off
    assert caught.value.code == "TOO_MANY_REQUESTS"
    fake.respond(429, {"status": 429, "message": "slow down"}, {"Retry-After": "120"})
    with pytest.raises(RetryLater) as again:
        connector(fake).publish(post())
    assert again.value.retry_at is not None
    assert again.value.retry_at > datetime.now(UTC) + timedelta(seconds=100)


def test_revoked_token_holds_the_channel(fake: LinkedInFake) -> None:
    fake.revoke()
    with pytest.raises(AuthFailed, match="60 days") as caught:
        connector(fake).publish(post())
    assert caught.value.status == 401


def test_missing_rights_hold_the_channel(fake: LinkedInFake) -> None:
    with pytest.raises(AuthFailed, match="w_organization_social") as caught:
        connector(fake, author="urn:li:organization:1").publish(post())
    assert caught.value.status == 403


# -- lookup and check -------------------------------------------------------------------


def test_lookup_finds_a_page_post_by_its_commentary(fake: LinkedInFake) -> None:
    li = connector(fake)
    now = datetime.now(UTC)
    assert li.lookup(post("Lost (maybe)", due=now)) is None
    published = li.publish(post("Lost (maybe)", due=now))
    assert li.lookup(post("Lost (maybe)", due=now)) == published.ref
    request = fake.requests[-1]
    assert request.query == {
        "author": [ORGANIZATION],
        "q": ["author"],
        "count": ["50"],
        "sortBy": ["LAST_MODIFIED"],
    }
    assert request.header("x-restli-method") == "FINDER"
    assert li.lookup(post("Lost (maybe)", due=now + timedelta(days=2))) is None


def test_lookup_gives_up_after_many_newer_posts(fake: LinkedInFake) -> None:
    li = connector(fake)
    now = datetime.now(UTC)
    for i in range(51):
        li.publish(post(f"post {i}", due=now))
    with pytest.raises(LookupUnavailable, match="more than 50"):
        li.lookup(post("never sent", due=now - timedelta(minutes=5)))


def test_lookup_is_unavailable_for_members_and_comments(fake: LinkedInFake) -> None:
    with pytest.raises(LookupUnavailable, match="member"):
        connector(fake, author=MEMBER).lookup(post())
    first = connector(fake).publish(post("1/"))
    with pytest.raises(LookupUnavailable):
        connector(fake).lookup(post("2/", reply_to=first.ref, thread_root=first.ref))


def test_check_names_the_author(fake: LinkedInFake) -> None:
    report = connector(fake).check()
    assert report.ok and report.account == "SayNo Europe"
    assert report.limits == {"max_length": 3000, "max_media": 20}
    report = connector(fake, author=MEMBER).check()
    assert report.ok and report.account == "Ada Campaigner"
    fake.revoke()
    report = connector(fake).check()
    assert not report.ok and "60 days" in report.problems[0]
    assert fake.posts == []
