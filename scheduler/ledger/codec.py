"""Delivery ↔ the JSON payload the ledger stores, and the fingerprint sync compares.

A payload is encoded once, here: the engine's JSON serialiser (`dumps`) passes an `Encoded`
value through untouched.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from campaigns.delivery import Delivery, Media

_FIELDS = frozenset(f.name for f in fields(Delivery))
_TIMES = ("due_utc", "deadline_utc")
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class Encoded(str):
    """JSON text, already encoded."""


def dumps(value: Any) -> str:
    """The engine's JSON serialiser."""
    return value if isinstance(value, Encoded) else _ENCODER.encode(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def encode(delivery: Delivery) -> Encoded:
    """Every field of the delivery as JSON; datetimes as ISO 8601 with their offset."""
    return Encoded(_ENCODER.encode(_fields(delivery)))


def _fields(delivery: Delivery) -> dict[str, Any]:
    return {
        "key": delivery.key,
        "campaign": delivery.campaign,
        "post": delivery.post,
        "channel": delivery.channel,
        "platform": delivery.platform,
        "language": delivery.language,
        "audience": delivery.audience,
        "due_utc": _iso(delivery.due_utc),
        "timezone": delivery.timezone,
        "deadline_utc": _iso(delivery.deadline_utc),
        "text": delivery.text,
        "thread_index": delivery.thread_index,
        "thread_size": delivery.thread_size,
        "parent_key": delivery.parent_key,
        "media": [_media(m) for m in delivery.media],
        "link": delivery.link,
        "status": delivery.status,
        "length": delivery.length,
        "limit": delivery.limit,
        "source": delivery.source,
        "warnings": list(delivery.warnings),
        "content_hash": delivery.content_hash,
    }


def _media(media: Media) -> list[str | None]:
    """Four fields, as before videos, unless it has captions or a thumbnail."""
    fields: list[str | None] = [media.file, media.path, media.alt, media.mime]
    return [*fields, media.captions, media.thumbnail] if media.attached else fields


def decode(payload: Mapping[str, Any]) -> Delivery:
    """The delivery back; fields a later Clarion no longer knows are ignored."""
    data = {name: value for name, value in payload.items() if name in _FIELDS}
    for name in _TIMES:
        if data.get(name) is not None:
            data[name] = datetime.fromisoformat(data[name])
    data["media"] = tuple(Media(*m) for m in data.get("media", ()))
    data["warnings"] = tuple(data.get("warnings", ()))
    return Delivery(**data)


_WHAT = tuple(f.name for f in fields(Delivery) if f.name not in ("source", "media"))
"""The fields that say what a delivery is; `source` and the media's paths say only where
its campaign file was read, which differs between two daemons that name one file by two
paths (a symlink, a hard link, a checkout elsewhere on another machine)."""
_what = operator.attrgetter(*_WHAT)
FINGERPRINT_LENGTH = 64


def fingerprint(delivery: Delivery) -> str:
    """Equal for equal deliveries, so sync compares a plan with the ledger without encoding
    it: 32 hex digits for what the delivery is, then 32 for where it was read from. A repr
    names every value (about twice as fast as JSON)."""
    media = delivery.media
    what = _what(delivery)
    if media:
        what += tuple((m.file, m.alt, m.mime, *m.attached) for m in media)
        where = (p for m in media for p in (m.path, m.captions, m.thumbnail) if p is not None)
        return _digest(repr(what)) + _digest(repr((delivery.source, *where)))
    return _digest(repr(what)) + _digest(delivery.source)


def same_delivery(stored: str, delivery: Delivery, computed: str) -> bool:
    """Whether a stored fingerprint is of the same delivery as `computed` (the fingerprint of
    `delivery`), wherever each was read from. A ledger written before fingerprints had two
    halves holds the whole delivery's, source included."""
    if len(stored) == FINGERPRINT_LENGTH:
        return stored[:32] == computed[:32]
    return stored == _digest(repr(delivery))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]
