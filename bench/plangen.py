"""A realistic campaign file of a chosen size, for benchmarks: many posts in eight languages on
five channels, with threads, recurring posts, hashtags, UTM links and images with alt text."""

from __future__ import annotations

import random
import struct
import zlib
from datetime import datetime
from pathlib import Path

import yaml

from campaigns.delivery import Delivery, DeliveryKey

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


MANY_LANGUAGES = [
    *LANGUAGES,
    *[
        "sv",
        "da",
        "nb",
        "pt",
        "cs",
        "sk",
        "hu",
        "ro",
        "bg",
        "el",
        "hr",
        "sl",
        "et",
        "lv",
        "lt",
        "ga",
        "mt",
        "tr",
        "uk",
        "ru",
    ],
    *["ar", "he", "fa", "hi", "bn", "ja", "ko", "zh", "th", "vi", "id", "ms"],
]


def _campaign(name: str, languages: list[str], posts: list[dict[str, object]]) -> dict[str, object]:
    return {
        "campaign": name,
        "title": f"Benchmark campaign: {name}",
        "timezone": "Europe/Brussels",
        "anchors": {"sid": "2027-02-09"},
        "channels": CHANNELS,
        "languages": languages,
        "min_gap": "0s",
        "defaults": {
            "hashtags": ["#SayNo"],
            "link": {
                "url": "https://example.org/sayno",
                "utm": {"source": "{platform}", "medium": "social", "campaign": "{campaign}"},
            },
            "not_after": "2h",
        },
        "posts": posts,
    }


def _inline(rng: random.Random) -> str:
    """A text with its link, hashtags and a mention inside, as partners write them."""
    return f"{_sentence(rng, 6, 9)} Read {{link}} #SayNo #Help{rng.randint(1, 9)} @clarion."


def shape(name: str, rng: random.Random) -> dict[str, object]:
    """Campaigns of about 10,000 deliveries on the five channels, each of another shape than
    `write_plan`'s, where the time goes elsewhere."""
    if name == "languages":  # 40 languages x 50 posts, a link inside every text
        return _campaign(
            name,
            MANY_LANGUAGES,
            [
                {
                    "id": f"post-{i:02d}",
                    "at": f"sid + {i // 5}d {8 + (i % 5) * 2:02d}:00",
                    "text": {lang: f"{_sentence(rng, 8, 14)} {{link}}" for lang in MANY_LANGUAGES},
                }
                for i in range(50)
            ],
        )
    if name == "audiences":  # 100 audiences in 10 languages and many zones x 20 posts
        zones = ["Europe/Dublin", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Africa/Lagos"]
        ten = [*LANGUAGES[:5], "sv", "da", "pt", "cs", "hu"]
        plan = _campaign(
            name,
            ten,
            [
                {
                    "id": f"post-{i:02d}",
                    "at": f"sid + {i // 4}d {8 + (i % 4) * 3:02d}:00",
                    "text": {lang: _text(rng) for lang in ten},
                }
                for i in range(20)
            ],
        )
        languages = plan["languages"]
        assert isinstance(languages, list)
        plan["audiences"] = [
            {"name": f"a{i:03d}", "language": languages[i % 10], "timezone": zones[i % 5]}
            for i in range(100)
        ]
        return plan
    if name == "recurrences":  # 10 daily posts for 200 days
        return _campaign(
            name,
            ["en"],
            [
                {
                    "id": f"daily-{i}",
                    "every": {
                        "interval": "1d",
                        "from": f"sid - 100d {8 + i:02d}:00",
                        "until": "sid + 99d",
                    },
                    "text": {"en": _text(rng)},
                }
                for i in range(10)
            ],
        )
    if name == "inline":  # links, hashtags and mentions inside every text
        return _campaign(
            name,
            LANGUAGES,
            [
                {
                    "id": f"post-{i:03d}",
                    "at": f"sid + {i // 10}d {8 + (i % 10):02d}:00",
                    "text": {lang: _inline(rng) for lang in LANGUAGES},
                }
                for i in range(250)
            ],
        )
    if name == "per-audience":  # 100 audiences x 20 posts, the link tagged with the audience
        plan = shape("audiences", rng)
        defaults = plan["defaults"]
        assert isinstance(defaults, dict)
        defaults["link"] = {
            "url": "https://example.org/sayno",
            "utm": {"source": "{platform}", "medium": "social", "content": "{audience}"},
        }
        plan["campaign"], plan["title"] = name, f"Benchmark campaign: {name}"
        return plan
    if name == "threads":  # 25 threads of 20 parts in 4 languages
        return _campaign(
            name,
            LANGUAGES[:4],
            [
                {
                    "id": f"thread-{i:02d}",
                    "at": f"sid + {i // 5}d {8 + (i % 5) * 2:02d}:00",
                    "link": "none",
                    "thread": [{lang: _text(rng) for lang in LANGUAGES[:4]} for _ in range(20)],
                }
                for i in range(25)
            ],
        )
    raise ValueError(f"no plan shape {name!r}")


SHAPES = ("languages", "audiences", "recurrences", "inline", "threads", "per-audience")


def write_shape(folder: Path, name: str) -> Path:
    path = folder / f"{name}.yaml"
    plan = shape(name, random.Random(2027))
    path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def ledger_delivery(
    post: str,
    channel: str,
    platform: str,
    due: datetime,
    *,
    language: str = "en",
    text: str = "benchmark post",
    timezone: str = "UTC",
    deadline: datetime | None = None,
    limit: int = 500,
) -> Delivery:
    """One single-part text delivery of campaign `bench`, for the benchmarks that write the
    ledger directly instead of loading a plan."""
    return Delivery(
        key=str(DeliveryKey("bench", post, None, language, channel)),
        campaign="bench",
        post=post,
        channel=channel,
        platform=platform,
        language=language,
        audience=None,
        due_utc=due,
        timezone=timezone,
        deadline_utc=deadline,
        text=text,
        thread_index=0,
        thread_size=1,
        parent_key=None,
        media=(),
        link=None,
        status="approved",
        length=len(text),
        limit=limit,
        source="bench.yaml:1:1",
    )
