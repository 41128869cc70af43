"""Platform name to connector class, imported only when a channel of that platform is used."""

from __future__ import annotations

from importlib import import_module

from connectors.base import Capabilities, ChannelAccess, Connector

CONNECTORS: dict[str, str] = {
    "x": "connectors.x:XConnector",
    "mastodon": "connectors.mastodon:MastodonConnector",
    "bluesky": "connectors.bluesky:BlueskyConnector",
    "telegram": "connectors.telegram:TelegramConnector",
    "linkedin": "connectors.linkedin:LinkedInConnector",
    "facebook": "connectors.facebook:FacebookConnector",
    "threads": "connectors.threads:ThreadsConnector",
    "webhook": "connectors.webhook:WebhookConnector",
}


def connector_class(platform: str) -> type[Connector]:
    try:
        target = CONNECTORS[platform]
    except KeyError:
        raise ValueError(f"no connector for platform '{platform}'") from None
    module, _, name = target.partition(":")
    cls: type[Connector] = getattr(import_module(module), name)
    return cls


def create(config: ChannelAccess) -> Connector:
    return connector_class(config.platform)(config)


def capabilities(config: ChannelAccess) -> Capabilities:
    """What the connector a channel gets can do, without building it (no credentials read, no
    connection made): a webhook channel's format decides, not the platform name alone."""
    return connector_class(config.platform).variant(config).capabilities
