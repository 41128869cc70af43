"""Running a platform fake by hand: `python -m connectors.fakes.NAME --port 8081`."""

from __future__ import annotations

import argparse
import json
import shlex
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from connectors.base import ChannelAccess
from connectors.fakes.server import FakePlatform

Fake = TypeVar("Fake", bound=FakePlatform)


def serve(
    make: Callable[[float], Fake],
    about: Callable[[Fake], str] | None = None,
    argv: Sequence[str] | None = None,
) -> None:
    """Start the fake, print its address and what a channel needs to use it (its `channel()`
    unless `about` says otherwise), serve until ^C."""
    parser = argparse.ArgumentParser(description="Run a platform fake on this machine.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument(
        "--echo-credentials",
        action="store_true",
        help="quote each request's token and address in every error answer, as some servers do",
    )
    args = parser.parse_args(argv)
    fake = make(args.latency)
    fake.echo_credentials = args.echo_credentials
    fake.start(args.port)
    print(fake.base_url, flush=True)
    print(about(fake) if about else described(fake.channel()), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


def described(channel: ChannelAccess) -> str:
    """The channel as config.yaml declares it, to copy. Its credentials are read from
    environment variables, as config.yaml requires of every secret (even a fake's): the export
    lines to run first come as comments above it."""
    variables = {
        name: f"FAKE_{channel.platform}_{name}".upper().replace("-", "_")
        for name in channel.credentials
    }
    lines = []
    if variables:
        lines.append("# In the shell that runs clarion, first:")
        lines += [
            f"#   export {variables[name]}={shlex.quote(value)}"
            for name, value in channel.credentials.items()
        ]
    lines += ["channels:", f"  {channel.name}:", f"    platform: {channel.platform}"]
    if channel.base_url:
        lines.append(f"    base_url: {channel.base_url}")
    if variables:
        lines.append("    credentials:")
        lines += [f"      {name}: ${{{variable}}}" for name, variable in variables.items()]
    if channel.options:
        lines.append("    options:")
        lines += [f"      {name}: {json.dumps(value)}" for name, value in channel.options.items()]
    return "\n".join(lines)
