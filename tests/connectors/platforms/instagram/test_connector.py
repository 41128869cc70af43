from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import (
    Ambiguous,
    AuthFailed,
    MediaFile,
    PlatformRef,
    Rejected,
    RetryLater,
)
from connectors.fakes.server import Fault, Made
from connectors.platforms.instagram.connector import DEFAULT_VERSION, InstagramConnector
from connectors.platforms.instagram.fake import CDN, TOKEN, USER, InstagramFake
from tests.connectors.social import (
    HANG,
    IMPATIENT,
    Connectors,
    post,
)

V = DEFAULT_VERSION
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32

connector = Connectors(
    InstagramConnector,
    name="instagram-main",
    platform="instagram",
    credentials={"access_token": TOKEN},
    options={"user_id": USER, "media_base_url": CDN},
)


@pytest.fixture
def fake() -> Iterator[InstagramFake]:
    with InstagramFake() as fake:
        yield fake


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(InstagramConnector, "ready_interval", 0.0)


def photos(tmp_path: Path, count: int) -> list[MediaFile]:
    files = []
    for i in range(count):
        path = tmp_path / f"card-{i}.jpg"
        path.write_bytes(JPEG + bytes([i]))
        files.append(MediaFile(path, f"Card {i}: a hand saying no", "image/jpeg"))
    return files


def clip(tmp_path: Path, name: str = "clip.mp4", cover: bool = False) -> MediaFile:
    path = tmp_path / name
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    thumbnail = tmp_path / "cover.jpg" if cover else None
    return MediaFile(path, "A girl says no", "video/mp4", thumbnail=thumbnail)


def calls(fake: InstagramFake) -> list[tuple[str, str, dict[str, list[str]]]]:
    return [
        (r.method, r.path, {k: v for k, v in r.query.items() if k != "access_token"})
        for r in fake.requests
    ]


def graph_error(code: int, subcode: int | None = None) -> dict[str, object]:
    error: dict[str, object] = {"code": code, "message": "as Instagram says"}
    return {"error": error | ({"error_subcode": subcode} if subcode else {})}


# -- publishing ---------------------------------------------------------------------------


def test_one_photo_is_a_container_then_a_publish(fake: InstagramFake, tmp_path: Path) -> None:
    media = photos(tmp_path, 1)
    published = connector(fake).publish(post("Card #SayNo", media=media))

    container = next(iter(fake.containers))
    made = fake.posts[-1]["id"]
    assert calls(fake) == [
        ("GET", f"/{V}/{USER}/content_publishing_limit", {"fields": ["quota_usage,config"]}),
        (
            "POST",
            f"/{V}/{USER}/media",
            {
                "image_url": [f"{CDN}/card-0.jpg"],
                "alt_text": [media[0].alt],
                "caption": ["Card #SayNo"],
            },
        ),
        ("GET", f"/{V}/{container}", {"fields": ["status_code,status"]}),
        ("POST", f"/{V}/{USER}/media_publish", {"creation_id": [container]}),
        ("GET", f"/{V}/{made}", {"fields": ["permalink"]}),
    ]
    assert all(r.query["access_token"] == [TOKEN] for r in fake.requests)
    assert published.ref == PlatformRef(made, fake.posts[-1]["permalink"], {"container": container})
    assert fake.published() == [Made("Card #SayNo", ("image/jpeg",), None)]


def test_several_photos_make_a_carousel_with_one_caption(
    fake: InstagramFake, tmp_path: Path
) -> None:
    media = photos(tmp_path, 3)
    connector(fake).publish(post("Three", media=media))

    items = [r.query for r in fake.requests if r.path.endswith("/media")][:3]
    assert [q["is_carousel_item"] for q in items] == [["true"]] * 3
    assert [q["alt_text"] for q in items] == [[m.alt] for m in media]
    assert all("caption" not in q for q in items)
    assert fake.posts[-1]["media_type"] == "CAROUSEL"
    assert fake.posts[-1]["params"]["caption"] == "Three"
    assert fake.posts[-1]["params"]["children"] == ",".join(list(fake.containers)[:3])


def test_a_video_alone_is_a_reel_with_its_cover_and_without_alt_text(
    fake: InstagramFake, tmp_path: Path
) -> None:
    connector(fake).publish(post("Watch", media=[clip(tmp_path, cover=True)]))
    assert fake.posts[-1]["params"] == {
        "media_type": "REELS",
        "video_url": f"{CDN}/clip.mp4",
        "share_to_feed": "true",
        "cover_url": f"{CDN}/cover.jpg",
        "caption": "Watch",
    }
    assert fake.published() == [Made("Watch", ("video/mp4",), None)]


