from __future__ import annotations

from pathlib import Path

import pytest

from connectors.base import Rejected
from connectors.upload import Span, spans


def test_the_bytes_left_over_join_the_last_part_or_make_their_own() -> None:
    merged = spans(50_000_123, 10_000_000, tail="merge")
    assert [s.length for s in merged] == [10_000_000] * 4 + [10_000_123]
    assert merged[-1].content_range == "bytes 40000000-50000122/50000123"
    assert [s.last for s in merged] == [False] * 4 + [True]
    own = spans(25, 10, tail="own")
    assert [(s.start, s.length) for s in own] == [(0, 10), (10, 10), (20, 5)]


def test_a_file_smaller_than_a_part_is_one_part() -> None:
    assert spans(7, 10, tail="merge") == [Span(0, 0, 7, 7)]
    assert spans(7, 10, tail="own") == [Span(0, 0, 7, 7)]
    with pytest.raises(ValueError):
        spans(0, 10, tail="own")


def test_a_part_is_read_from_disk_with_its_range(tmp_path: Path) -> None:
    path = tmp_path / "video.mp4"
    path.write_bytes(bytes(range(256)) * 40)
    headers, content = spans(10_240, 4_000, tail="merge")[1].body(path)
    assert headers == {"Content-Length": "6240", "Content-Range": "bytes 4000-10239/10240"}
    assert b"".join(content) == path.read_bytes()[4_000:]


def test_a_file_that_shrank_is_not_sent_short(tmp_path: Path) -> None:
    path = tmp_path / "video.mp4"
    path.write_bytes(b"x" * 100)
    _, content = spans(200, 200, tail="merge")[0].body(path)
    with pytest.raises(Rejected, match="changed"):
        list(content)
