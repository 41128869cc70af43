"""Every connector's `figures()` against its platform's loopback fake, through one contract.

For each platform: the figures of a post others reacted to (as the platform names and counts
them), a post that never existed and one deleted ("gone"), a token without the permission to
read them ("not-permitted"), a 429 with the platform's own rate headers (tried again when the
platform says), a server error and a time-out (tried again). Platforms without such an API
say so instead of answering zeros.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.base import (
    ChannelAccess,
    Connector,
    Figures,
    FiguresUnavailable,
    PlatformRef,
    RetryLater,
)
from connectors.fakes.server import FakePlatform, Fault
from connectors.outbox import OutboxConnector
from connectors.platforms.bluesky.connector import BlueskyConnector
from connectors.platforms.bluesky.fake import FakeBluesky, did_for
from connectors.platforms.facebook import fake as facebook
from connectors.platforms.facebook.connector import FacebookConnector
from connectors.platforms.facebook.fake import FacebookFake
from connectors.platforms.linkedin import fake as linkedin
from connectors.platforms.linkedin.connector import LinkedInConnector
from connectors.platforms.linkedin.fake import LinkedInFake
from connectors.platforms.mastodon import fake as mastodon
from connectors.platforms.mastodon.connector import MastodonConnector
from connectors.platforms.mastodon.fake import MastodonFake
from connectors.platforms.telegram.connector import TelegramConnector
from connectors.platforms.threads import fake as threads
from connectors.platforms.threads.connector import ThreadsConnector
from connectors.platforms.threads.fake import ThreadsFake
from connectors.platforms.x import fake as x
from connectors.platforms.x.connector import PAID_PLAN, XConnector
from connectors.platforms.x.fake import XFake
from connectors.registry import create
from tests.connectors.social import post

HANDLE, APP_PASSWORD = "sayno.test", "fake-appp-pass-word"
RECORDED = Path(__file__).parent / "cassettes" / "mastodon-py" / "test_status_reply.yaml"


def _in(minutes: float) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=minutes)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _graph_throttle(code: int, minutes: int) -> tuple[int, Any, dict[str, str]]:
    """Meta's rate limit: a 400 with a throttling code and the time to regain access."""
    usage = {
        "1": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": minutes}]
    }
    body = {"error": {"message": "Application request limit reached", "code": code}}
    return 400, body, {"X-Business-Use-Case-Usage": json.dumps(usage)}


@dataclass(frozen=True)
class Platform:
    """One (connector, fake) pair and the platform's own ways of saying things."""

    name: str
    fake: Callable[[], FakePlatform]
    config: ChannelAccess
    build: Callable[[ChannelAccess], Connector]
    reacted: Figures
    """What `figures()` reads after one like, repost, reply and quote by others."""
    missing: PlatformRef
    deny: Callable[[Any], None]
    """Take away the permission to read figures (or every permission, where any account
    may read them)."""
    throttled: Callable[[], tuple[int, Any, dict[str, str], datetime | None]]
    """A 429 (or the platform's equivalent) with its rate headers, and when to try again."""
    reads: str
    """The path of the figures read, for scripted faults."""

    def connector(self, fake: FakePlatform, timeout: float = 2.0) -> Connector:
        return self.build(replace(self.config, base_url=fake.base_url, timeout=timeout))


def _mastodon_throttle() -> tuple[int, Any, dict[str, str], datetime | None]:
    reset = _in(3)
    headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0"}
    return 429, {"error": "Too many requests"}, headers | {"X-RateLimit-Reset": _iso(reset)}, reset


def _bluesky_throttle() -> tuple[int, Any, dict[str, str], datetime | None]:
    reset = _in(4)
    headers = {
        "RateLimit-Limit": "3000",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": str(int(reset.timestamp())),
        "RateLimit-Policy": "3000;w=300",
        "Retry-After": "240",
    }
    return 429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, headers, reset


