"""What the contract's cases share: a post due now, the faults placed before or on the
request that makes the post, and what the scheduler would learn after an unknown outcome."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from connectors.base import Connector, MediaFile, Post
from connectors.fakes.server import FakePlatform, Fault, Response
from tests.connectors.social import post


def due_now(text: str, media: tuple[MediaFile, ...] = (), key: str = "contract/p/en/c") -> Post:
    """Due now, so that a look-up for it searches the posts made now."""
    return post(text, key=key, media=media, due=datetime.now(UTC))


def on_the_post(fake: FakePlatform, fault: Fault) -> None:
    """`fault` for the request that makes the post."""
    method, path = fake.publish_route
    fake.inject(Fault(fault.kind, fault.response, fault.seconds, method, path))


def before_the_post(fake: FakePlatform, fault: Fault) -> None:
    """`fault` for the first request that is not the one making the post (an upload, a
    session, a look-up), if the post needs any."""
    fake.inject(Fault(fault.kind, fault.response, fault.seconds, None, not_the_post(fake)))


def not_the_post(fake: FakePlatform) -> str:
    return f"^(?!.*(?:{fake.publish_route[1]}))"


def sent_before(fake: FakePlatform) -> bool:
    """Whether a request went to the platform before the first one that makes the post."""
    method, path = fake.publish_route
    making = (
        i for i, r in enumerate(fake.requests) if r.method == method and re.search(path, r.path)
    )
    return next(making, len(fake.requests)) > 0


UNAVAILABLE = Response(503, "Service Unavailable")


def settled(connector: Connector, sent: Post) -> str | None:
    """What the scheduler learns of `sent` after an unknown outcome, the way it asks: by
    publishing again where the platform recognises a repeat, else by looking it up; None
    where the platform can do neither, or nothing went out."""
    capabilities = connector.capabilities
    if capabilities.idempotency in ("key", "record-key"):
        return connector.publish(sent).ref.id
    if capabilities.lookup:
        found = connector.lookup(sent)
        return found.id if found else None
    return None
