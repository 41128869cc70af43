"""The ledger's payloads and fingerprints with a video's captions and thumbnail: rows written
before they existed still read, and a delivery without them keeps its identity."""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields, replace

from campaigns.delivery import Delivery, Media
from scheduler.ledger.codec import decode, encode, fingerprint, same_delivery
from tests.scheduler.ledgerkit import delivery

CARD = Media("media/card.png", "/plans/media/card.png", "A card", "image/png")
CLIP = Media(
    "media/clip.mp4",
    "/plans/media/clip.mp4",
    "A clip",
    "video/mp4",
    "/plans/media/clip.en.vtt",
    "/plans/media/cover.jpg",
)


def test_a_row_written_before_videos_reads_back() -> None:
    old = delivery(media=(CARD,))
    payload = json.loads(encode(old))
    assert payload["media"] == [[CARD.file, CARD.path, CARD.alt, CARD.mime]]  # as before
    assert decode(payload) == old
    assert decode(payload).media[0].captions is None


def test_captions_and_thumbnail_travel_through_the_ledger() -> None:
    video = delivery(media=(CLIP,))
    payload = json.loads(encode(video))
    assert len(payload["media"][0]) == 6
    assert decode(payload).media == (CLIP,)


def test_a_delivery_without_captions_or_thumbnail_keeps_its_identity() -> None:
    """The fingerprint and the content hash of an image post are what they were before
    videos (computed here as the code before them did)."""
    old = delivery(media=(CARD,))
    what = (*(getattr(old, f) for f in _WHAT), (CARD.file, CARD.alt, CARD.mime))
    before = _digest(repr(what)) + _digest(repr((old.source, CARD.path)))
    assert fingerprint(old) == before
    payload = f"{len(old.text)}:{old.text}-2:en{len(CARD.file)}:{CARD.file}6:A card"
    assert old.content_hash == hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()
    # ledgers older than two-part fingerprints stored the digest of the delivery's repr
    assert repr(CARD) == (
        "Media(file='media/card.png', path='/plans/media/card.png', alt='A card', mime='image/png')"
    )
    assert same_delivery(_digest(repr(old)), old, fingerprint(old))


def test_captions_and_thumbnail_change_what_a_delivery_is_but_not_where_it_is_read() -> None:
    plain = delivery(media=(replace(CLIP, captions=None, thumbnail=None),))
    video = delivery(media=(CLIP,))
    assert fingerprint(plain)[:32] != fingerprint(video)[:32]
    assert plain.content_hash != video.content_hash
    moved = delivery(
        media=(
            replace(
                CLIP,
                path="/elsewhere/media/clip.mp4",
                captions="/elsewhere/media/clip.en.vtt",
                thumbnail="/elsewhere/media/cover.jpg",
            ),
        )
    )
    assert fingerprint(moved)[:32] == fingerprint(video)[:32]
    assert fingerprint(moved)[32:] != fingerprint(video)[32:]
    assert same_delivery(fingerprint(moved), video, fingerprint(video))


_WHAT = tuple(f.name for f in fields(Delivery) if f.name not in ("source", "media"))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]
