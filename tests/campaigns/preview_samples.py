"""Hand-built deliveries for the preview format tests: awkward text on purpose."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from campaigns.delivery import Delivery, Media
from campaigns.preview import CampaignInfo, Preview
from campaigns.problems import Location, Problem

GENERATED = datetime(2027, 1, 20, 12, 0, tzinfo=UTC)
TITLE = "#SayNo: Safer Internet Day 2027"

TEXTS = {
    "plain": "One week to #SaferInternetDay. Online sexual coercion is a crime. #SayNo",
    "pipes": "Tables | break | here\nwith `code`, *stars* and <b>tags</b> & @someone #12",
    "rtl": "قل لا للابتزاز الجنسي عبر الإنترنت #SayNo",
    "emoji": "👩‍👩‍👧 family 🇧🇪🇫🇷 flags ✊🏽 [bold]not markup[/bold] :smile:",
    "lines": "- not a list\n# not a heading\n1. not numbered\n\n    indented\nlast",
}


def delivery(**changes: Any) -> Delivery:
    base = Delivery(
        key="sayno-2027/countdown/en/x-main",
        campaign="sayno-2027",
        post="countdown",
        channel="x-main",
        platform="x",
        language="en",
        audience=None,
        due_utc=datetime(2027, 2, 2, 8, 0, tzinfo=UTC),
        timezone="Europe/Brussels",
        deadline_utc=datetime(2027, 2, 2, 10, 0, tzinfo=UTC),
        text=TEXTS["plain"],
        thread_index=0,
        thread_size=1,
        parent_key=None,
        media=(),
        link=None,
        status="approved",
        length=72,
        limit=280,
        source="sayno-2027.yaml:20:5",
    )
    return replace(base, content_hash="", **changes)


def deliveries() -> list[Delivery]:
    """Five deliveries over three days in Brussels; one audience in New York."""
    card = Media("media/card.png", "/plans/media/card.png", "A card | with “quotes”", "image/png")
    items = [
        delivery(),
        delivery(
            key="sayno-2027/countdown/fr/mastodon-main",
            channel="mastodon-main",
            platform="mastodon",
            language="fr",
            text=TEXTS["pipes"],
            media=(card,),
            link="https://example.org/sayno?utm_source=mastodon",
            length=95,
            limit=500,
            status="draft",
            warnings=("2 posts on mastodon-main within 30m",),
        ),
        delivery(
            key="sayno-2027/tips/ar/bluesky-main/1",
            post="tips",
            channel="bluesky-main",
            platform="bluesky",
            language="ar",
            due_utc=datetime(2027, 2, 8, 23, 30, tzinfo=UTC),
            text=TEXTS["rtl"],
            thread_index=0,
            thread_size=2,
            length=42,
            limit=300,
        ),
        delivery(
            key="sayno-2027/tips/ar/bluesky-main/2",
            post="tips",
            channel="bluesky-main",
            platform="bluesky",
            language="ar",
            due_utc=datetime(2027, 2, 8, 23, 31, tzinfo=UTC),
            text=TEXTS["lines"],
            thread_index=1,
            thread_size=2,
            parent_key="sayno-2027/tips/ar/bluesky-main/1",
            length=320,
            limit=300,
        ),
        delivery(
            key="sayno-2027/launch/us-east/x-main",
            post="launch",
            audience="us-east",
            timezone="America/New_York",
            due_utc=datetime(2027, 2, 9, 14, 0, tzinfo=UTC) + timedelta(seconds=0),
            deadline_utc=None,
            text=TEXTS["emoji"],
            length=60,
        ),
    ]
    return sorted(items, key=lambda d: d.due_utc)


PROBLEMS = [
    Problem(
        "warning",
        "2 posts on mastodon-main within 30m | see <docs>",
        Location("sayno-2027.yaml", 31, 7),
        "space them out, or lower policies.min_gap",
    ),
]


def preview(**changes: Any) -> Preview:
    base = Preview(
        deliveries=deliveries(),
        campaigns={"sayno-2027": CampaignInfo(TITLE, "Europe/Brussels")},
        problems=PROBLEMS,
        generated=GENERATED,
    )
    return replace(base, **changes)
