"""`clarion serve`: the web view of the plans, with the ledger's live state when it exists."""

from __future__ import annotations

from pathlib import Path

import click

from scheduler.cli import EXIT_USAGE
from scheduler.commands import config_option, echo_problems, load_config_or_exit
from scheduler.commands.plan import paths_argument


@click.command()
@paths_argument
@config_option
@click.option(
    "--listen",
    default="127.0.0.1:8480",
    show_default=True,
    metavar="HOST:PORT",
    help="Where to serve. The default answers this machine only; to let others in, put a "
    "reverse proxy with TLS in front (docs/web.md).",
)
@click.option(
    "--behind-proxy",
    is_flag=True,
    help="Trust the reverse proxy's X-Forwarded-For/-Proto/-Host/-Prefix headers (so that "
    "cookies are marked Secure behind TLS). Only when a proxy is the sole way in.",
)
def serve(
    paths: tuple[Path, ...], config_path: Path | None, listen: str, behind_proxy: bool
) -> None:
    """Serve the web view: overview, calendar, each post as its platforms show it, problems,
    and the live state of deliveries from the ledger.

    Without a PATH, serves the campaign folders that config.yaml lists. Read-only unless
    config.yaml names operators (server.operators), who then sign in to pause, resume,
    retry, cancel and resolve.
    """
    from waitress import serve as waitress_serve

    from campaigns.problems import HintedError, InputError
    from scheduler.config import parse_listen
    from scheduler.web.app import create_app
    from scheduler.web.board import Source

    config = load_config_or_exit(config_path)
    try:
        host, port = parse_listen(listen)
    except ValueError as exc:
        message, hint = HintedError.parts(exc)
        raise click.BadParameter(
            f"{message}; {hint}" if hint else message, param_hint="'--listen'"
        ) from None
    try:
        operators = config.operators()
    except InputError as exc:
        echo_problems(exc.problems, err=True)
        raise click.exceptions.Exit(EXIT_USAGE) from None
    source = Source(config, paths)
    source.plan()  # a mistake in the paths is reported now, not at the first request
    app = create_app(source, operators=operators, behind_proxy=behind_proxy)
    mode = f"operators: {', '.join(sorted(operators))}" if operators else "read-only"
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Serving the web view on http://{shown}:{port}/ ({mode}); Ctrl-C stops.")
    try:
        waitress_serve(app, host=host, port=port, threads=8, ident="clarion", _quiet=True)
    finally:
        source.close()
