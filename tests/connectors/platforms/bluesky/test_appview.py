"""Bluesky figures on a real network: PLC, PDS and the AppView of @atproto/dev-env
(tests/peers/pds/appview.mjs), the AppView indexing into PostgreSQL on 127.0.0.1:5432, in a
database of its own made for the run and dropped after it, with Redis on 127.0.0.1:6379.

Another account likes, reposts, replies to and quotes a post that Clarion published; the
connector reads each of them back through its PDS, which passes `getPosts` on to the AppView.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from connectors.base import ChannelAccess, Figures, FiguresUnavailable, PlatformRef, Post
from connectors.platforms.bluesky.connector import BlueskyConnector
from tests.connectors.platforms.bluesky.peer import Account, Peer, create_account, running

pytestmark = [pytest.mark.node, pytest.mark.postgres, pytest.mark.slow]

PG_HOST = "127.0.0.1:5432"
REDIS = ("127.0.0.1", 6379)
START_SECONDS = 240
INDEX_SECONDS = 60
DUE = datetime(2027, 2, 9, 8, 0, tzinfo=UTC)


def _needs(what: str, message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(f"SKIPPED BLUESKY APPVIEW TEST ({what}): {message}")


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    import psycopg

    name = f"clarion_appview_{uuid.uuid4().hex[:12]}"
    admin = f"postgresql://postgres@{PG_HOST}/postgres"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        _needs("PostgreSQL", f"PostgreSQL is not reachable at {PG_HOST} ({str(exc).strip()})")
    yield f"postgresql://postgres@{PG_HOST}/{name}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def network(database: str) -> Iterator[Peer]:
    try:
        socket.create_connection(REDIS, timeout=5).close()
    except OSError as exc:
        _needs("Redis", f"the AppView needs Redis on {REDIS[0]}:{REDIS[1]} ({exc})")
    env = {"DB_POSTGRES_URL": database, "REDIS_HOST": f"{REDIS[0]}:{REDIS[1]}"}
    with running("appview.mjs", START_SECONDS, env) as peer:
        yield peer


def indexed(network: Peer) -> None:
    """Wait until the AppView has indexed everything the PDS wrote."""
    assert network.ask("process", INDEX_SECONDS) == {"processed": True}


def write(pds: str, account: Account, collection: str, record: dict[str, Any]) -> dict[str, str]:
    """A record the account writes itself, as the Bluesky app would."""
    record = {"$type": collection, "createdAt": datetime.now(UTC).isoformat(), **record}
    response = httpx.post(
        f"{pds}/xrpc/com.atproto.repo.createRecord",
        json={"repo": account.did, "collection": collection, "record": record},
        headers={"Authorization": f"Bearer {account.access}"},
    )
    response.raise_for_status()
    created: dict[str, str] = response.json()
    return {"uri": created["uri"], "cid": created["cid"]}


def clarion(pds: str, account: Account) -> BlueskyConnector:
    credentials = {"identifier": account.handle, "app_password": account.app_password}
    return BlueskyConnector(
        ChannelAccess(
            name="bluesky-main",
            platform="bluesky",
            credentials=credentials,
            base_url=pds,
            options={"link_cards": False},
            timeout=10.0,
        )
    )


def test_figures_of_a_published_post_through_the_appview(network: Peer) -> None:
    pds = str(network.ready["pds"])
    alice, bob = create_account(pds, "alice"), create_account(pds, "bob")
    connector = clarion(pds, alice)
    post = Post(key="sayno/figures/en/bsky", text="Say no, with us #SayNo", due=DUE)
    ref = connector.publish(post).ref
    subject = {"uri": ref.extra["uri"], "cid": ref.extra["cid"]}
    indexed(network)
    assert connector.figures(ref) == Figures(likes=0, reposts=0, replies=0, quotes=0)

    write(pds, bob, "app.bsky.feed.like", {"subject": subject})
    write(pds, bob, "app.bsky.feed.repost", {"subject": subject})
    write(
        pds,
        bob,
        "app.bsky.feed.post",
        {"text": "Count me in", "reply": {"root": subject, "parent": subject}},
    )
    write(
        pds,
        bob,
        "app.bsky.feed.post",
        {"text": "Read this", "embed": {"$type": "app.bsky.embed.record", "record": subject}},
    )
    indexed(network)

    assert connector.figures(ref) == Figures(likes=1, reposts=1, replies=1, quotes=1)

    rkey = ref.id.rsplit("/", 1)[1]
    deleted = httpx.post(
        f"{pds}/xrpc/com.atproto.repo.deleteRecord",
        json={"repo": alice.did, "collection": "app.bsky.feed.post", "rkey": rkey},
        headers={"Authorization": f"Bearer {alice.access}"},
    )
    deleted.raise_for_status()
    indexed(network)
    with pytest.raises(FiguresUnavailable) as caught:
        connector.figures(ref)
    assert caught.value.why == "gone"
    with pytest.raises(FiguresUnavailable):
        connector.figures(PlatformRef(f"at://{alice.did}/app.bsky.feed.post/3lfxk2abcde22"))
    connector.close()