def _x_throttle() -> tuple[int, Any, dict[str, str], datetime | None]:
    reset = _in(12)
    headers = {
        "x-rate-limit-limit": "15",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(int(reset.timestamp())),
    }
    body = x.problem(429, "Too Many Requests", "Too Many Requests")
    return 429, body, headers, reset


def _linkedin_throttle() -> tuple[int, Any, dict[str, str], datetime | None]:
    """LinkedIn sends no rate headers: its daily limits reset at midnight UTC."""
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    body = {"status": 429, "serviceErrorCode": 101, "message": "Resource level throttle limit"}
    return 429, body, {}, midnight + timedelta(days=1)


def _graph_throttled(code: int) -> Callable[[], tuple[int, Any, dict[str, str], datetime | None]]:
    def throttled() -> tuple[int, Any, dict[str, str], datetime | None]:
        status, body, headers = _graph_throttle(code, 25)
        return status, body, headers, _in(25)

    return throttled


def _deny_mastodon(fake: MastodonFake) -> None:
    fake.tokens[mastodon.ACCESS_TOKEN].scopes = {"write"}


def _deny_bluesky(fake: FakeBluesky) -> None:
    fake.revoke(APP_PASSWORD)
    fake.expire_access_tokens()


def _deny_x(fake: XFake) -> None:
    fake.free_plan = True


def _deny_linkedin(fake: LinkedInFake) -> None:
    fake.statistics_allowed = False


def _deny_facebook(fake: FacebookFake) -> None:
    fake.permissions.clear()


def _deny_threads(fake: ThreadsFake) -> None:
    fake.insights_allowed = False


def _bluesky_fake() -> FakeBluesky:
    fake = FakeBluesky()
    fake.add_account(HANDLE, APP_PASSWORD)
    return fake


PLATFORMS = [
    Platform(
        "mastodon",
        MastodonFake,
        ChannelAccess(
            "mastodon-main", "mastodon", credentials={"access_token": mastodon.ACCESS_TOKEN}
        ),
        MastodonConnector,
        Figures(likes=1, reposts=1, replies=1, quotes=1),
        PlatformRef("109999999999999999"),
        _deny_mastodon,
        _mastodon_throttle,
        r"^/api/v1/statuses/\d+$",
    ),
    Platform(
        "bluesky",
        _bluesky_fake,
        ChannelAccess(
            "bluesky-main",
            "bluesky",
            credentials={"identifier": HANDLE, "app_password": APP_PASSWORD},
            options={"link_cards": False},
        ),
        BlueskyConnector,
        Figures(likes=1, reposts=1, replies=1, quotes=1),
        PlatformRef(f"at://{did_for(HANDLE)}/app.bsky.feed.post/3lfxk2abcde22"),
        _deny_bluesky,
        _bluesky_throttle,
        r"app\.bsky\.feed\.getPosts",
    ),
    Platform(
        "x",
        XFake,
        ChannelAccess(
            "x-main",
            "x",
            credentials={
                "consumer_key": x.CONSUMER_KEY,
                "consumer_secret": x.CONSUMER_SECRET,
                "access_token": x.ACCESS_TOKEN,
                "access_token_secret": x.ACCESS_TOKEN_SECRET,
            },
        ),
        XConnector,
        Figures(
            likes=1,
            reposts=1,
            replies=1,
            quotes=1,
            views=4,
            clicks=0,
            extra={"bookmarks": 0, "profile_clicks": 0},
        ),
        PlatformRef("1456012973835788299"),
        _deny_x,
        _x_throttle,
        r"^/2/tweets/\d+$",
    ),
    Platform(
        "linkedin",
        LinkedInFake,
        ChannelAccess(
            "linkedin-page",
            "linkedin",
            credentials={"access_token": linkedin.TOKEN},
            options={"author": linkedin.ORGANIZATION},
        ),
        LinkedInConnector,
        Figures(likes=1, reposts=1, replies=1, views=4, clicks=4, extra={"unique_impressions": 4}),
        PlatformRef("urn:li:share:7141138937766391000"),
        _deny_linkedin,
        _linkedin_throttle,
        r"organizationalEntityShareStatistics",
    ),
    Platform(
        "facebook",
        FacebookFake,
        ChannelAccess(
            "facebook-page",
            "facebook",
            credentials={"page_access_token": facebook.TOKEN},
            options={"page_id": facebook.PAGE},
        ),
        FacebookConnector,
        Figures(likes=1, reposts=1, replies=1, views=4, clicks=4),
        PlatformRef(f"{facebook.PAGE}_1"),
        _deny_facebook,
        _graph_throttled(80001),
        rf"/{facebook.PAGE}_\d+$",
    ),
    Platform(
        "threads",
        ThreadsFake,
        ChannelAccess(
            "threads-main",
            "threads",
            credentials={"access_token": threads.TOKEN},
            options={"user_id": threads.USER},
        ),
        ThreadsConnector,
        Figures(likes=1, reposts=1, replies=1, quotes=1, views=4, extra={"shares": 0}),
        PlatformRef("18000000000000999"),
        _deny_threads,
        _graph_throttled(4),
        r"/insights$",
    ),
]


