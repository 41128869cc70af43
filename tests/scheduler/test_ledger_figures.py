"""The figures store on both ledgers: scheduling, snapshots, failures and ends, totals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from connectors.base import Figures
from scheduler.ledger.figures import CollectionRow, Ended, FigureStore, Missed, Read, Snapshot
from scheduler.ledger.sql import SqlLedger
from scheduler.ledger.tables import figure_collection
from tests.scheduler.figurekit import sent
from tests.scheduler.ledgerkit import NOW, delivery

HOUR = timedelta(hours=1)


def test_sent_posts_are_scheduled_once_at_their_channels_first_moment(ledger: SqlLedger) -> None:
    keys = sent(ledger, NOW, "a", "b")
    other = sent(ledger, NOW, "c", channel="bsky", platform="bluesky")
    ledger.sync([delivery("planned", due=NOW + HOUR)], NOW, campaigns=["later"])
    store = FigureStore(ledger)

    assert store.discover({"x-main": HOUR, "bsky": 2 * HOUR}) == 3
    assert store.discover({"x-main": HOUR, "bsky": 2 * HOUR}) == 0
    assert store.collection(keys[0]) == CollectionRow(keys[0], NOW + HOUR, 0, 0, None, None, None)
    assert store.collection(other[0]) == CollectionRow(
        other[0], NOW + 2 * HOUR, 0, 0, None, None, None
    )
    due = store.due(NOW + HOUR, {"x-main": 10, "bsky": 10})
    assert {c: [p.key for p in found] for c, found in due.items()} == {"x-main": keys, "bsky": []}
    assert store.due(NOW, {"x-main": 10}) == {"x-main": []}
    assert [p.ref.id for p in store.due(NOW + 2 * HOUR, {"x-main": 1, "bsky": 5})["x-main"]] == [
        "a"
    ]
    assert [p.key for p in store.due(NOW + 2 * HOUR, {"bsky": 5})["bsky"]] == other


def test_only_posts_changed_since_are_looked_at_when_asked(ledger: SqlLedger) -> None:
    sent(ledger, NOW, "old")
    (new,) = sent(ledger, NOW + HOUR, "new")
    store = FigureStore(ledger)
    assert store.discover({"x-main": HOUR}, since=NOW + HOUR) == 1
    assert list(store.collections()) == [new]
    assert store.discover({"x-main": HOUR}) == 1


def test_a_channel_left_out_and_other_campaigns_are_not_scheduled(ledger: SqlLedger) -> None:
    sent(ledger, NOW, "a")
    mine = sent(ledger, NOW, "b", campaign="other")
    store = FigureStore(ledger)
    assert store.discover({}) == 0
    assert store.discover({"x-main": HOUR}, campaign="other") == 1
    assert list(store.collections()) == mine
    assert list(store.collections(campaign="sayno")) == []


def test_readings_failures_and_ends_are_recorded_in_one_go(ledger: SqlLedger) -> None:
    a, b, c = sent(ledger, NOW, "a", "b", "c")
    store = FigureStore(ledger)
    store.discover({"x-main": HOUR})
    later = NOW + HOUR
    figures = Figures(likes=3, reposts=None, replies=0, views=120, extra={"engagement": 7})
    store.save(
        [
            Read(a, figures, NOW + 24 * HOUR),
            Missed(b, "429 Too Many Requests", later + timedelta(minutes=5)),
            Ended(c, "gone", "the post was deleted"),
        ],
        later,
    )
    assert store.collection(a) == CollectionRow(a, NOW + 24 * HOUR, 1, 0, None, None, None)
    assert store.collection(b) == CollectionRow(
        b, later + timedelta(minutes=5), 0, 1, None, None, "429 Too Many Requests"
    )
    assert store.collection(c) == CollectionRow(c, None, 0, 0, "gone", "the post was deleted", None)
    assert store.snapshots() == [Snapshot(a, later, figures)]
    month = NOW + 30 * 24 * HOUR
    assert [p.key for p in store.due(month, {"x-main": 10})["x-main"]] == [b, a]
    assert [p.key for p in store.open("x-main", 10)] == [a, b]

    store.save([Read(b, Figures(likes=1), None)], later + HOUR)
    assert store.collection(b) == CollectionRow(b, None, 1, 0, None, None, None)
    assert store.due(month, {"x-main": 10})["x-main"][0].key == a


def test_snapshots_keep_how_a_post_grew_and_totals_sum_the_latest(ledger: SqlLedger) -> None:
    a, b = sent(ledger, NOW, "a", "b")
    (m,) = sent(ledger, NOW, "m", channel="masto", platform="mastodon", campaign="other")
    store = FigureStore(ledger)
    store.discover({"x-main": HOUR, "masto": HOUR})
    store.save([Read(a, Figures(likes=1, views=10), NOW)], NOW + HOUR)
    store.save(
        [Read(a, Figures(likes=5, views=50), NOW), Read(b, Figures(likes=2), NOW)], NOW + 2 * HOUR
    )
    store.save([Read(m, Figures(likes=4, replies=1), None)], NOW + 2 * HOUR)

    assert [(s.at, s.figures.likes) for s in store.snapshots(key=a)] == [
        (NOW + HOUR, 1),
        (NOW + 2 * HOUR, 5),
    ]
    assert [s.key for s in store.snapshots(campaign="other")] == [m]
    assert store.totals() == {
        ("sayno", "x"): {"likes": 7, "views": 50},
        ("other", "mastodon"): {"likes": 4, "replies": 1},
    }


def test_an_end_is_one_of_the_agreed_reasons(ledger: SqlLedger) -> None:
    (a,) = sent(ledger, NOW, "a")
    FigureStore(ledger).discover({"x-main": HOUR})
    with pytest.raises(IntegrityError), ledger.writing() as connection:
        connection.execute(figure_collection.update().values(ended="zero"))
    assert FigureStore(ledger).collection(a) is not None
