from __future__ import annotations

from pathlib import Path

import pytest

from connectors.upload import Span, chunk_headers, spans, stream


def test_the_bytes_left_over_join_the_last_chunk_or_make_their_own() -> None:
    merged = spans(50_000_123, 10_000_000, tail="merge")
    assert [s.length for s in merged] == [10_000_000] * 4 + [10_000_123]
    assert merged[-1].content_range == "bytes 40000000-50000122/50000123"
    assert [s.last for s in merged] == [False] * 4 + [True]
    own = spans(25, 10, tail="own")
    assert [(s.start, s.length) for s in own] == [(0, 10), (10, 10), (20, 5)]


def test_a_file_smaller_than_a_chunk_is_one_chunk() -> None:
    assert spans(7, 10, tail="merge") == [Span(0, 0, 7, 7)]
    assert spans(7, 10, tail="own") == [Span(0, 0, 7, 7)]
    with pytest.raises(ValueError):
        spans(0, 10, tail="own")


def test_a_span_is_read_from_disk_a_piece_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "video.mp4"
    path.write_bytes(bytes(range(256)) * 40)
    span = spans(10_240, 4_000, tail="merge")[1]
    pieces = list(stream(path, span, piece=1_000))
    assert [len(p) for p in pieces] == [1_000] * 6 + [240]
    assert b"".join(pieces) == path.read_bytes()[4_000:]
    assert chunk_headers(span, "video/mp4") == {
        "Content-Type": "video/mp4",
        "Content-Length": "6240",
        "Content-Range": "bytes 4000-10239/10240",
    }


def test_a_file_that_shrank_is_not_sent_short(tmp_path: Path) -> None:
    path = tmp_path / "video.mp4"
    path.write_bytes(b"x" * 100)
    span = spans(200, 200, tail="merge")[0]
    with pytest.raises(OSError, match="shorter"):
        list(stream(path, span))
