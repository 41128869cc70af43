"""Every connector's `figures()` against its platform's loopback fake, through one contract.

For each platform: the figures of a post others reacted to (as the platform names and counts
them), a post that never existed and one deleted ("gone"), a token without the permission to
read them ("not-permitted"), a 429 with the platform's own rate headers (tried again when the
platform says), a server error and a time-out (tried again). Platforms without such an API
say so instead of answering zeros. Each fake, its channel and its rate-limit answer are the
catalog's (`channel()`, `throttle()`: tests/connectors/contract uses the same).
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
from connectors.catalog import imported, platforms
from connectors.fakes.server import FakePlatform, Fault
from connectors.outbox import OutboxConnector
from connectors.platforms.bluesky.fake import HANDLE, FakeBluesky, did_for
from connectors.platforms.facebook import fake as facebook
from connectors.platforms.facebook.fake import FacebookFake
from connectors.platforms.linkedin import fake as linkedin
from connectors.platforms.linkedin.fake import LinkedInFake
from connectors.platforms.mastodon import fake as mastodon
from connectors.platforms.mastodon.fake import MastodonFake
from connectors.platforms.telegram.connector import TelegramConnector
from connectors.platforms.threads.fake import ThreadsFake
from connectors.platforms.x.connector import PAID_PLAN
from connectors.platforms.x.fake import XFake
from connectors.registry import create
from tests.connectors.social import HANG, IMPATIENT, post

RECORDED = Path(__file__).parent / "cassettes" / "mastodon-py" / "test_status_reply.yaml"


@dataclass(frozen=True)
class Platform:
    """A platform of the catalog whose connector reads figures, with what its fake cannot
    say in the contract's terms: how it counts reactions, a post it never had, how to take
    the permission to read figures away, and which request reads them."""

    name: str
    reacted: Figures
    """What `figures()` reads after one like, repost, reply and quote by others."""
    missing: Callable[[Any], PlatformRef]
    deny: Callable[[Any], None]
    """Take away the permission to read figures (or every permission, where any account
    may read them)."""
    reads: str
    """The path of the figures read, for scripted faults."""

    def fake(self) -> FakePlatform:
        made: FakePlatform = imported(platforms()[self.name].fake)()
        return made

    def connector(self, fake: FakePlatform, timeout: float = 2.0) -> Connector:
        return create(replace(fake.channel(), timeout=timeout))


def _deny_mastodon(fake: MastodonFake) -> None:
    fake.tokens[mastodon.ACCESS_TOKEN].scopes = {"write"}


def _deny_bluesky(fake: FakeBluesky) -> None:
    fake.revoke()
    fake.expire_access_tokens()


def _deny_x(fake: XFake) -> None:
    fake.free_plan = True


def _deny_linkedin(fake: LinkedInFake) -> None:
    fake.statistics_allowed = False


def _deny_facebook(fake: FacebookFake) -> None:
    fake.permissions.clear()


def _deny_threads(fake: ThreadsFake) -> None:
    fake.insights_allowed = False


def _nowhere(post_id: str) -> Callable[[Any], PlatformRef]:
    return lambda fake: PlatformRef(post_id)


def _bluesky_nowhere(fake: FakeBluesky) -> PlatformRef:
    return PlatformRef(f"at://{did_for(HANDLE)}/app.bsky.feed.post/3lfxk2abcde22")


PLATFORMS = [
    Platform(
        "mastodon",
        Figures(likes=1, reposts=1, replies=1, quotes=1),
        _nowhere("109999999999999999"),
        _deny_mastodon,
        r"^/api/v1/statuses/\d+$",
    ),
    Platform(
        "bluesky",
        Figures(likes=1, reposts=1, replies=1, quotes=1),
        _bluesky_nowhere,
        _deny_bluesky,
        r"app\.bsky\.feed\.getPosts",
    ),
    Platform(
        "x",
        Figures(
            likes=1,
            reposts=1,
            replies=1,
            quotes=1,
            views=4,
            clicks=0,
            extra={"bookmarks": 0, "profile_clicks": 0},
        ),
        _nowhere("1456012973835788299"),
        _deny_x,
        r"^/2/tweets/\d+$",
    ),
    Platform(
        "linkedin",
        Figures(likes=1, reposts=1, replies=1, views=4, clicks=4, extra={"unique_impressions": 4}),
        _nowhere("urn:li:share:7141138937766391000"),
        _deny_linkedin,
        r"organizationalEntityShareStatistics",
    ),
    Platform(
        "facebook",
        Figures(likes=1, reposts=1, replies=1, views=4, clicks=4),
        _nowhere(f"{facebook.PAGE}_1"),
        _deny_facebook,
        rf"/{facebook.PAGE}_\d+$",
    ),
    Platform(
        "threads",
        Figures(likes=1, reposts=1, replies=1, quotes=1, views=4, extra={"shares": 0}),
        _nowhere("18000000000000999"),
        _deny_threads,
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
        connector.figures(platform.missing(fake))
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
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=12)
    fake.answer(fake.throttle(until), method="GET", path=platform.reads)
    with pytest.raises(RetryLater) as caught:
        connector.figures(ref)
    if fake.throttle_tells_time:
        expected = until
    else:  # LinkedIn sends no time: its daily limits reset at midnight UTC
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        expected = midnight + timedelta(days=1)
    assert caught.value.retry_at is not None
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
    connector = platform.connector(fake, timeout=IMPATIENT)
    connector.figures(ref)  # a session, where the platform needs one
    fake.inject(Fault("stall", seconds=HANG, method="GET", path=platform.reads))
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
    with FakeBluesky() as fake:
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
        channel = fake.channel()
        connector = create(replace(channel, options={**channel.options, "author": linkedin.MEMBER}))
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
