"""A realistic campaign file of a chosen size, for benchmarks: many posts in eight languages on
five channels, with threads, recurring posts, hashtags, UTM links and images with alt text."""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path

import yaml

LANGUAGES = ["en", "fr", "de", "nl", "es", "it", "pl", "fi"]
CHANNELS = ["x-main", "mastodon-main", "bluesky-main", "linkedin-main", "telegram-news"]
WORDS = [
    "online",
    "safety",
    "children",
    "help",
    "report",
    "police",
    "platform",
    "evidence",
    "contact",
    "trust",
    "adult",
    "helpline",
    "extortion",
    "coercion",
    "images",
    "threats",
    "never",
    "fault",
    "stop",
    "share",
    "talk",
    "listen",
    "school",
    "parents",
    "carers",
    "young",
    "people",
    "support",
    "campaign",
    "internet",
    "day",
    "week",
    "together",
    "respect",
]


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def _text(rng: random.Random) -> str:
    """About 120 to 180 characters: room for the hashtags and the link on every platform."""
    text = _sentence(rng, 8, 12)
    while len(text) < 120:
        text += " " + _sentence(rng, 4, 8)
    return text[:180]


def _png(path: Path) -> None:
    raw = b"".join(b"\x00" + b"\x14\x2a\x5c" * 64 for _ in range(32))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 64, 32, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def write_plan(folder: Path, singles: int = 220, threads: int = 5, weekly: int = 3) -> Path:
    """Write bench.yaml (and its image) into `folder`. With the defaults it expands to 10,000
    deliveries: (220 posts + 5 threads of 3 parts + 3 weekly posts x 5 weeks) x 8 languages x
    5 channels."""
    rng = random.Random(2027)
    (folder / "media").mkdir(exist_ok=True)
    _png(folder / "media" / "card.png")
    posts: list[dict[str, object]] = []
    for i in range(singles):
        post: dict[str, object] = {
            "id": f"post-{i:03d}",
            "at": f"sid + {i // 6}d {8 + (i % 6) * 2:02d}:00",
            "text": {lang: _text(rng) for lang in LANGUAGES},
        }
        if i % 10 == 0:
            alt = {lang: _sentence(rng, 6, 10) for lang in LANGUAGES}
            post["media"] = [{"file": "media/card.png", "alt": alt}]
        if i % 7 == 0:
            post["hashtags"] = ["#Help"]
        posts.append(post)
    for i in range(threads):
        parts = [{lang: _text(rng) for lang in LANGUAGES} for _ in range(3)]
        posts.append({"id": f"thread-{i}", "at": f"sid - {i + 1}d 19:00", "thread": parts})
    for i in range(weekly):
        posts.append(
            {
                "id": f"weekly-{i}",
                "every": {"cron": f"15 7 * * {i + 1}", "from": "sid - 35d", "until": "sid - 1d"},
                "text": {lang: _text(rng) for lang in LANGUAGES},
            }
        )
    plan = {
        "campaign": "bench",
        "title": "Benchmark campaign",
        "timezone": "Europe/Brussels",
        "anchors": {"sid": "2027-02-09"},
        "channels": CHANNELS,
        "languages": LANGUAGES,
        "defaults": {
            "hashtags": ["#SayNo", "#SaferInternetDay"],
            "link": {
                "url": "https://example.org/sayno",
                "utm": {"source": "{platform}", "medium": "social", "campaign": "{campaign}"},
            },
            "not_after": "2h",
        },
        "posts": posts,
    }
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
