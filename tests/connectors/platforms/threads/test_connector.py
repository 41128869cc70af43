from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import (
    Ambiguous,
    LookupUnavailable,
    PlatformRef,
    Rejected,
    RetryLater,
)
from connectors.fakes.server import Fault
from connectors.platforms.threads.connector import DEFAULT_VERSION, ThreadsConnector
from connectors.platforms.threads.fake import TOKEN, USER, ThreadsFake
from tests.connectors.social import (
    HANG,
    IMPATIENT,
    Connectors,
    images,
    post,
)

CANARY = "THcanaryThreadsSecretToken"
V = DEFAULT_VERSION
CDN = "https://cdn.example.org/sayno"

connector = Connectors(
    ThreadsConnector,
    name="threads-main",
    platform="threads",
    credentials={"access_token": TOKEN},
    options={"user_id": USER, "media_base_url": CDN},
)


@pytest.fixture
def fake() -> Iterator[ThreadsFake]:
    with ThreadsFake() as fake:
        yield fake


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ThreadsConnector, "ready_interval", 0.0)


def steps(fake: ThreadsFake) -> list[tuple[str, str, dict[str, list[str]]]]:
    return [
        (r.method, r.path, {k: v for k, v in r.query.items() if k != "access_token"})
        for r in fake.requests
    ]


def test_a_text_post_is_a_container_then_a_publish(fake: ThreadsFake) -> None:
    published = connector(fake).publish(post("Hello #SayNo", link="https://example.org/sayno"))

    container = next(iter(fake.containers))
    media = fake.posts[-1]["id"]
    assert steps(fake) == [
        (
            "POST",
            f"/{V}/{USER}/threads",
            {
                "text": ["Hello #SayNo"],
                "media_type": ["TEXT"],
                "link_attachment": ["https://example.org/sayno"],
            },
        ),
        ("GET", f"/{V}/{container}", {"fields": ["status,error_message"]}),
        ("POST", f"/{V}/{USER}/threads_publish", {"creation_id": [container]}),
        ("GET", f"/{V}/{media}", {"fields": ["permalink"]}),
    ]
    assert all(r.query["access_token"] == [TOKEN] for r in fake.requests)
    assert published.ref == PlatformRef(
        media, fake.posts[-1]["permalink"], {"container": container}
    )


def test_one_image_is_fetched_from_the_media_address(fake: ThreadsFake, tmp_path: Path) -> None:
    media = images(tmp_path, 1)
    connector(fake).publish(post("Card", media=media))
    assert fake.requests[0].query | {"access_token": []} == {
        "text": ["Card"],
        "media_type": ["IMAGE"],
        "image_url": [f"{CDN}/card-0.png"],
        "alt_text": [media[0].alt],
        "access_token": [],
    }
    assert fake.posts[-1]["media_type"] == "IMAGE"


def test_several_images_make_a_carousel(fake: ThreadsFake, tmp_path: Path) -> None:
    media = images(tmp_path, 3)
    connector(fake).publish(post("Three", media=media))

    items = [r.query for r in fake.requests[:3]]
    assert [q["is_carousel_item"] for q in items] == [["true"]] * 3
    assert [q["image_url"] for q in items] == [[f"{CDN}/card-{i}.png"] for i in range(3)]
    carousel = fake.requests[3].query
    assert carousel["media_type"] == ["CAROUSEL"]
    assert carousel["children"] == [",".join(list(fake.containers)[:3])]
    assert [c["alt_text"] for c in fake.posts[-1]["children"]] == [m.alt for m in media]


def test_media_needs_a_public_address(fake: ThreadsFake, tmp_path: Path) -> None:
    with pytest.raises(Rejected, match="media_base_url"):
        connector(fake, media_base_url="").publish(post(media=images(tmp_path, 1)))
    assert fake.requests == []


def test_a_thread_is_a_chain_of_replies(fake: ThreadsFake) -> None:
    th = connector(fake)
    first = th.publish(post("1/ Tips", key="k/1"))
    second = th.publish(post("2/ More", key="k/2", reply_to=first.ref, thread_root=first.ref))
    th.publish(post("3/ End", key="k/3", reply_to=second.ref, thread_root=first.ref))
    assert [p["reply_to"] for p in fake.posts] == [None, first.ref.id, second.ref.id]


def test_a_container_still_processing_is_waited_for(fake: ThreadsFake, tmp_path: Path) -> None:
    fake.processing_reads = 2
    connector(fake).publish(post(media=images(tmp_path, 1)))
    reads = [r for r in fake.requests if r.method == "GET" and "status" in str(r.query)]
    assert len(reads) == 3
    assert len(fake.posts) == 1


def test_a_slow_container_is_resumed_on_the_next_attempt(
    fake: ThreadsFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ThreadsConnector, "ready_checks", 2)
    fake.processing_reads = 3
    th = connector(fake, state_dir=str(tmp_path / "state"))
    with pytest.raises(RetryLater, match="still preparing"):
        th.publish(post(media=images(tmp_path, 1)))
    assert fake.posts == []
    th.publish(post(media=images(tmp_path, 1)))
    assert len(fake.containers) == 1 and len(fake.posts) == 1


def test_a_container_that_fails_is_rejected(fake: ThreadsFake, tmp_path: Path) -> None:
    fake.failing_urls.add(f"{CDN}/card-0.png")
    with pytest.raises(Rejected, match="FAILED_DOWNLOADING_IMAGE"):
        connector(fake).publish(post(media=images(tmp_path, 1)))
    assert fake.posts == []