@pytest.fixture(params=PLATFORMS, ids=[p.name for p in PLATFORMS])
def platform(request: pytest.FixtureRequest) -> Platform:
    chosen: Platform = request.param
    return chosen


@pytest.fixture
def fake(platform: Platform) -> Iterator[Any]:
    with platform.fake() as started:
        yield started


def published(platform: Platform, fake: Any) -> tuple[Connector, PlatformRef]:
    connector = platform.connector(fake)
    return connector, connector.publish(post(key=f"sayno/figures/{platform.name}")).ref


def test_figures_count_what_others_did(platform: Platform, fake: Any) -> None:
    connector, ref = published(platform, fake)
    assert connector.capabilities.figures
    fresh = connector.figures(ref)
    assert (fresh.likes, fresh.reposts, fresh.replies) == (0, 0, 0)

    fake.react(ref.id, likes=1, reposts=1, replies=1, quotes=1)

    assert connector.figures(ref) == platform.reacted


def test_a_post_that_never_existed_is_gone(platform: Platform, fake: Any) -> None:
    connector, _ = published(platform, fake)
    with pytest.raises(FiguresUnavailable) as caught:
        connector.figures(platform.missing)
    assert caught.value.why == "gone"


def test_a_deleted_post_is_gone(platform: Platform, fake: Any) -> None:
    connector, ref = published(platform, fake)
    connector.figures(ref)
    fake.delete_post(ref.id)
    with pytest.raises(FiguresUnavailable) as caught:
        connector.figures(ref)
    assert caught.value.why == "gone"


def test_without_permission_figures_are_not_permitted(platform: Platform, fake: Any) -> None:
    connector, ref = published(platform, fake)
    platform.deny(fake)
    with pytest.raises(FiguresUnavailable) as caught:
        connector.figures(ref)
    assert caught.value.why == "not-permitted"
    assert caught.value.reason


def test_a_rate_limit_is_waited_out_as_the_platform_says(platform: Platform, fake: Any) -> None:
    connector, ref = published(platform, fake)
    status, body, headers, expected = platform.throttled()
    fake.respond(status, body, headers, method="GET", path=platform.reads)
    with pytest.raises(RetryLater) as caught:
        connector.figures(ref)
    assert caught.value.retry_at is not None and expected is not None
    assert abs(caught.value.retry_at - expected) <= timedelta(seconds=2)
    assert connector.figures(ref).likes == 0


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_tried_again(platform: Platform, fake: Any, status: int) -> None:
    connector, ref = published(platform, fake)
    fake.respond(status, "<html>Bad gateway</html>", method="GET", path=platform.reads)
    with pytest.raises(RetryLater):
        connector.figures(ref)
    assert connector.figures(ref).likes == 0


