from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from campaigns.preview import CampaignInfo
from campaigns.preview import json as preview_json
from tests.campaigns.preview_samples import TEXTS, TITLE, deliveries, delivery, preview

# The documented interface (docs/preview.md), in its order: fields are only ever added.
FIELDS = [
    "key",
    "campaign",
    "post",
    "channel",
    "platform",
    "language",
    "audience",
    "due_utc",
    "due_local",
    "timezone",
    "deadline_utc",
    "text",
    "thread_index",
    "thread_size",
    "parent_key",
    "media",
    "link",
    "length",
    "limit",
    "status",
    "warnings",
    "source",
    "content_hash",
    "scheduled",
    "content_warning",
    "projected_utc",
    "projected_reason",
    "projected_expires",
]


def test_fields_in_a_stable_order() -> None:
    items = json.loads(preview_json.render(preview()))
    assert len(items) == 5
    for item in items:
        assert list(item) == FIELDS


def test_values() -> None:
    items = json.loads(preview_json.render(preview()))
    by_key = {item["key"]: item for item in items}
    first = by_key["sayno-2027/countdown/en/x-main"]
    assert first["due_utc"] == "2027-02-02T08:00:00Z"
    assert first["due_local"] == "2027-02-02T09:00:00+01:00"
    assert first["deadline_utc"] == "2027-02-02T10:00:00Z"
    assert first["media"] == [] and first["warnings"] == []
    assert first["content_hash"] == deliveries()[0].content_hash
    draft = by_key["sayno-2027/countdown/fr/mastodon-main"]
    assert draft["status"] == "draft"
    assert draft["media"] == [
        {"file": "media/card.png", "alt": "A card | with “quotes”", "duration": None, "size": None}
    ]
    assert draft["warnings"] == ["2 posts on mastodon-main within 30m"]
    assert draft["link"] == "https://example.org/sayno?utm_source=mastodon"
    reply = by_key["sayno-2027/tips/ar/bluesky-main/2"]
    assert (reply["thread_index"], reply["thread_size"]) == (1, 2)
    assert reply["parent_key"] == "sayno-2027/tips/ar/bluesky-main/1"
    assert (reply["length"], reply["limit"]) == (320, 300)
    new_york = by_key["sayno-2027/launch/us-east/x-main"]
    assert new_york["due_local"] == "2027-02-09T09:00:00-05:00"
    assert new_york["timezone"] == "America/New_York"
    assert new_york["audience"] == "us-east"
    assert new_york["deadline_utc"] is None


def test_scheduled_says_what_the_daemon_would_schedule() -> None:
    items = json.loads(preview_json.render(preview()))
    assert {i["key"]: i["scheduled"] for i in items if i["status"] == "draft"} == {
        "sayno-2027/countdown/fr/mastodon-main": False
    }
    assert all(i["scheduled"] for i in items if i["status"] == "approved")
    held = preview(campaigns={"sayno-2027": CampaignInfo(TITLE, "Europe/Brussels", held=True)})
    assert not any(i["scheduled"] for i in json.loads(preview_json.render(held)))


def test_texts_come_back_exactly() -> None:
    items = json.loads(preview_json.render(preview()))
    assert {item["text"] for item in items} == set(TEXTS.values())


def test_one_delivery_per_line_in_time_order() -> None:
    out = preview_json.render(preview())
    lines = out.splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 7
    assert "🇧🇪" in out, "Unicode is written as is, not as \\u escapes"
    due = [item["due_utc"] for item in json.loads(out)]
    assert due == sorted(due)


def test_empty() -> None:
    assert json.loads(preview_json.render(preview(deliveries=[]))) == []


@given(st.text())
def test_any_text_round_trips(text: str) -> None:
    out = preview_json.render(preview(deliveries=[delivery(text=text)]))
    assert json.loads(out)[0]["text"] == text