def test_media_not_found_at_publish_is_retried(fake: ThreadsFake) -> None:
    fake.respond(
        400,
        {"error": {"message": "Media Not Found", "code": 24, "error_subcode": 4279009}},
        path="threads_publish",
    )
    th = connector(fake)
    with pytest.raises(RetryLater) as caught:
        th.publish(post())
    assert caught.value.code == "24/4279009"
    th.publish(post())
    assert len(fake.containers) == 1 and len(fake.posts) == 1


def test_a_crash_after_publishing_is_recovered_from_the_container(
    fake: ThreadsFake, tmp_path: Path
) -> None:
    state = str(tmp_path / "state")
    fake.inject(Fault("hang_after", seconds=HANG, path="threads_publish"))
    with pytest.raises(Ambiguous):
        connector(fake, timeout=IMPATIENT, state_dir=state).publish(post(due=datetime.now(UTC)))
    assert len(fake.posts) == 1

    restarted = connector(fake, state_dir=state)  # a new process: only the file remembers
    found = restarted.lookup(post(due=datetime.now(UTC)))
    assert found is not None and found.id == fake.posts[0]["id"]
    again = connector(fake, state_dir=state).publish(post())
    assert again.ref == found and again.note == "published by an earlier attempt"
    assert len(fake.posts) == 1
    saved = json.loads((tmp_path / "state" / "threads-threads-main.json").read_text())
    assert saved[post().key]["media"] == found.id


def test_a_publish_that_never_arrived_reuses_its_container(
    fake: ThreadsFake, tmp_path: Path
) -> None:
    state = str(tmp_path / "state")
    fake.inject(Fault("drop_before", path="threads_publish"))
    with pytest.raises(Ambiguous):
        connector(fake, state_dir=state).publish(post())
    restarted = connector(fake, state_dir=state)
    assert restarted.lookup(post()) is None
    restarted.publish(post())
    assert len(fake.containers) == 1 and len(fake.posts) == 1


def test_lookup_without_a_record(fake: ThreadsFake, tmp_path: Path) -> None:
    assert connector(fake, state_dir=str(tmp_path)).lookup(post(due=datetime.now(UTC))) is None
    with pytest.raises(LookupUnavailable, match="state_dir"):
        connector(fake).lookup(post())


def test_a_timed_out_container_publishes_nothing(fake: ThreadsFake) -> None:
    fake.inject(Fault("hang_after", seconds=HANG, path=f"{USER}/threads$"))
    with pytest.raises(RetryLater, match="before anything was published"):
        connector(fake, timeout=IMPATIENT).publish(post())
    assert fake.posts == []


def test_over_the_quota_waits(fake: ThreadsFake) -> None:
    fake.quota_total = 1
    th = connector(fake)
    th.publish(post("one", key="k/1"))
    with pytest.raises(RetryLater) as caught:
        th.publish(post("two", key="k/2"))
    assert caught.value.code == "4"
    report = th.check()
    assert not report.ok and "posts per 24 h" in report.problems[0]


def test_a_server_error_to_a_publish_is_retried_where_the_container_is_on_file(
    fake: ThreadsFake, tmp_path: Path
) -> None:
    """Threads published, then answered 500: the container on file makes the next attempt
    find the post instead of making a second one."""
    state = str(tmp_path / "state")
    error = {"error": {"code": 2, "message": "Service temporarily unavailable"}}
    fake.fail_after(500, error, path="threads_publish")
    with pytest.raises(RetryLater):
        connector(fake, state_dir=state).publish(post(due=datetime.now(UTC)))
    again = connector(fake, state_dir=state).publish(post(due=datetime.now(UTC)))
    assert again.note == "published by an earlier attempt"
    assert len(fake.posts) == 1


def test_a_server_error_to_a_publish_is_ambiguous_without_a_state_dir(fake: ThreadsFake) -> None:
    """A restart would forget the container: the next attempt could make a second post."""
    fake.fail_after(500, {"error": {"code": 2, "message": "later"}}, path="threads_publish")
    with pytest.raises(Ambiguous):
        connector(fake).publish(post())
    assert len(fake.posts) == 1


def test_text_over_the_limit_is_rejected(fake: ThreadsFake) -> None:
    with pytest.raises(Rejected, match="500 characters"):
        connector(fake).publish(post("x" * 501))
    assert fake.posts == []


def test_check_reports_the_quota(fake: ThreadsFake) -> None:
    th = connector(fake)
    th.publish(post())
    report = th.check()
    assert report.ok and report.account == "@sayno_europe"
    assert [(b.scope, b.limit, b.remaining) for b in report.budgets] == [
        ("posts per 24 h", 250, 249),
        ("replies per 24 h", 1000, 1000),
    ]
    assert fake.requests[-1].query["fields"] == [
        "quota_usage,config,reply_quota_usage,reply_config"
    ]


def test_the_state_file_never_holds_the_token(tmp_path: Path) -> None:
    """What is kept for recovery names containers, never the token (logs and errors are the
    contract suite's: tests/connectors/contract/test_secrets.py)."""
    with ThreadsFake(token=CANARY) as fake:
        th = connector(fake, token=CANARY, timeout=IMPATIENT, state_dir=str(tmp_path / "s"))
        th.publish(post(media=images(tmp_path, 2)))
        fake.inject(Fault("hang_after", seconds=HANG, path="threads_publish"))
        with pytest.raises(Ambiguous):
            th.publish(post("again", key="k/1"))
    assert CANARY not in (tmp_path / "s" / "threads-threads-main.json").read_text()


def test_nothing_is_published_when_the_container_cannot_be_recorded(
    fake: ThreadsFake, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    with pytest.raises(RetryLater, match="state file"):
        connector(fake, state_dir=str(blocked)).publish(post())
    assert fake.posts == []
