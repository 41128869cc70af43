"""A post, a thread and each kind of media, on every platform: made once, as sent, in the
platform's way."""

from __future__ import annotations

from pathlib import Path

from connectors.base import Connector, MediaFile
from connectors.fakes.server import FakePlatform, Made
from connectors.platform import PlatformSpec
from tests.connectors.contract.samples import sample, stills
from tests.connectors.social import post


def types(media: tuple[MediaFile, ...]) -> tuple[str, ...]:
    return tuple(m.mime for m in media)


def test_a_post_is_made_once_as_sent(
    fake: FakePlatform, connector: Connector, required: tuple[MediaFile, ...]
) -> None:
    connector.publish(post("Contract: one post", media=required))
    assert fake.published() == [Made("Contract: one post", types(required))]


def test_a_thread_goes_out_in_the_platform_way(
    spec: PlatformSpec, fake: FakePlatform, connector: Connector, required: tuple[MediaFile, ...]
) -> None:
    first = connector.publish(post("Contract: part 1", key="contract/thread/en/c", media=required))
    rules = spec.rules
    # Separate posts on a platform that takes no text alone (TikTok) each carry their media.
    own = required if rules.media_required and rules.thread_style == "separate" else ()
    refs = [first.ref]
    for part in (2, 3):
        later = post(
            f"Contract: part {part}",
            key=f"contract/thread/en/c/{part}",
            reply_to=refs[-1],
            thread_root=first.ref,
            media=own,
        )
        refs.append(connector.publish(later).ref)
    parents: dict[str, list[str | None]] = {
        "replies": [None, refs[0].id, refs[1].id],
        "comments": [None, refs[0].id, refs[0].id],
        "separate": [None, None, None],
    }
    texts = [f"Contract: part {part}" for part in (1, 2, 3)]
    media = [types(required), types(own), types(own)]
    assert fake.published() == [
        Made(*made) for made in zip(texts, media, parents[spec.rules.thread_style], strict=True)
    ]


def test_each_kind_of_media_the_rules_accept_goes_out(
    fake: FakePlatform, connector: Connector, kind: str, tmp_path: Path
) -> None:
    media = (sample(kind, tmp_path),)
    connector.publish(post(f"Contract: one {kind}", media=media))
    assert fake.published() == [Made(f"Contract: one {kind}", (kind,))]


def test_several_pictures_go_out_together(
    spec: PlatformSpec, fake: FakePlatform, connector: Connector, pictures: int, tmp_path: Path
) -> None:
    kinds = stills(spec)
    media = tuple(sample(kinds[i % len(kinds)], tmp_path, f"still-{i}") for i in range(pictures))
    connector.publish(post("Contract: pictures", media=media))
    assert fake.published() == [Made("Contract: pictures", types(media))]
