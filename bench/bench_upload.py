"""Memory while a large video goes up: X's chunked upload, Mastodon's /api/v2/media,
Telegram's sendVideo, Bluesky's video service, LinkedIn's Videos API (4 MB parts) and
Facebook's Resumable Upload API (the whole file in one streamed request) and TikTok's Content
Posting API (10 MB chunks, each PUT from disk) and YouTube's resumable videos.insert (8 MiB
chunks), each through its connector to its fake.

The file is a real two-second clip followed by zeros (sparse on disk), so the fakes' check that
it is a video passes. Each upload runs in a fresh process, and each fake in another (a fake
keeps every byte it receives): the figures are the connector's alone. Printed per platform: the
file's size, the time, the peak of Python's heap during the upload (tracemalloc) and the
process's peak resident memory before and after it (ru_maxrss, libraries included). Telegram
takes at most 50 MB from a bot, so its file is cut to that. Asserts nothing.
Run: python bench/bench_upload.py [MB [PLATFORM...]]
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.base import ChannelAccess, Connector, MediaFile, Post
from connectors.fakes.server import FakePlatform
from connectors.platforms.bluesky.connector import BlueskyConnector
from connectors.platforms.bluesky.fake import FakeBluesky
from connectors.platforms.facebook.connector import FacebookConnector
from connectors.platforms.facebook.fake import FacebookFake
from connectors.platforms.linkedin.connector import LinkedInConnector
from connectors.platforms.linkedin.fake import LinkedInFake
from connectors.platforms.mastodon import fake as mastodon_fake
from connectors.platforms.mastodon.connector import MastodonConnector
from connectors.platforms.telegram import fake as telegram_fake
from connectors.platforms.telegram.connector import TelegramConnector
from connectors.platforms.tiktok.connector import TikTokConnector
from connectors.platforms.tiktok.fake import TikTokFake
from connectors.platforms.x import fake as x_fake
from connectors.platforms.x.connector import XConnector
from connectors.platforms.youtube.connector import YouTubeConnector
from connectors.platforms.youtube.fake import YouTubeFake
from tests.videos import clip

MB = 1024 * 1024
TIMEOUT = 300.0


def _x() -> FakePlatform:
    return x_fake.XFake(post_limit=None)


def _mastodon() -> FakePlatform:
    fake = mastodon_fake.MastodonFake(status_limit=None)
    fake.video_size_limit = 1 << 40  # as an instance's admin may raise it
    return fake


def _mastodon_connector(channel: ChannelAccess) -> Connector:
    mastodon = MastodonConnector(channel)
    mastodon.poll_interval = 0.0
    return mastodon


def _linkedin() -> FakePlatform:
    fake = LinkedInFake()
    fake.videos.processing_reads = 0  # available at the first look: the upload is measured
    return fake


Builder = Callable[[ChannelAccess], Connector]
PLATFORMS: dict[str, tuple[Callable[[], FakePlatform], Builder, int | None]] = {
    "x": (_x, XConnector, None),
    "mastodon": (_mastodon, _mastodon_connector, None),
    "telegram": (telegram_fake.TelegramFake, TelegramConnector, 50 * MB - 1),
    "bluesky": (FakeBluesky, BlueskyConnector, 300_000_000),
    "linkedin": (_linkedin, LinkedInConnector, None),
    "facebook": (FacebookFake, FacebookConnector, None),
    "tiktok": (TikTokFake, TikTokConnector, None),
    "youtube": (YouTubeFake, YouTubeConnector, None),
}
"""Each platform's fake, its connector for the fake's channel, and the largest file it takes
(Telegram: 50 MB from a bot; Bluesky: 300,000,000 bytes)."""


def _serve(name: str, pipe: Connection) -> None:
    fake = PLATFORMS[name][0]().start()
    pipe.send(replace(fake.channel(), timeout=TIMEOUT))
    pipe.recv()  # until the upload is done
    fake.stop()


def upload(name: str, channel: ChannelAccess, path: Path) -> dict[str, float]:
    """One post with the video, measured; runs in a process of its own."""
    connector = PLATFORMS[name][1](channel)
    post = Post(
        f"bench/{name}",
        f"bench {name}",
        datetime.now(UTC),
        media=(MediaFile(path, "a black screen", "video/mp4"),),
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    connector.publish(post)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    connector.close()
    return {
        "seconds": seconds,
        "heap_peak": peak / MB,
        "rss_before": rss_before / 1024,
        "rss_after": rss_after / 1024,
    }


def video(folder: Path, size: int) -> Path:
    path = folder / f"video-{size}.mp4"
    start = clip(folder / "clip.mp4").read_bytes()
    with path.open("wb") as file:
        file.write(start)
        file.truncate(size)
    return path


def main(size_mb: int, only: list[str]) -> None:
    heading = f"{'platform':<10} {'file':>8} {'time':>8} {'heap peak':>10}"
    print(f"{heading} {'peak RSS before → after':>24}")
    with tempfile.TemporaryDirectory(prefix="clarion-bench-") as folder:
        for name, (_, _, cap) in PLATFORMS.items():
            if only and name not in only:
                continue
            size = min(size_mb * MB, cap or size_mb * MB)
            path = video(Path(folder), size)
            ours, theirs = multiprocessing.Pipe()
            server = multiprocessing.Process(target=_serve, args=(name, theirs), daemon=True)
            server.start()
            channel = json.dumps(asdict(ours.recv()))
            measured = subprocess.run(
                [sys.executable, __file__, "--one", name, channel, str(path)],
                check=True,
                capture_output=True,
                text=True,
            )
            ours.send("done")
            server.join(30)
            path.unlink()
            figures = json.loads(measured.stdout)
            print(
                f"{name:<10} {size / MB:>5.0f} MB {figures['seconds']:>6.1f} s "
                f"{figures['heap_peak']:>7.1f} MB "
                f"{figures['rss_before']:>11.0f} MB → {figures['rss_after']:.0f} MB"
            )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        channel = ChannelAccess(**json.loads(sys.argv[3]))
        print(json.dumps(upload(sys.argv[2], channel, Path(sys.argv[4]))))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 300, sys.argv[2:])
