"""Record keys for Bluesky posts: a TID derived from the delivery, the same on every attempt.

A TID (atproto "timestamp identifier") is a 64-bit integer written as 13 characters of
base32-sortable: the top bit is 0, then 53 bits of microseconds since the Unix epoch, then a
10-bit clock id. Bluesky lets the client choose a post's record key, so deriving it from the
delivery makes a repeated publish land on the same record instead of creating a second post.

The timestamp is the delivery's due time to the second, so keys sort like the posts. The
microseconds and the clock id come from a hash of the delivery key: 30 bits that keep two
deliveries due in the same second (one per language, say) on different records.
"""

from __future__ import annotations

import calendar
import hashlib
from datetime import datetime

ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def encode_tid(micros: int, clock_id: int) -> str:
    if not 0 <= micros < 1 << 53 or not 0 <= clock_id < 1 << 10:
        raise ValueError("a TID holds 53 bits of microseconds and a 10-bit clock id")
    value = micros << 10 | clock_id
    return "".join(ALPHABET[(value >> shift) & 31] for shift in range(60, -1, -5))


def tid_for(key: str, due: datetime) -> str:
    """The record key of the delivery `key` due at `due` (naive means UTC)."""
    seconds = calendar.timegm(due.utctimetuple())
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    micros = seconds * 1_000_000 + (digest >> 10) % 1_000_000
    return encode_tid(micros, digest & 0x3FF)
