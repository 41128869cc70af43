from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar, Event

from campaigns.preview import CampaignInfo, ics
from tests.campaigns.preview_samples import GENERATED, TEXTS, TITLE, delivery, preview


def parse(text: str) -> tuple[Calendar, dict[str, Event]]:
    calendar = Calendar.from_ical(text)
    return calendar, {str(e.uid): e for e in calendar.events}


def body(event: Event) -> str:
    """The delivery's text: the description up to the lines Clarion adds."""
    return str(event.description).split("\n\nLength:")[0]


def test_one_event_per_delivery() -> None:
    calendar, events = parse(ics.render(preview()))
    assert calendar.calendar_name == TITLE
    assert str(calendar["version"]) == "2.0"
    assert calendar.prodid == "-//Clarion//Campaign preview//EN"
    assert len(events) == 5
    assert all(uid.endswith("@clarion") for uid in events)


def test_event_fields() -> None:
    _, events = parse(ics.render(preview()))
    event = events["sayno-2027/countdown/en/x-main@clarion"]
    assert event.start == datetime(2027, 2, 2, 8, 0, tzinfo=UTC)
    assert isinstance(event.start, datetime) and event.start.utcoffset() == timedelta(0)
    assert timedelta(0) < event.end - event.start <= timedelta(minutes=30)
    assert event.stamp == GENERATED
    assert str(event.summary) == "[x-main · en] countdown: One week to #SaferInternetDay. Online…"
    assert body(event) == TEXTS["plain"]
    description = str(event.description)
    assert "Length: 72/280 (X)" in description
    assert "Local time: 2027-02-02 09:00 CET (Europe/Brussels)" in description
    assert [str(c) for c in event.categories] == ["x-main", "x"]
    assert event.status == "CONFIRMED"
    assert event.transparency == "TRANSPARENT"


def test_drafts_are_tentative_and_warnings_described() -> None:
    _, events = parse(ics.render(preview()))
    draft = events["sayno-2027/countdown/fr/mastodon-main@clarion"]
    assert str(draft.summary).startswith("DRAFT [mastodon-main · fr] countdown: Tables | break")
    assert draft.status == "TENTATIVE"
    assert body(draft) == TEXTS["pipes"]
    assert "Warning: 2 posts on mastodon-main within 30m" in str(draft.description)
    assert draft.url == "https://example.org/sayno?utm_source=mastodon"


def test_unicode_texts_survive_folding() -> None:
    out = ics.render(preview())
    assert "\r\n" in out
    assert all(len(line.encode()) <= 75 for line in out.split("\r\n"))
    _, events = parse(out)
    assert {body(e) for e in events.values()} == set(TEXTS.values())
    thread = events["sayno-2027/tips/ar/bluesky-main/2@clarion"]
    assert str(thread.summary).startswith("[bluesky-main · ar] tips 2/2: - not a list ↵")


def test_empty_calendar_is_valid() -> None:
    calendar, events = parse(ics.render(preview(deliveries=[], campaigns={})))
    assert events == {}
    assert calendar.calendar_name == "Clarion preview"


@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t")))
def test_any_text_round_trips(text: str) -> None:
    _, events = parse(ics.render(preview(deliveries=[delivery(text=text)])))
    (event,) = events.values()
    assert body(event) == text


def test_backslashes_stay_as_written() -> None:
    """icalendar alone would read a backslash before N as a line break."""
    text = "C:\\New folder\\n, a\\Nb; c"
    _, events = parse(ics.render(preview(deliveries=[delivery(text=text)])))
    (event,) = events.values()
    assert body(event) == text


def test_drafts_and_what_errors_hold_back_are_tentative() -> None:
    held = preview(campaigns={"sayno-2027": CampaignInfo(TITLE, "Europe/Brussels", held=True)})
    _, events = parse(ics.render(held))
    assert {str(e["STATUS"]) for e in events.values()} == {"TENTATIVE"}
    assert all("NOT SCHEDULED [" in str(e["SUMMARY"]) for e in events.values())
    assert any("Media: media/card.png (alt: A card" in str(e.description) for e in events.values())