def test_a_cover_that_is_not_a_jpeg_is_left_to_instagram(
    fake: InstagramFake, tmp_path: Path
) -> None:
    reel = clip(tmp_path)
    png = MediaFile(reel.path, reel.alt, reel.mime, thumbnail=tmp_path / "cover.png")
    connector(fake).publish(post("Watch", media=[png]))
    assert "cover_url" not in fake.posts[-1]["params"]


def test_a_carousel_waits_for_its_videos_before_it_is_made(
    fake: InstagramFake, tmp_path: Path
) -> None:
    fake.processing_reads = 2
    media = [*photos(tmp_path, 1), clip(tmp_path, "clip.mov")]
    connector(fake).publish(post("Mixed", media=media))
    children = fake.posts[-1]["children"]
    assert children[1] == {
        "media_type": "VIDEO",
        "video_url": f"{CDN}/clip.mov",
        "is_carousel_item": "true",
    }
    assert fake.published() == [Made("Mixed", ("image/jpeg", "video/quicktime"), None)]


def test_a_post_without_media_is_refused_before_anything_is_sent(fake: InstagramFake) -> None:
    with pytest.raises(Rejected, match="need an image or a video"):
        connector(fake).publish(post())
    assert fake.requests == []


def test_a_png_is_refused_and_nothing_is_made(fake: InstagramFake, tmp_path: Path) -> None:
    png = tmp_path / "card.png"
    png.write_bytes(b"\x89PNG")
    with pytest.raises(Rejected, match="JPEG images"):
        connector(fake).publish(post(media=[MediaFile(png, "alt", "image/png")]))
    assert fake.containers == {}


def test_media_needs_a_public_address(fake: InstagramFake, tmp_path: Path) -> None:
    with pytest.raises(Rejected, match="media_base_url"):
        connector(fake, media_base_url="").publish(post(media=photos(tmp_path, 1)))
    assert fake.containers == {}


def test_a_file_instagram_cannot_download_is_refused_in_words(
    fake: InstagramFake, tmp_path: Path
) -> None:
    fake.failing_urls.add(f"{CDN}/card-0.jpg")
    with pytest.raises(Rejected, match="could not download a file") as caught:
        connector(fake).publish(post(media=photos(tmp_path, 1)))
    assert caught.value.code == "9004/2207052"


def test_a_video_instagram_cannot_prepare_is_rejected(fake: InstagramFake, tmp_path: Path) -> None:
    fake.failing_urls.add(f"{CDN}/clip.mp4")
    with pytest.raises(Rejected, match="could not download a file"):
        connector(fake).publish(post(media=[clip(tmp_path)]))
    assert fake.posts == []


# -- containers: waiting, recovery, never twice -----------------------------------------------


def test_a_video_still_processing_is_waited_for(fake: InstagramFake, tmp_path: Path) -> None:
    fake.processing_reads = 2
    connector(fake).publish(post(media=[clip(tmp_path)]))
    reads = [r for r in fake.requests if r.query.get("fields") == ["status_code,status"]]
    assert len(reads) == 3
    assert len(fake.posts) == 1


