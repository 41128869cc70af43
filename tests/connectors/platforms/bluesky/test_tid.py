"""Record keys derived from deliveries are valid TIDs, stable, and distinct.

The syntax rules are checked against the interop vectors of the AT Protocol
(tests/connectors/data/atproto/, MIT/Apache-2.0) before they judge generated keys.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.platforms.bluesky.tid import ALPHABET, encode_tid, tid_for

DATA = Path(__file__).parent / "data" / "atproto"

# The syntax as the atproto specification writes it (atproto.com/specs/tid, /specs/record-key).
TID_SYNTAX = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
RECORD_KEY_SYNTAX = re.compile(r"^[a-zA-Z0-9_~.:-]{1,512}$")


def is_record_key(value: str) -> bool:
    return bool(RECORD_KEY_SYNTAX.match(value)) and value not in (".", "..")


def vectors(name: str) -> list[str]:
    lines = (DATA / name).read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


@pytest.mark.parametrize("value", vectors("tid_syntax_valid.txt"))
def test_tid_syntax_accepts_valid_vectors(value: str) -> None:
    assert TID_SYNTAX.match(value)


@pytest.mark.parametrize("value", vectors("tid_syntax_invalid.txt"))
def test_tid_syntax_refuses_invalid_vectors(value: str) -> None:
    assert not TID_SYNTAX.match(value)


@pytest.mark.parametrize("value", vectors("recordkey_syntax_valid.txt"))
def test_record_key_syntax_accepts_valid_vectors(value: str) -> None:
    assert is_record_key(value)


@pytest.mark.parametrize("value", vectors("recordkey_syntax_invalid.txt"))
def test_record_key_syntax_refuses_invalid_vectors(value: str) -> None:
    assert not is_record_key(value)


def test_a_known_value() -> None:
    # 2023-01-01T00:00:00Z in microseconds, clock id 0, written by hand from the spec.
    micros = 1_672_531_200_000_000
    value = micros << 10
    expected = "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))
    assert encode_tid(micros, 0) == expected
    assert expected.startswith("3")


def test_encode_refuses_what_a_tid_cannot_hold() -> None:
    with pytest.raises(ValueError):
        encode_tid(1 << 53, 0)
    with pytest.raises(ValueError):
        encode_tid(0, 1024)


keys = st.text(min_size=1, max_size=200)
instants = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@given(keys, instants)
def test_derived_keys_are_valid_tids_and_record_keys(key: str, due: datetime) -> None:
    rkey = tid_for(key, due)
    assert TID_SYNTAX.match(rkey)
    assert is_record_key(rkey)


@given(keys, instants)
def test_the_same_delivery_always_gets_the_same_key(key: str, due: datetime) -> None:
    assert tid_for(key, due) == tid_for(key, due)
    assert tid_for(key, due) == tid_for(key, due.replace(tzinfo=None))
    assert tid_for(key, due.replace(microsecond=0)) == tid_for(key, due)


@given(keys, instants, st.integers(min_value=1, max_value=10**9))
def test_keys_sort_like_due_times(key: str, due: datetime, seconds: int) -> None:
    later = due + timedelta(seconds=seconds)
    if later.year < 2200:
        assert tid_for(key, due) < tid_for(key, later)


def test_deliveries_due_in_the_same_second_get_different_keys() -> None:
    due = datetime(2027, 2, 9, 8, 0, tzinfo=UTC)
    deliveries = [
        f"sayno-2027/countdown/{lang}/bluesky-{n}"
        for lang in ("en", "fr", "de", "nl")
        for n in range(500)
    ]
    assert len({tid_for(key, due) for key in deliveries}) == len(deliveries)
