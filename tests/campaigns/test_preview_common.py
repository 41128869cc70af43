from __future__ import annotations

from datetime import UTC, date, datetime

from campaigns.preview import CampaignInfo, select, summarize
from campaigns.preview.common import (
    by_day,
    clock,
    describe,
    excerpt,
    iso_local,
    iso_utc,
    post_label,
)
from tests.campaigns.preview_samples import PROBLEMS, deliveries, delivery, preview


def test_excerpt_keeps_short_text_and_marks_line_breaks() -> None:
    assert excerpt("one\ntwo  three\n\nfour") == "one ↵ two three ↵ four"


def test_excerpt_cuts_at_a_word_end() -> None:
    text = "Online sexual coercion is a crime and help is available to everyone"
    cut = excerpt(text, 30)
    assert cut == "Online sexual coercion is a…"
    assert len(cut) <= 30


def test_excerpt_never_splits_an_emoji_or_a_flag() -> None:
    family, flag = "👩‍👩‍👧", "🇧🇪"
    cut = excerpt((family + flag) * 20, 11)
    assert cut.endswith("…")
    assert cut[:-1] == (family + flag) * 5


def test_times() -> None:
    instant = datetime(2027, 2, 8, 23, 30, tzinfo=UTC)
    assert iso_utc(instant) == "2027-02-08T23:30:00Z"
    assert iso_local(instant, "Europe/Brussels") == "2027-02-09T00:30:00+01:00"
    assert clock(instant, "Europe/Brussels") == "00:30 CET"
    assert clock(instant, "UTC", date(2027, 2, 9)) == "23:30 UTC (Mon 8 Feb)"


def test_summer_time_offsets() -> None:
    instant = datetime(2027, 7, 1, 7, 0, tzinfo=UTC)
    assert iso_local(instant, "Europe/Brussels") == "2027-07-01T09:00:00+02:00"
    assert clock(instant, "America/New_York") == "03:00 EDT"


def test_select_filters() -> None:
    items = deliveries()
    assert {d.channel for d in select(items, channels={"x-main"})} == {"x-main"}
    assert {d.language for d in select(items, languages={"ar"})} == {"ar"}
    assert all(d.status != "draft" for d in select(items, drafts=False))
    start = datetime(2027, 2, 8, 23, 30, tzinfo=UTC)
    end = datetime(2027, 2, 9, 14, 0, tzinfo=UTC)
    window = select(items, start=start, end=end)
    assert [d.due_utc for d in window] == [start, datetime(2027, 2, 8, 23, 31, tzinfo=UTC)]


def test_days_in_the_display_zone() -> None:
    days = by_day(deliveries(), "Europe/Brussels")
    assert [(day.isoformat(), len(group)) for day, group in days] == [
        ("2027-02-02", 2),
        ("2027-02-09", 3),
    ]
    assert [len(group) for _, group in by_day(deliveries(), "UTC")] == [2, 2, 1]


def test_display_zone() -> None:
    assert preview().display_zone == "Europe/Brussels"
    assert preview(tz="Asia/Tokyo").display_zone == "Asia/Tokyo"
    two = {"a": CampaignInfo("A", "Europe/Brussels"), "b": CampaignInfo("B", "Europe/Paris")}
    assert preview(campaigns=two).display_zone == "UTC"
    assert preview(campaigns=two).title == "A · B"


def test_summary() -> None:
    s = summarize(deliveries(), PROBLEMS)
    assert (s.deliveries, s.drafts, s.errors, s.warnings) == (5, 1, 0, 1)
    assert s.per_channel == {"bluesky-main": 2, "mastodon-main": 1, "x-main": 2}
    assert describe(s) == "0 errors, 1 warning; 5 deliveries on 3 channels (1 draft)"
    empty = describe(summarize([], []))
    assert empty == "0 errors, 0 warnings; 0 deliveries on 0 channels"


def test_post_label() -> None:
    part = delivery(post="tips", thread_index=1, thread_size=3)
    assert post_label(part) == "tips 2/3"
    assert post_label(part, with_campaign=True) == "sayno-2027/tips 2/3"
