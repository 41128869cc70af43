"""Videos on Telegram through `sendVideo` (and in albums, `sendMediaGroup`): the file streamed
from disk, its cover sent as the Bot API's `thumbnail` where Telegram would take it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.base import Rejected
from connectors.fakes.params import multipart
from connectors.platforms.telegram.fake import TOKEN, TelegramFake
from tests.connectors.clips import cover, padded, video
from tests.connectors.platforms.telegram.test_connector import connector
from tests.connectors.social import images, post


@pytest.fixture
def fake() -> Iterator[TelegramFake]:
    with TelegramFake() as fake:
        yield fake


def test_a_video_goes_out_with_its_caption_and_cover(fake: TelegramFake, tmp_path: Path) -> None:
    clip = video(tmp_path, thumbnail=cover(tmp_path))
    connector(fake).publish(post("Watch #SayNo", media=[clip]))

    request = fake.requests[-1]
    assert request.path == f"/bot{TOKEN}/sendVideo"
    parts = multipart(request)
    assert parts["video"].content == clip.path.read_bytes()
    assert parts["video"].content_type == "video/mp4"
    assert parts["caption"].content == b"Watch #SayNo"
    assert parts["thumbnail"].content == b"attach://cover"
    assert parts["cover"].content == (tmp_path / "cover.jpg").read_bytes()
    assert parts["cover"].content_type == "image/jpeg"
    assert "thumbnail" in fake.posts[-1]["video"]


@pytest.mark.parametrize(("size", "name"), [(250_000, "cover.jpg"), (2_000, "cover.png")])
def test_a_cover_telegram_would_not_take_is_left_to_telegram(
    fake: TelegramFake, tmp_path: Path, size: int, name: str
) -> None:
    """The Bot API takes a JPEG under 200 kB; otherwise Telegram makes its own."""
    clip = video(tmp_path, thumbnail=cover(tmp_path, size, name))
    connector(fake).publish(post("Watch", media=[clip]))
    parts = multipart(fake.requests[-1])
    assert "thumbnail" not in parts
    assert "cover" not in parts
    assert "thumbnail" not in fake.posts[-1]["video"]


def test_a_video_in_an_album_names_its_cover_by_attach(fake: TelegramFake, tmp_path: Path) -> None:
    photo = images(tmp_path, 1)[0]
    clip = video(tmp_path, thumbnail=cover(tmp_path))
    connector(fake).publish(post("Both", media=[photo, clip]))

    parts = multipart(fake.requests[-1])
    assert json.loads(parts["media"].content) == [
        {"type": "photo", "media": "attach://file0", "caption": "Both"},
        {"type": "video", "media": "attach://file1", "thumbnail": "attach://cover1"},
    ]
    assert parts["cover1"].content == (tmp_path / "cover.jpg").read_bytes()
    assert "thumbnail" in fake.posts[-1]["video"]


def test_a_video_over_the_bot_upload_limit_is_rejected(fake: TelegramFake, tmp_path: Path) -> None:
    big = padded(tmp_path, 51 * 1024 * 1024)
    with pytest.raises(Rejected, match="Request Entity Too Large") as caught:
        connector(fake, timeout=30).publish(post(media=[big]))  # 51 MB, on a busy machine
    assert caught.value.status == 413
    assert fake.posts == []
