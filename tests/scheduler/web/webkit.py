"""What the web view's tests share: a plan on every platform (with hostile text), its
config.yaml, a `clarion serve` process, and the browser."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from campaigns.platforms import PLATFORMS
from tests.scheduler.daemonkit import wait_until
from tests.videos import clip, still

CLARION = Path(sys.executable).parent / "clarion"
EXAMPLE_MEDIA = Path(__file__).parents[3] / "campaigns" / "examples" / "media"
CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parents[2] / "peers" / "axe" / "node_modules" / "axe-core" / "axe.min.js"

HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=1"> javascript:alert(1)'
HOSTILE_TITLE = "<b>Bold</b> & <script>window.pwned=1</script>"

CHANNELS: dict[str, dict[str, Any]] = {
    "x-main": {"platform": "x", "credentials": {"oauth2_access_token": "${T}"}},
    "mastodon-main": {
        "platform": "mastodon",
        "base_url": "https://mastodon.example",
        "credentials": {"access_token": "${T}"},
    },
    "bluesky-main": {
        "platform": "bluesky",
        "credentials": {"identifier": "${T}", "app_password": "${T}"},
    },
    "linkedin-main": {
        "platform": "linkedin",
        "credentials": {"access_token": "${T}"},
        "options": {"author": "urn:li:organization:1"},
    },
    "telegram-news": {
        "platform": "telegram",
        "credentials": {"bot_token": "${T}"},
        "options": {"chat_id": "@news"},
    },
    "threads-main": {
        "platform": "threads",
        "credentials": {"access_token": "${T}"},
        "options": {"user_id": "1"},
    },
    "facebook-main": {
        "platform": "facebook",
        "credentials": {"page_access_token": "${T}"},
        "options": {"page_id": "1"},
    },
    "webhook-team": {
        "platform": "webhook",
        "credentials": {"url": "${T}"},
        "options": {"format": "slack"},
    },
    "instagram-main": {
        "platform": "instagram",
        "credentials": {"access_token": "${T}"},
        "options": {"user_id": "1", "media_base_url": "https://media.example.org"},
    },
    "youtube-main": {
        "platform": "youtube",
        "credentials": {"client_id": "${T}", "client_secret": "${T}", "refresh_token": "${T}"},
        "options": {"made_for_kids": False},
    },
    "tiktok-main": {
        "platform": "tiktok",
        "credentials": {"client_key": "${T}", "client_secret": "${T}", "refresh_token": "${T}"},
        "options": {"mode": "inbox"},
    },
}
TEXT_CHANNELS = [
    name for name, channel in CHANNELS.items() if not PLATFORMS[channel["platform"]].media_required
]
"""The channels that take a post without media."""
assert {c["platform"] for c in CHANNELS.values()} == set(PLATFORMS)


def campaign(start: str = "2027-02-09") -> dict[str, Any]:
    """Every platform, two languages, two audiences in different zones, a thread, an image
    with alt text, a link, a blackout, and a post whose text is hostile HTML."""
    return {
        "campaign": "web-demo",
        "title": HOSTILE_TITLE,
        "timezone": "Europe/Brussels",
        "anchors": {"day": start},
        "channels": list(CHANNELS),
        "languages": ["en", "fr"],
        "audiences": [
            {"name": "be-fr", "language": "fr", "timezone": "Europe/Brussels"},
            {"name": "us-en", "language": "en", "timezone": "America/New_York"},
        ],
        "defaults": {"hashtags": ["#SayNo"], "link": {"url": "https://example.org/say-no"}},
        "min_gap": "0s",
        "blackouts": [{"from": "day + 2d", "until": "day + 2d", "reason": "Review meeting"}],
        "posts": [
            {
                "id": "launch",
                "at": "day 09:00",
                "text": {
                    "en": "Today is #SaferInternetDay with @clarion. Read "
                    "https://example.org/a/very/long/path/that/x/shortens/in/display",
                    "fr": "Aujourd'hui c'est le #SaferInternetDay avec @clarion.",
                },
                "media": [
                    {"file": "media/card.png", "alt": {"en": "A dark card", "fr": "Une carte"}}
                ],
                "overrides": {
                    "youtube": {  # the first line is the video's title: 100 characters
                        "text": {
                            "en": "Today is #SaferInternetDay\nRead https://example.org/a",
                            "fr": "Aujourd'hui c'est le #SaferInternetDay",
                        },
                        "media": [{"file": "media/clip.mp4"}],
                    },
                    "instagram": {
                        "media": [
                            {
                                "file": "media/card.jpg",
                                "alt": {"en": "A dark card", "fr": "Une carte"},
                            }
                        ]
                    },
                    "tiktok": {"media": [{"file": "media/clip.mp4"}]},
                },
            },
            {
                "id": "tips",
                "at": "day 12:00",
                "channels": TEXT_CHANNELS,
                "thread": [
                    {"en": "1/ Talk to them.", "fr": "1/ Parlez."},
                    {"en": "2/ Listen.", "fr": "2/ Écoutez."},
                ],
            },
            {
                "id": "hostile",
                "at": "day + 1d 10:00",
                "channels": TEXT_CHANNELS,
                "text": {"en": HOSTILE, "fr": HOSTILE},
            },
        ],
    }


def write_plan(
    folder: Path, plan: Mapping[str, Any], *, extra_config: Mapping[str, Any] = {}
) -> Path:
    """config.yaml and plans/ in `folder`; returns the config's path."""
    plans = folder / "plans"
    (plans / "media").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(EXAMPLE_MEDIA / "sayno-card.png", plans / "media" / "card.png")
    clip(plans / "media" / "clip.mp4", seconds=3, size=(360, 640))
    still(plans / "media" / "card.jpg", size=(1080, 1080))
    (plans / "web-demo.yaml").write_text(json.dumps(plan, ensure_ascii=False, indent=1))
    config = {"campaigns": ["plans"], "channels": CHANNELS, **extra_config}
    path = folder / "config.yaml"
    path.write_text(json.dumps(config, indent=1))
    return path


def write_broken(folder: Path) -> None:
    """A campaign file with an error (a text too long for X): its post is not scheduled."""
    post = {"id": "p", "at": "2027-02-10 10:00", "text": "too long " * 40}
    plan = {"campaign": "broken", "title": "B", "timezone": "UTC", "channels": ["x-main"]}
    (folder / "plans" / "broken.yaml").write_text(json.dumps({**plan, "posts": [post]}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(config: Path, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """`clarion serve` as a process; yields its base address."""
    port = free_port()
    process = subprocess.Popen(
        [CLARION, "serve", "--config", config, "--listen", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
        assert "Serving the web view" in line, line + process.stdout.read()
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(url), 30, what="clarion serve")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url + "/", timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False
