"""The figures collector on both ledgers: moments, back-off, ends, publishing first, collect_now,
metrics."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families

from connectors.base import Figures, FiguresUnavailable, RetryLater
from scheduler.collect import Collector, collect_now
from scheduler.config import Config
from scheduler.dispatch import Dispatcher
from scheduler.ledger.api import State
from scheduler.ledger.figures import CollectionRow, FigureStore
from scheduler.ledger.sql import SqlLedger
from scheduler.metrics import Metrics
from tests.scheduler.figurekit import FiguresConnector, NoFiguresConnector, config, sent
from tests.scheduler.ledgerkit import NOW, Clock, ScriptedConnector, delivery

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)


def collector(
    ledger: SqlLedger,
    clock: Clock,
    *connectors: FiguresConnector,
    settings: Config | None = None,
    metrics: Metrics | None = None,
) -> Collector:
    given = {c.config.name: c for c in connectors}
    return Collector(
        ledger, settings or config(list(given)), connectors=given, clock=clock, metrics=metrics
    )


def standing(ledger: SqlLedger, key: str) -> CollectionRow:
    found = FigureStore(ledger).collection(key)
    assert found is not None
    return found


def test_each_post_is_read_at_1h_24h_and_7d_then_no_more(ledger: SqlLedger) -> None:
    (key,) = sent(ledger, NOW, "a")
    clock = Clock(NOW)
    x = FiguresConnector(a=[Figures(likes=1), Figures(likes=8), Figures(likes=20)])
    collecting = collector(ledger, clock, x)

    assert not collecting.round().read
    assert standing(ledger, key).next_at == NOW + HOUR
    for moment, likes in ((HOUR, 1), (DAY, 8), (7 * DAY, 20)):
        clock.now = NOW + moment
        assert collecting.round().read == {"x-main": 1}
        assert FigureStore(ledger).snapshots(key=key)[-1].figures.likes == likes
    assert standing(ledger, key) == CollectionRow(key, None, 3, 0, None, None, None)
    clock.now = NOW + 30 * DAY
    collecting.round()
    assert x.asked == ["a", "a", "a"]


def test_a_moment_missed_while_the_daemon_was_down_is_not_made_up(ledger: SqlLedger) -> None:
    (key,) = sent(ledger, NOW, "a")
    clock = Clock(NOW + 3 * DAY)
    collector(ledger, clock, FiguresConnector()).round()
    assert standing(ledger, key).next_at == NOW + 7 * DAY
    assert standing(ledger, key).rounds == 1


def test_moments_and_round_size_per_channel(ledger: SqlLedger) -> None:
    keys = sent(ledger, NOW, "a", "b", "c")
    quiet = sent(ledger, NOW, "q", channel="x-quiet")
    settings = config(
        {
            "x-main": {"platform": "x", "figures": {"after": ["2h", "30m"], "per_round": 2}},
            "x-quiet": {"platform": "x", "figures": {"after": []}},
        },
        per_round=10,
    )
    clock = Clock(NOW + 30 * MINUTE)
    x, silent = FiguresConnector(), FiguresConnector("x-quiet")
    collecting = collector(ledger, clock, x, silent, settings=settings)
    assert collecting.round().read == {"x-main": 2}
    assert collecting.round().read == {"x-main": 1}
    assert {standing(ledger, k).next_at for k in keys} == {NOW + 2 * HOUR}
    assert FigureStore(ledger).collection(quiet[0]) is None
    assert silent.asked == []


def test_a_passing_failure_is_tried_again_later_never_stored_as_zero(ledger: SqlLedger) -> None:
    (key,) = sent(ledger, NOW, "a")
    clock = Clock(NOW + HOUR)
    network = httpx.ConnectError("connection refused")
    x = FiguresConnector(a=[RetryLater("502 Bad Gateway", status=502), network, Figures(likes=4)])
    collecting = collector(ledger, clock, x)

    assert collecting.round().missed == {"x-main": 1}
    assert standing(ledger, key) == CollectionRow(
        key, NOW + HOUR + 5 * MINUTE, 0, 1, None, None, "502 Bad Gateway"
    )
    assert FigureStore(ledger).snapshots() == []
    clock.now = NOW + HOUR + 5 * MINUTE
    collecting.round()
    assert standing(ledger, key).next_at == clock.now + 10 * MINUTE  # the delay doubles
    assert standing(ledger, key).last_error == "ConnectError: connection refused"
    clock.now += 10 * MINUTE
    collecting.round()
    assert standing(ledger, key) == CollectionRow(key, NOW + DAY, 1, 0, None, None, None)
    assert [s.figures.likes for s in FigureStore(ledger).snapshots()] == [4]


def test_the_platforms_wait_holds_for_the_whole_channel(ledger: SqlLedger) -> None:
    a, b = sent(ledger, NOW, "a", "b")
    clock = Clock(NOW + HOUR)
    until = NOW + 2 * HOUR
    x = FiguresConnector(a=[RetryLater("429", status=429, retry_at=until), Figures(likes=1)])
    collecting = collector(ledger, clock, x)

    assert collecting.round().missed == {"x-main": 1}
    assert standing(ledger, a).next_at == until
    assert standing(ledger, b).next_at == NOW + HOUR  # not asked: the platform said wait
    clock.now += 30 * MINUTE
    summary = collecting.round()
    assert "asked to wait until" in summary.waiting["x-main"]
    assert x.asked == ["a"]
    clock.now = until
    assert collecting.round().read == {"x-main": 2}


def test_after_the_attempts_only_the_next_moment_is_tried(ledger: SqlLedger) -> None:
    (key,) = sent(ledger, NOW, "a")
    clock = Clock(NOW + 7 * DAY)
    settings = config(["x-main"], after=["1h", "7d"], retry={"attempts": 2})
    x = FiguresConnector(a=RetryLater("503", status=503))
    collecting = collector(ledger, clock, x, settings=settings)
    collecting.round()
    clock.now = standing(ledger, key).next_at or NOW
    collecting.round()
    assert standing(ledger, key) == CollectionRow(key, None, 0, 2, None, None, "503")


def test_no_figures_ends_the_collection_with_its_reason(ledger: SqlLedger) -> None:
    gone, hidden = sent(ledger, NOW, "gone", "hidden")
    clock = Clock(NOW + HOUR)
    x = FiguresConnector(
        gone=FiguresUnavailable("the post was deleted", why="gone"),
        hidden=FiguresUnavailable("needs the tweet.read scope", why="not-permitted"),
    )
    collecting = collector(ledger, clock, x)
    summary = collecting.round()
    assert summary.ended == {("x-main", "gone"): 1, ("x-main", "not-permitted"): 1}
    assert standing(ledger, gone) == CollectionRow(
        gone, None, 0, 0, "gone", "the post was deleted", None
    )
    assert standing(ledger, hidden).ended == "not-permitted"
    clock.now = NOW + 30 * DAY
    collecting.round()
    assert x.asked == ["gone", "hidden"]
    assert "1 post have no figures: the post was deleted (x-main 1)." in summary.describe()


def test_a_platform_without_figures_is_never_asked(ledger: SqlLedger) -> None:
    (key,) = sent(ledger, NOW, "t", channel="telegram-news", platform="telegram")
    telegram = NoFiguresConnector("telegram-news")
    collector(ledger, Clock(NOW + HOUR), telegram).round()
    assert telegram.asked == []
    assert standing(ledger, key) == CollectionRow(
        key, None, 0, 0, "unsupported", "telegram offers no figures for posts", None
    )


def test_a_channel_with_posts_due_or_held_is_left_to_publishing(ledger: SqlLedger) -> None:
    sent(ledger, NOW, "a")
    ledger.sync([delivery("due", due=NOW + HOUR)], NOW, campaigns=["later"])
    clock = Clock(NOW + HOUR)
    x = FiguresConnector()
    collecting = collector(ledger, clock, x)
    assert collecting.round().waiting == {"x-main": "it has posts due, and they go first"}
    ledger.hold_channel("x-main", "token revoked", clock.now)
    assert "held" in collecting.round().waiting["x-main"]
    assert x.asked == []


def test_a_low_budget_stops_collection_first_and_publishing_goes_on(ledger: SqlLedger) -> None:
    """rate 4 per hour, headroom 0.5: once 2 posts started in the hour, collection waits;
    the posts due still go out, within the budget."""
    settings = config({"x-main": {"platform": "x", "rate": {"posts": 4, "per": "1h"}}})
    rate = settings.channels["x-main"].rate
    clock = Clock(NOW)
    publisher = ScriptedConnector()
    dispatcher = Dispatcher(
        ledger, {"x-main": publisher}, settings.file.policies, "test:1", clock=clock,
        rates={"x-main": rate} if rate else None, wait=clock.wait,
    )  # fmt: skip
    posts = [delivery(f"p{n}", due=NOW + (n // 2) * 10 * MINUTE) for n in range(4)]
    ledger.sync(posts, NOW, campaigns=["sayno"])
    x = FiguresConnector()
    collecting = collector(ledger, clock, x, settings=settings)
    stop = threading.Event()
    clock.now = NOW + MINUTE
    assert dispatcher.run_channel("x-main", stop) == 2
    FigureStore(ledger).discover({"x-main": timedelta(seconds=1)})

    clock.now = NOW + 5 * MINUTE
    summary = collecting.collect()
    assert summary.waiting == {"x-main": "its posting budget runs low, and publishing comes first"}
    assert x.asked == []
    clock.now = NOW + 10 * MINUTE
    assert dispatcher.run_channel("x-main", stop) == 2
    assert ledger.counts()[State.SENT] == 4
    assert x.asked == []


def test_collect_now_reads_a_campaigns_posts_whether_due_or_not(ledger: SqlLedger) -> None:
    mine = sent(ledger, NOW, "a", "b")
    sent(ledger, NOW, "c", campaign="other")
    clock = Clock(NOW + 10 * MINUTE)
    x = FiguresConnector(a=Figures(likes=2, reposts=1))
    summary = collect_now(
        ledger, config(["x-main"]), campaign="sayno", connectors={"x-main": x}, clock=clock
    )
    assert sorted(x.asked) == ["a", "b"]
    assert summary.describe() == "Figures read for 2 posts (x-main 2)."
    store = FigureStore(ledger)
    assert {s.key for s in store.snapshots()} == set(mine)
    assert {standing(ledger, k).next_at for k in mine} == {NOW + HOUR}  # the schedule stands
    assert list(store.collections(campaign="other")) == []
    x.asked.clear()
    collect_now(ledger, config(["x-main"]), connectors={"x-main": x}, clock=clock, limit=1)
    assert len(x.asked) == 1


def test_collect_now_says_which_channels_could_not_be_read(ledger: SqlLedger) -> None:
    sent(ledger, NOW, "a")
    settings = config({"x-main": {"platform": "x", "credentials": {"token": "${NO_SUCH_VAR}"}}})
    summary = collect_now(ledger, settings, clock=Clock(NOW))
    assert summary.waiting["x-main"].startswith("its credentials cannot be read")
    assert "x-main: not read now, its credentials cannot be read" in summary.describe()
    assert collect_now(ledger, config([]), clock=Clock(NOW)).describe() == (
        "No sent post has figures to read now."
    )


def test_metrics_hold_the_latest_totals_and_count_rounds(ledger: SqlLedger) -> None:
    sent(ledger, NOW, "a", "b")
    sent(ledger, NOW, "m", campaign="other")
    clock = Clock(NOW + HOUR)
    metrics = Metrics()
    x = FiguresConnector(
        a=Figures(likes=3, views=100), b=Figures(likes=4), m=RetryLater("502", status=502)
    )
    collecting = collector(ledger, clock, x, metrics=metrics)
    collecting.round()
    families = {f.name: f for f in text_string_to_metric_families(metrics.render().decode())}
    likes = {tuple(s.labels.values()): s.value for s in families["clarion_post_likes"].samples}
    assert likes == {("sayno", "x"): 7}
    assert [s.value for s in families["clarion_post_views"].samples] == [100]
    assert families["clarion_post_replies"].samples == []  # unknown, not zero
    assert families["clarion_figure_rounds"].samples[0].value == 1
    reads = families["clarion_figure_reads"].samples[0]
    assert (reads.labels, reads.value) == ({"platform": "x"}, 2)
    assert families["clarion_figure_failures"].samples[0].value == 1