def test_a_slow_video_is_resumed_on_the_next_attempt(
    fake: InstagramFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(InstagramConnector, "ready_checks", 2)
    fake.processing_reads = 3
    ig = connector(fake, state_dir=str(tmp_path / "state"))
    with pytest.raises(RetryLater, match="still preparing"):
        ig.publish(post(media=[clip(tmp_path)]))
    assert fake.posts == []
    ig.publish(post(media=[clip(tmp_path)]))
    assert len(fake.containers) == 1 and len(fake.posts) == 1


def test_not_ready_at_publish_is_retried_with_the_same_container(
    fake: InstagramFake, tmp_path: Path
) -> None:
    fake.respond(400, graph_error(9007, 2207027), path="media_publish")
    ig = connector(fake)
    with pytest.raises(RetryLater, match="not finished preparing") as caught:
        ig.publish(post(media=photos(tmp_path, 1)))
    assert caught.value.code == "9007/2207027"
    ig.publish(post(media=photos(tmp_path, 1)))
    assert len(fake.containers) == 1 and len(fake.posts) == 1


def test_a_crash_after_publishing_is_recovered_from_the_container(
    fake: InstagramFake, tmp_path: Path
) -> None:
    state = str(tmp_path / "state")
    media = photos(tmp_path, 1)
    fake.inject(Fault("hang_after", seconds=HANG, path="media_publish"))
    with pytest.raises(Ambiguous):
        connector(fake, timeout=IMPATIENT, state_dir=state).publish(
            post(media=media, due=datetime.now(UTC))
        )
    assert len(fake.posts) == 1

    restarted = connector(fake, state_dir=state)  # a new process: only the file remembers
    found = restarted.lookup(post(media=media, due=datetime.now(UTC)))
    assert found is not None and found.id == fake.posts[0]["id"]
    again = connector(fake, state_dir=state).publish(post(media=media))
    assert again.ref == found and again.note == "published by an earlier attempt"
    assert len(fake.posts) == 1
    saved = json.loads((tmp_path / "state" / "instagram-instagram-main.json").read_text())
    assert saved[post().key]["media"] == found.id


def test_a_publish_that_never_arrived_reuses_its_container(
    fake: InstagramFake, tmp_path: Path
) -> None:
    state = str(tmp_path / "state")
    media = photos(tmp_path, 1)
    fake.inject(Fault("drop_before", path="media_publish"))
    with pytest.raises(Ambiguous):
        connector(fake, state_dir=state).publish(post(media=media))
    restarted = connector(fake, state_dir=state)
    assert restarted.lookup(post(media=media)) is None
    restarted.publish(post(media=media))
    assert len(fake.containers) == 1 and len(fake.posts) == 1


def test_a_server_error_to_a_publish_is_retried_where_the_container_is_on_file(
    fake: InstagramFake, tmp_path: Path
) -> None:
    state = str(tmp_path / "state")
    media = photos(tmp_path, 1)
    fake.fail_after(400, graph_error(-1, 2207001), path="media_publish")
    with pytest.raises(RetryLater):
        connector(fake, state_dir=state).publish(post(media=media, due=datetime.now(UTC)))
    again = connector(fake, state_dir=state).publish(post(media=media, due=datetime.now(UTC)))
    assert again.note == "published by an earlier attempt"
    assert len(fake.posts) == 1


def test_a_server_error_to_a_publish_is_ambiguous_without_a_state_dir(
    fake: InstagramFake, tmp_path: Path
) -> None:
    fake.fail_after(400, graph_error(-1, 2207001), path="media_publish")
    with pytest.raises(Ambiguous):
        connector(fake).publish(post(media=photos(tmp_path, 1)))
    assert len(fake.posts) == 1


def test_a_server_error_to_a_container_is_retried(fake: InstagramFake, tmp_path: Path) -> None:
    fake.respond(400, graph_error(-1, 2207032), path=f"{USER}/media$")
    with pytest.raises(RetryLater):
        connector(fake).publish(post(media=photos(tmp_path, 1)))
    assert fake.posts == []


def test_nothing_is_published_when_the_container_cannot_be_recorded(
    fake: InstagramFake, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    with pytest.raises(RetryLater, match="Instagram state file"):
        connector(fake, state_dir=str(blocked)).publish(post(media=photos(tmp_path, 1)))
    assert fake.posts == []


# -- the publishing limit, throttling, errors ---------------------------------------------------


def test_a_used_up_publishing_limit_waits_before_any_container(
    fake: InstagramFake, tmp_path: Path
) -> None:
    fake.quota_total = 1
    ig = connector(fake)
    ig.publish(post("one", key="k/1", media=photos(tmp_path, 1)))
    containers = len(fake.containers)
    before = datetime.now(UTC)
    with pytest.raises(RetryLater, match="1 Instagram posts") as caught:
        ig.publish(post("two", key="k/2", media=photos(tmp_path, 1)))
    assert caught.value.retry_at is not None and caught.value.retry_at >= before + timedelta(
        hours=1
    )
    assert len(fake.containers) == containers
    report = ig.check()
    assert not report.ok and "1 posts of the last 24 h" in report.problems[0]


def test_the_limit_met_at_publish_waits_an_hour(fake: InstagramFake, tmp_path: Path) -> None:
    fake.respond(400, graph_error(9, 2207042), path="media_publish")
    with pytest.raises(RetryLater, match="limit of posts per 24 hours") as caught:
        connector(fake).publish(post(media=photos(tmp_path, 1)))
    assert caught.value.retry_at is not None
    assert caught.value.retry_at > datetime.now(UTC) + timedelta(minutes=59)


def test_throttling_waits_for_the_time_the_headers_give(
    fake: InstagramFake, tmp_path: Path
) -> None:
    until = datetime.now(UTC) + timedelta(minutes=17)
    answer = fake.throttle(until)
    fake.respond(answer.status, answer.body, answer.headers, method=None)
    with pytest.raises(RetryLater) as caught:
        connector(fake).publish(post(media=photos(tmp_path, 1)))
    assert caught.value.code == "4"
    assert caught.value.retry_at is not None and caught.value.retry_at >= until
    assert fake.containers == {}


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80002])
def test_rate_codes_are_retried_even_for_a_publish(
    fake: InstagramFake, tmp_path: Path, code: int
) -> None:
    fake.respond(400, graph_error(code), path="media_publish")
    with pytest.raises(RetryLater):
        connector(fake).publish(post(media=photos(tmp_path, 1)))
    assert fake.posts == []


def test_suspected_spam_is_rejected_not_waited_for(fake: InstagramFake, tmp_path: Path) -> None:
    fake.respond(400, graph_error(4, 2207051), path="media_publish")
    with pytest.raises(Rejected, match="spam"):
        connector(fake).publish(post(media=photos(tmp_path, 1)))