def test_a_time_out_is_tried_again(platform: Platform, fake: Any) -> None:
    _, ref = published(platform, fake)
    connector = platform.connector(fake, timeout=0.3)
    connector.figures(ref)  # a session, where the platform needs one
    fake.inject(Fault("stall", seconds=1.0, method="GET", path=platform.reads))
    with pytest.raises(RetryLater):
        connector.figures(ref)


# -- what one platform does differently ------------------------------------------------------


def test_mastodon_reads_a_status_as_a_real_server_wrote_it() -> None:
    """The Status that Mastodon.py recorded from a real server (a post with one reply)."""
    recorded = yaml.safe_load(RECORDED.read_text(encoding="utf-8"))["interactions"][-1]
    status = json.loads(recorded["response"]["body"]["string"])
    with MastodonFake() as fake:
        connector = PLATFORMS[0].connector(fake)
        fake.respond(200, status, method="GET", path=r"^/api/v1/statuses/\d+$")
        figures = connector.figures(PlatformRef(status["id"], status["url"]))
    assert figures == Figures(likes=0, reposts=0, replies=1, quotes=0)


def test_bluesky_waits_for_an_appview_that_has_not_indexed_the_post() -> None:
    with _bluesky_fake() as fake:
        fake.appview_lag = True
        connector, ref = published(PLATFORMS[1], fake)
        before = datetime.now(UTC)
        with pytest.raises(RetryLater) as caught:
            connector.figures(ref)
        assert caught.value.retry_at is not None
        assert caught.value.retry_at >= before + timedelta(minutes=5)
        fake.index()
        fake.react(ref.id, likes=2)
        assert connector.figures(ref) == Figures(likes=2, reposts=0, replies=0, quotes=0)


def test_x_says_which_figures_the_api_plan_gives() -> None:
    with XFake() as fake:
        connector = PLATFORMS[2].connector(fake)
        assert "public metrics" in str(connector.check().figures)
        fake.free_plan = True
        report = connector.check()
    assert report.ok
    assert report.figures == PAID_PLAN


def test_x_asks_for_link_clicks_only_while_x_gives_them() -> None:
    with XFake() as fake:
        connector, ref = published(PLATFORMS[2], fake)
        connector.figures(ref)
        with pytest.raises(FiguresUnavailable):
            connector.figures(PlatformRef("1456012973835788293"))  # a post from 2021
    fields = [r.query["tweet.fields"][0] for r in fake.requests if r.path.startswith("/2/tweets/")]
    assert fields == ["public_metrics,non_public_metrics", "public_metrics"]


def test_linkedin_gives_no_figures_for_a_members_posts() -> None:
    with LinkedInFake() as fake:
        connector = PLATFORMS[3].build(
            replace(
                PLATFORMS[3].config, base_url=fake.base_url, options={"author": linkedin.MEMBER}
            )
        )
        with pytest.raises(FiguresUnavailable) as caught:
            connector.figures(PlatformRef("urn:li:share:1"))
    assert caught.value.why == "unsupported"


def test_facebook_without_read_insights_gives_counts_without_views() -> None:
    with FacebookFake() as fake:
        connector, ref = published(PLATFORMS[4], fake)
        fake.react(ref.id, likes=3)
        fake.permissions.discard("read_insights")
        assert connector.figures(ref) == Figures(likes=3, reposts=0, replies=0)


def test_platforms_without_figures_say_so(tmp_path: Path) -> None:
    connectors = [
        TelegramConnector(
            ChannelAccess(
                "telegram", "telegram", credentials={"bot_token": "1:x"}, options={"chat_id": "1"}
            )
        ),
        create(
            ChannelAccess(
                "slack",
                "webhook",
                credentials={"url": "https://hooks.slack.com/services/T/B/x"},
                options={"format": "slack"},
            )
        ),
        OutboxConnector(ChannelAccess("dry", "mastodon"), tmp_path / "outbox.jsonl"),
    ]
    for connector in connectors:
        assert not connector.capabilities.figures
        with pytest.raises(FiguresUnavailable) as caught:
            connector.figures(PlatformRef("1"))
        assert caught.value.why == "unsupported"
        connector.close()
