"""The example campaigns that ship with Clarion load cleanly and expand as documented."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from campaigns import load_plan

from .plan_helpers import EXAMPLES, OPTIONS, options


def test_sayno_example_is_clean_and_expands_to_every_delivery() -> None:
    plan = load_plan([EXAMPLES / "sayno-2027.yaml"], OPTIONS)
    assert plan.problems == []
    assert [c.id for c in plan.campaigns] == ["sayno-2027"]
    counts = Counter(d.post for d in plan.deliveries)
    assert counts == {
        "countdown-7d": 40,  # 8 audiences x 5 channels
        "countdown-3d": 40,
        "countdown-1d": 40,
        "sid-day": 40,
        "safety-tips": 168,  # 5 parts x 8 audiences x 4 channels + 8 single LinkedIn posts
        "live-qa": 3,
        "weekly-reminder": 96,  # 6 Mondays x 8 audiences x 2 channels
        "wrap-up": 40,
        "results": 1,
    }
    assert len(plan.deliveries) == 468
    assert len({d.key for d in plan.deliveries}) == 468
    assert all(d.length <= d.limit for d in plan.deliveries)
    assert {d.language for d in plan.deliveries} == {"en", "fr", "de", "nl", "es", "it", "pl", "fi"}
    assert [d.status for d in plan.deliveries].count("draft") == 1
    for d in plan.deliveries:
        assert "#SayNo" in d.text or d.thread_index > 0
        for media in d.media:
            assert media.mime == "image/png" and media.alt
            assert (EXAMPLES / media.file).stat().st_size < 50_000


def test_sayno_goes_out_at_nine_local_time_in_each_zone() -> None:
    plan = load_plan([EXAMPLES / "sayno-2027.yaml"], OPTIONS)
    day = [d for d in plan.deliveries if d.post == "sid-day" and d.channel == "x-main"]
    assert {d.audience: d.due_utc.hour for d in day} == {
        "fi-fi": 7,
        "fr-fr": 8,
        "de-de": 8,
        "nl-nl": 8,
        "es-es": 8,
        "it-it": 8,
        "pl-pl": 8,
        "ie-en": 9,
    }
    assert all(d.due_local.hour == 9 for d in day)
    live = {d.due_utc for d in plan.deliveries if d.post == "live-qa"}
    assert live == {datetime(2027, 2, 9, 14, 0, tzinfo=UTC)}


def test_demo_starts_when_loaded() -> None:
    now = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    plan = load_plan([EXAMPLES / "demo.yaml"], options(now=now))
    assert plan.problems == []
    assert len(plan.deliveries) == 19
    assert min(d.due_utc for d in plan.deliveries) == now + timedelta(seconds=5)
    assert max(d.due_utc for d in plan.deliveries) == now + timedelta(seconds=30)
    assert {d.key for d in plan.deliveries if d.post == "hello"} == {
        "demo/hello/-/mastodon-main",
        "demo/hello/-/bluesky-main",
        "demo/hello/-/telegram-news",
    }
    assert sum(1 for d in plan.deliveries if d.parent_key) == 6


def test_the_examples_folder_loads_as_a_whole() -> None:
    plan = load_plan([EXAMPLES], OPTIONS)
    assert plan.problems == []
    assert [c.id for c in plan.campaigns] == ["demo", "sayno-2027"]