def test_a_restricted_account_holds_the_channel(fake: InstagramFake, tmp_path: Path) -> None:
    fake.respond(400, graph_error(25, 2207050), path=f"{USER}/media$")
    with pytest.raises(AuthFailed, match="sign in to the Instagram app"):
        connector(fake).publish(post(media=photos(tmp_path, 1)))


def test_a_caption_over_the_limit_is_refused_in_words(fake: InstagramFake, tmp_path: Path) -> None:
    with pytest.raises(Rejected, match="caption is too long"):
        connector(fake).publish(post("x" * 2201, media=photos(tmp_path, 1)))
    assert fake.posts == []


# -- threads: comments on the first post --------------------------------------------------------


def test_a_thread_goes_on_as_comments_on_the_first_post(
    fake: InstagramFake, tmp_path: Path
) -> None:
    ig = connector(fake)
    first = ig.publish(post("1/ Tips", key="k/1", media=photos(tmp_path, 1)))
    second = ig.publish(post("2/ More", key="k/2", reply_to=first.ref, thread_root=first.ref))
    ig.publish(post("3/ End", key="k/3", reply_to=second.ref, thread_root=first.ref))
    assert [(c["media"], c["text"]) for c in fake.comments] == [
        (first.ref.id, "2/ More"),
        (first.ref.id, "3/ End"),
    ]
    assert second.ref.url == first.ref.url
    assert [m.reply_to for m in fake.published()] == [None, first.ref.id, first.ref.id]


def test_a_comment_is_looked_up_among_the_first_posts_comments(
    fake: InstagramFake, tmp_path: Path
) -> None:
    ig = connector(fake)
    first = ig.publish(post("1/ Tips", key="k/1", media=photos(tmp_path, 1)))
    part = post("2/ More", key="k/2", reply_to=first.ref, thread_root=first.ref)
    assert ig.lookup(part) is None
    made = ig.publish(part)
    assert ig.lookup(part) == made.ref


def test_a_comment_needs_its_permission(fake: InstagramFake, tmp_path: Path) -> None:
    ig = connector(fake)
    first = ig.publish(post("1/ Tips", key="k/1", media=photos(tmp_path, 1)))
    fake.comments_allowed = False
    with pytest.raises(Rejected, match="instagram_manage_comments"):
        ig.publish(post("2/", key="k/2", reply_to=first.ref, thread_root=first.ref))


def test_a_comment_carries_no_media(fake: InstagramFake, tmp_path: Path) -> None:
    root = PlatformRef("17900000000000009")
    with pytest.raises(Rejected, match="text only"):
        connector(fake).publish(post(media=photos(tmp_path, 1), reply_to=root, thread_root=root))
    assert fake.requests == []


# -- check, figures, secrets ------------------------------------------------------------------


def test_check_reports_the_account_the_limit_and_the_usage(
    fake: InstagramFake, tmp_path: Path
) -> None:
    ig = connector(fake)
    ig.publish(post(media=photos(tmp_path, 1)))
    report = ig.check()
    assert report.ok and report.account == "@sayno_europe (professional account)"
    assert [(b.scope, b.limit, b.remaining) for b in report.budgets] == [
        ("posts per 24 h", 100, 99),
        ("app calls, % of the hourly limit", 100, 97),
        ("instagram calls, % of the business use case limit", 100, 97),
    ]
    assert report.limits == {"max_length": 2200, "max_media": 10, "alt_max": 1000}


def test_check_names_a_missing_permission(fake: InstagramFake) -> None:
    fake.permissions.discard("instagram_content_publish")
    report = connector(fake).check()
    assert not report.ok
    assert report.problems == ["the token lacks the instagram_content_publish permission"]


def test_check_with_a_revoked_token(fake: InstagramFake) -> None:
    fake.revoke()
    report = connector(fake).check()
    assert not report.ok and "190/460" in report.problems[0]


def test_figures_are_likes_and_comments(fake: InstagramFake, tmp_path: Path) -> None:
    ig = connector(fake)
    first = ig.publish(post("1/", key="k/1", media=photos(tmp_path, 1)))
    ig.publish(post("2/", key="k/2", reply_to=first.ref, thread_root=first.ref))
    fake.posts[0]["likes"] = 12
    figures = ig.figures(first.ref)
    assert (figures.likes, figures.replies) == (12, 1)


def test_the_fake_gives_a_channel_the_connector_posts_through(
    fake: InstagramFake, tmp_path: Path
) -> None:
    ig = InstagramConnector(fake.channel())
    ig.publish(post("Via the contract", media=photos(tmp_path, 1)))
    assert fake.published() == [Made("Via the contract", ("image/jpeg",), None)]
