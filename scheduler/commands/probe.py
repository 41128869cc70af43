"""`clarion health`: ask the running daemon whether it is healthy, at the address config.yaml
gives it. Meant for container health checks, systemd timers and monitoring scripts."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import click

from scheduler.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from scheduler.commands import config_option, load_config_or_exit

_ANY = {"0.0.0.0": "127.0.0.1", "::": "::1"}
"""A daemon listening on every interface is asked on loopback."""


@click.command()
@config_option
@click.option(
    "--timeout", type=float, default=5.0, show_default=True, help="Seconds to wait for an answer."
)
def health(config_path: Path | None, timeout: float) -> None:
    """Ask the daemon's /healthz endpoint (server.listen in config.yaml) whether all is well.

    Exit status: 0 healthy, 1 unhealthy or not answering (what failed is printed), 2 the
    configuration is wrong or turns the endpoint off.
    """
    from scheduler.config import parse_listen

    config = load_config_or_exit(config_path)
    listen = config.file.server.listen
    if listen is None:
        click.echo("clarion: server.listen is null in config.yaml: there is no endpoint", err=True)
        raise click.exceptions.Exit(EXIT_USAGE)
    host, port = parse_listen(listen)
    host = _ANY.get(host, host)
    url = f"http://[{host}]:{port}/healthz" if ":" in host else f"http://{host}:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            report = json.load(answer)
    except urllib.error.HTTPError as exc:
        report = json.loads(exc.read() or b"{}")
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        click.echo(f"unhealthy: no daemon answers at {url} ({reason})", err=True)
        raise click.exceptions.Exit(EXIT_PROBLEMS) from None
    if not isinstance(report, dict):
        report = {}
    checks = report.get("checks") or {}
    failing = {name: what for name, what in checks.items() if what != "ok"}
    if report.get("status") == "ok" and not failing:
        click.echo(f"ok: {', '.join(checks) or 'no checks'} ({url})")
        raise click.exceptions.Exit(EXIT_OK)
    for name, what in failing.items():
        click.echo(f"unhealthy: {name}: {what}", err=True)
    raise click.exceptions.Exit(EXIT_PROBLEMS)
