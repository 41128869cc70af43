"""Platform name to connector class, imported only when a channel of that platform is used."""

from __future__ import annotations

from connectors.base import Capabilities, ChannelAccess, Connector
from connectors.catalog import imported, platforms


def connector_class(platform: str) -> type[Connector]:
    spec = platforms().get(platform)
    if spec is None:
        raise ValueError(f"no connector for platform '{platform}'")
    cls: type[Connector] = imported(spec.connector)
    return cls


def create(config: ChannelAccess) -> Connector:
    return connector_class(config.platform)(config)


def capabilities(config: ChannelAccess) -> Capabilities:
    """What the connector a channel gets can do, without building it (no credentials read, no
    connection made): a webhook channel's format decides, not the platform name alone."""
    return connector_class(config.platform).variant(config).capabilities
