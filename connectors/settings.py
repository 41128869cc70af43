"""What each platform needs in config.yaml, checked without importing any platform client.

`clarion validate --config` runs these checks, and must stay fast and free of network
libraries; connectors call the same functions before they start.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import idna

from connectors.base import ChannelAccess
from connectors.catalog import platforms


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def base_url_problem(url: str, name: str = "base_url", *, secret: bool = False) -> str | None:
    """Why a configured address is not acceptable, or None.

    The whole address is checked here, at load, so that no connector meets it later: no
    control character or space (a pasted `\r\n`), an http(s) scheme, a host, a port in
    range, and no user name or password, which are secrets and belong under `credentials`.
    Plain http is allowed only to this machine: credentials never cross a network unencrypted.
    A `secret` address (a webhook's) is named, never quoted.
    """
    bad = next((c for c in url if c.isspace() or not c.isprintable()), None)
    if bad is not None:
        return (
            f"{name} contains {_named(bad)} at position {url.index(bad) + 1}: write the "
            "address alone, such as https://mastodon.social"
        )
    shown = name if secret else f"'{_shown(url)}'"
    if "@" in url.partition("://")[2].partition("/")[0]:
        return (
            f"{shown} holds a user name or password: secrets are never written in "
            "config.yaml; give the platform's token under credentials (from ${VARIABLE} or "
            f"file:), and the address alone in {name}"
        )
    try:
        parts = urlsplit(url)
    except ValueError as error:
        return f"{shown} is not a valid address ({error})"
    try:
        port = parts.port
    except ValueError as error:
        return f"{shown} has no valid port ({error}): ports go from 1 to 65535"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{shown} is not an http(s) address, such as https://mastodon.social"
    if port == 0:
        return f"{shown} names port 0; ports go from 1 to 65535"
    host_problem = _host_problem(parts.hostname)
    if host_problem:
        return f"{shown}: {host_problem}"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return f"{shown} uses plain http; only https is allowed except for 127.0.0.1 or localhost"
    return None


_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def _host_problem(host: str) -> str | None:
    """Why a host name is not one (a typo such as `masto_don.social`), or None."""
    if ":" in host:  # an IPv6 address, written in brackets
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return f"{host} is not an IPv6 address"
        return None
    try:  # as httpx reads it: IDNA 2008, a name in any script becomes ASCII
        name = host[:-1] if host.endswith(".") else host
        ascii_host = name if name.isascii() else idna.encode(name).decode("ascii")
    except idna.IDNAError:
        return f"{host} is not a host name"
    if not ascii_host or not all(_HOST_LABEL.fullmatch(label) for label in ascii_host.split(".")):
        return f"{host} is not a host name (letters, digits, hyphens and dots)"
    return None


def _named(char: str) -> str:
    names = {
        "\r": "a carriage return (\\r)",
        "\n": "a line break (\\n)",
        "\t": "a tab",
        " ": "a space",
    }
    return names.get(char, f"the control character U+{ord(char):04X}")


def _shown(url: str) -> str:
    """The address as an error may quote it: never a password written in it."""
    scheme, sep, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    if "@" in netloc:
        netloc = "…@" + netloc.rpartition("@")[2]
    return f"{scheme}{sep}{netloc}{slash}{path}" if sep else url


def settings_problems(config: ChannelAccess) -> list[tuple[str, str]]:
    """Problems as (key under the channel, message); credentials are checked by name only."""
    problems: list[tuple[str, str]] = []
    platform = config.platform
    spec = platforms().get(platform)
    if config.base_url:
        message = base_url_problem(config.base_url)
        if message:
            problems.append(("base_url", message))
    elif spec is not None and spec.base_url is not None:
        problems.append(("platform", f"{platform} needs base_url: {spec.base_url}"))
    choices = spec.credentials if spec is not None else ()
    given = {name for name, value in config.credentials.items() if value}
    if choices and not any(given.issuperset(names) for names in choices):
        wanted = " or ".join("{" + ", ".join(names) + "}" for names in choices)
        problems.append(("credentials", f"{platform} needs the credentials {wanted}"))
    for option, meaning in spec.options if spec is not None else ():
        if config.options.get(option) in (None, ""):  # false may be an answer
            problems.append(("options", f"{platform} needs options.{option}: {meaning}"))
    for option, allowed in spec.choices if spec is not None else ():
        value = config.options.get(option)
        if value not in (None, "") and not any(_same(value, choice) for choice in allowed):
            words = " or ".join(str(c).lower() for c in allowed)
            shown = f"'{value}'" if isinstance(value, str) else str(value)
            problems.append(("options", f"{platform}'s options.{option} is {shown}: write {words}"))
    return problems


def _same(value: object, choice: bool | str) -> bool:
    """Equal and of the same type: YAML's `true`, not 1 nor the text "true"."""
    return type(value) is type(choice) and value == choice
