"""A ledger of a small campaign that went out, with figures read over time: every report
test starts from it."""

from __future__ import annotations

from datetime import datetime, timedelta

from connectors.base import Figures, PlatformRef
from scheduler.ledger.api import ErrorClass, Failed, Sent
from scheduler.ledger.figures import Ended, FigureStore, Read
from scheduler.ledger.sql import SqlLedger
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
    readings of four of them, stored as the collector does; the bluesky tip was deleted."""
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
    claim = ledger.claim("x-main", "test", LEASE, NOW)
    assert claim is not None
    ledger.finish(claim, Failed("rejected: duplicate", ErrorClass.REJECTED), NOW)
    store = FigureStore(ledger)
    store.discover({channel: timedelta(hours=1) for _, _, channel, _, _ in SENT})
    for suffix, readings in READINGS.items():
        key = f"{campaign}/{suffix}"
        sent = ledger.find(key).sent_utc
        assert sent is not None
        for hours, likes, reposts, replies in readings:
            figures = Figures(likes=likes, reposts=reposts, replies=replies)
            store.save([Read(key, figures, None)], sent + timedelta(hours=hours))
    gone = Ended(f"{campaign}/tips/en/bluesky-main", "gone", "Post not found")
    store.save([gone], NOW + timedelta(days=1))


def at(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)
