"""A ledger of a small campaign that went out, with figures read over time: every report
test starts from it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, insert

from connectors.base import PlatformRef
from scheduler.ledger.api import Sent
from scheduler.ledger.sql import SqlLedger
from scheduler.ledger.tables import figures
from tests.scheduler.ledgerkit import LEASE, NOW, delivery

HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=1"> </script>'

SENT = [
    # post, language, channel, platform, minutes late
    ("launch", "en", "mastodon-main", "mastodon", 0),
    ("launch", "fr", "mastodon-main", "mastodon", 1),
    ("launch", "en", "bluesky-main", "bluesky", 12),
    ("tips", "en", "bluesky-main", "bluesky", 30),
    ("tips", "en", "telegram-news", "telegram", 0),
    ("hostile", "en", "mastodon-main", "mastodon", 0),
]
READINGS = {
    # key suffix: (hours after sending, likes, reposts, replies)
    "launch/en/mastodon-main": [(1, 3, 1, 0), (24, 10, 4, 2), (168, 12, 5, 2)],
    "launch/fr/mastodon-main": [(1, 1, 0, 0), (24, 2, 1, 0)],
    "launch/en/bluesky-main": [(1, 0, 0, 0)],
    "hostile/en/mastodon-main": [(1, 7, 0, 1)],
}
PLATFORMS_WITH_FIGURES = {"mastodon", "bluesky"}


def has_figures(platform: str) -> bool:
    return platform in PLATFORMS_WITH_FIGURES


def seed(ledger: SqlLedger, campaign: str = "sayno") -> None:
    """Six posts sent (one to Telegram, one with hostile text), one failed, one planned;
    snapshots for four of them; collection ended for the bluesky tip (deleted)."""
    plan = [
        delivery(
            post,
            campaign=campaign,
            language=language,
            channel=channel,
            platform=platform,
            due=NOW + timedelta(hours=n),
            text=HOSTILE if post == "hostile" else None,
        )
        for n, (post, language, channel, platform, _) in enumerate(SENT)
    ]
    plan.append(delivery("later", campaign=campaign, due=NOW + timedelta(days=30)))
    plan.append(delivery("broken", campaign=campaign, channel="x-main", due=NOW))
    ledger.sync(plan, NOW - timedelta(days=1))
    for n, (post, language, channel, _, late) in enumerate(SENT):
        at = NOW + timedelta(hours=n, minutes=late)
        claim = ledger.claim(channel, "test", LEASE, at)
        assert claim is not None and claim.row.post == post
        url = f"https://{channel}.example/{campaign}/{post}/{language}"
        ledger.finish(claim, Sent(PlatformRef(f"{n}", url)), at)
    from scheduler.ledger.api import Failed

    claim = ledger.claim("x-main", "test", LEASE, NOW)
    assert claim is not None
    ledger.finish(claim, Failed("rejected: duplicate", "rejected"), NOW)
    rows = []
    for suffix, readings in READINGS.items():
        key = f"{campaign}/{suffix}"
        sent = ledger.find(key).sent_utc
        assert sent is not None
        for hours, likes, reposts, replies in readings:
            at = sent + timedelta(hours=hours)
            rows.append(dict(key=key, at=at, likes=likes, reposts=reposts, replies=replies))
    with ledger.engine.begin() as connection:
        connection.execute(insert(figures), rows)
    end_collection(ledger, f"{campaign}/tips/en/bluesky-main", "gone", "Post not found")


def end_collection(ledger: SqlLedger, key: str, why: str, reason: str) -> None:
    """Record that collection ended for a delivery, as the collector does
    (`figure_collection`, made here when the ledger does not have it yet)."""
    collection = Table(
        "figure_collection",
        MetaData(),
        Column("key", String, primary_key=True),
        Column("next_at", DateTime(timezone=True)),
        Column("rounds", Integer, nullable=False, default=0),
        Column("tries", Integer, nullable=False, default=0),
        Column("ended", String(16)),
        Column("ended_reason", Text),
        Column("last_error", Text),
    )
    with ledger.engine.begin() as connection:
        collection.create(connection, checkfirst=True)
        connection.execute(
            insert(collection),
            [dict(key=key, next_at=None, rounds=1, tries=0, ended=why, ended_reason=reason)],
        )


def at(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)
