"""The delivery key, built and taken apart by one type; a delivery's campaign file."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.delivery import DeliveryKey
from campaigns.problems import Location
from tests.scheduler.ledgerkit import delivery

_slug = st.from_regex(r"[a-z0-9]+(-[a-z0-9]+)?", fullmatch=True)
_keys = st.builds(
    DeliveryKey,
    _slug,
    _slug,
    st.none() | st.sampled_from(["2027-02-01", "2027-02-01T1000", "2027-02-01T100030"]),
    _slug | st.sampled_from(["-", "en-GB", "fr"]),
    _slug,
    st.none() | st.integers(1, 25),
)


def test_the_stored_form_reads_as_documented() -> None:
    assert str(DeliveryKey("c", "p", None, "en", "x-main")) == "c/p/en/x-main"
    recurring = DeliveryKey("c", "p", "2027-02-01T1000", "-", "x-main", 2)
    assert str(recurring) == "c/p@2027-02-01T1000/-/x-main/2"


@given(_keys)
def test_a_key_parses_back_to_its_parts(key: DeliveryKey) -> None:
    assert DeliveryKey.parse(str(key)) == key


@given(_keys)
def test_thread_and_series_drop_one_part_each(key: DeliveryKey) -> None:
    assert key.thread.part is None and key.thread.occurrence == key.occurrence
    assert key.series.occurrence is None and key.series.part == key.part
    assert str(key).startswith(str(key.thread))


@pytest.mark.parametrize(
    "text", ["odd", "c/p/en", "c/p/en/x/1/2", "c//en/x", "c/p/en/x/one", "@blackout-end/3/x"]
)
def test_what_is_not_a_key_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a delivery key"):
        DeliveryKey.parse(text)


def test_named_parts_are_what_a_rename_can_change() -> None:
    key = DeliveryKey("c", "p", "2027-02-01", "en", "x-main", 3)
    assert key.named() == (
        ("campaign", "c"),
        ("post", "p@2027-02-01"),
        ("audience or language", "en"),
        ("channel", "x-main"),
        ("thread part", "3"),
    )
    assert len(key.thread.named()) == 4


def test_the_source_file_is_the_location_without_line_and_column() -> None:
    assert delivery(source="/plans/c:1.yaml:12:7").source_file == "/plans/c:1.yaml"
    assert Location.parse("/plans/c:1.yaml:12:7") == Location("/plans/c:1.yaml", 12, 7)
    assert Location.file_of("/plans/c:1.yaml:12:7") == "/plans/c:1.yaml"
