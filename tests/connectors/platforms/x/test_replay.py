"""The X connector against exchanges recorded with the real X API (tweepy's cassettes).

`test_client_create_and_delete_tweet.yaml` is replayed whole through `publish`: the request
must match the recording (method, URL, JSON body) and the recorded answer must become the
platform reference. `testmediauploadpng.yaml` is v1.1 (`upload.twitter.com/1.1/media/
upload.json`), which X retired for self-serve plans; the connector uses v2, whose path and
answer differ, so that exchange cannot be replayed. What still applies is the request's
multipart `media` part, the same field in v2: the connector must send the recorded PNG as
tweepy did, byte for byte, under the same name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import requests
import vcr
import yaml

from connectors.base import ChannelAccess, MediaFile, PlatformRef, Post
from connectors.fakes.params import multipart
from connectors.fakes.server import Request
from connectors.platforms.x.connector import XConnector
from connectors.platforms.x.fake import XFake
from tests.connectors.platforms.x.test_connector import OAUTH1

CASSETTES = Path(__file__).parents[2] / "cassettes" / "tweepy"
replay = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    match_on=["method", "scheme", "host", "port", "path", "query", "body"],
    decode_compressed_response=True,
)


def connector(base_url: str, account: str | None = None) -> XConnector:
    return XConnector(
        ChannelAccess("x-main", "x", account=account, credentials=OAUTH1, base_url=base_url)
    )


def test_the_recorded_create_tweet_becomes_a_platform_reference() -> None:
    x = connector("https://api.twitter.com")
    sent: list[requests.PreparedRequest] = []
    x._api.session.hooks["response"].append(lambda r, *a, **k: sent.append(r.request))
    with replay.use_cassette("test_client_create_and_delete_tweet.yaml") as cassette:
        published = x.publish(Post("sayno/test/en/x-main", "Test Tweet", datetime.now(UTC)))
        assert cassette.play_count == 1
    assert published.ref == PlatformRef(
        "1456012973835788293", "https://x.com/i/web/status/1456012973835788293"
    )
    [request] = sent
    assert request.url == "https://api.twitter.com/2/tweets"
    assert request.body == b'{"text": "Test Tweet"}'
    assert str(request.headers["Authorization"]).startswith("OAuth ")


def test_the_recorded_answer_with_the_account_gives_its_web_address() -> None:
    x = connector("https://api.twitter.com", account="TwitterDev")
    with replay.use_cassette("test_client_create_and_delete_tweet.yaml"):
        published = x.publish(Post("k", "Test Tweet", datetime.now(UTC)))
    assert published.ref.url == "https://x.com/TwitterDev/status/1456012973835788293"


def test_an_image_goes_up_as_tweepy_sent_it_recorded(tmp_path: Path) -> None:
    recording = yaml.safe_load((CASSETTES / "testmediauploadpng.yaml").read_text())
    recorded = recording["interactions"][0]["request"]
    v1 = Request(
        "POST",
        "/1.1/media/upload.json",
        {},
        {"content-type": recorded["headers"]["Content-Type"][0]},
        recorded["body"],
    )
    tweepy_part = multipart(v1)["media"]
    banner = tmp_path / str(tweepy_part.filename)
    banner.write_bytes(tweepy_part.content)

    with XFake() as fake:
        connector(fake.base_url).publish(
            Post("k", "Banner", datetime.now(UTC), media=(MediaFile(banner, "", "image/png"),))
        )
    upload = next(r for r in fake.requests if r.path == "/2/media/upload")
    ours = multipart(upload)
    assert ours["media"].content == tweepy_part.content
    assert ours["media"].filename == "banner.png"
    assert ours["media_category"].content == b"tweet_image"  # v2 needs it; v1.1 did not
