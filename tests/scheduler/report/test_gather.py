"""What `build_report` reads out of the ledger: health, figures and why they are missing,
breakdowns, ranking, the period."""

from __future__ import annotations

from datetime import timedelta

from scheduler.ledger.sql import SqlLedger
from scheduler.report import Period, Report, build_report
from scheduler.report.model import Coverage
from tests.scheduler.ledgerkit import NOW
from tests.scheduler.report.reportkit import at, has_figures, seed


def test_delivery_health_counts_every_state_and_how_late(report: Report) -> None:
    health = report.health
    assert health.states == {
        "planned": 1,
        "held": 0,
        "claimed": 0,
        "sent": 6,
        "failed": 1,
        "unknown": 0,
        "expired": 0,
        "cancelled": 0,
    }
    assert (health.on_time, health.late, health.total) == (4, 2, 8)
    assert health.lateness.median == timedelta(minutes=21)
    assert health.lateness.p95 == health.lateness.max == timedelta(minutes=30)


def test_a_post_without_figures_says_why_and_is_never_zero(report: Report) -> None:
    posts = {p.key: p for p in report.posts}
    assert posts["sayno/tips/en/telegram-news"].coverage is Coverage.UNSUPPORTED
    gone = posts["sayno/tips/en/bluesky-main"]
    assert (gone.coverage, gone.coverage_note) == (Coverage.GONE, "Post not found")
    assert posts["sayno/tips/en/telegram-news"].responses is None
    assert posts["sayno/launch/en/mastodon-main"].coverage is Coverage.COLLECTED
    assert posts["sayno/broken/en/x-main"].coverage is None  # not sent
    telegram = next(g for g in report.groups["platform"] if g.name == "telegram")
    assert (telegram.sent, telegram.measured, telegram.responses) == (1, 0, None)
    assert telegram.totals["likes"] is None
    assert telegram.without == {"unsupported": 1}


def test_figures_not_read_yet_are_said_so(seeded: SqlLedger) -> None:
    report = build_report(seeded, "sayno", has_figures=lambda platform: True)
    telegram = next(p for p in report.posts if p.channel == "telegram-news")
    assert telegram.coverage is Coverage.NOT_YET


def test_breakdowns_add_up_the_latest_reading_of_each_post(report: Report) -> None:
    languages = {g.name: g for g in report.groups["language"]}
    assert languages["en"].totals["likes"] == 12 + 0 + 7
    assert languages["en"].responses == (12 + 5 + 2) + 0 + (7 + 0 + 1)
    assert languages["fr"].responses == 3
    assert languages["en"].totals["views"] is None  # no platform gave it
    assert [g.name for g in report.groups["day"]] == ["2027-02-09"]
    assert [g.name for g in report.groups["post"]] == ["hostile", "launch", "tips"]


def test_the_top_and_bottom_posts_rank_the_measured_ones(report: Report) -> None:
    assert [p.key for p in report.top] == [
        "sayno/launch/en/mastodon-main",
        "sayno/hostile/en/mastodon-main",
    ]
    assert [p.key for p in report.bottom] == [
        "sayno/launch/en/bluesky-main",
        "sayno/launch/fr/mastodon-main",
    ]


def test_snapshots_show_how_a_post_grew(report: Report) -> None:
    post = next(p for p in report.posts if p.key == "sayno/launch/en/mastodon-main")
    assert [s.responses for s in post.snapshots] == [4, 16, 19]
    assert post.url == "https://mastodon-main.example/sayno/launch/en"


def test_the_period_keeps_deliveries_due_in_it(seeded: SqlLedger) -> None:
    report = build_report(seeded, "sayno", period=Period(at(1), at(3)), has_figures=has_figures)
    assert [p.key for p in report.posts] == [
        "sayno/launch/fr/mastodon-main",
        "sayno/launch/en/bluesky-main",
    ]
    assert report.health.total == 2


def test_a_paused_campaign_holds_its_planned_deliveries(seeded: SqlLedger) -> None:
    seeded.pause("sayno", "board meeting", "test", NOW)
    report = build_report(seeded, "sayno", has_figures=has_figures, now=NOW)
    assert report.health.states["held"] == 1
    assert report.health.states["planned"] == 0


def test_another_campaign_is_left_out(ledger: SqlLedger) -> None:
    seed(ledger, "sayno")
    seed(ledger, "other")
    report = build_report(ledger, "other", has_figures=has_figures)
    assert {p.campaign for p in report.posts} == {"other"}
    everything = build_report(ledger, has_figures=has_figures)
    assert everything.health.total == 16
    assert "other/launch" in [g.name for g in everything.groups["post"]]


def test_platforms_without_figures_are_known_from_their_connectors() -> None:
    from scheduler.report.gather import platform_has_figures

    assert not platform_has_figures("telegram")
    assert not platform_has_figures("webhook")
    assert platform_has_figures("mastodon")
    assert not platform_has_figures("myspace")  # no connector at all
