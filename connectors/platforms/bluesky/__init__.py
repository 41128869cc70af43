"""Bluesky: the AT Protocol's XRPC on the account's PDS."""

from __future__ import annotations

from campaigns.platformrules import STILL, PlatformRules
from connectors.platform import PlatformSpec

PLATFORM = PlatformSpec(
    rules=PlatformRules(
        "bluesky",
        "Bluesky",
        "bluesky",
        300,
        max_bytes=3000,
        max_media=4,
        image_max_bytes=2_000_000,
        alt_max=2000,
        media_types=STILL,  # the connector posts images only; a GIF would stand still
        link_display=27,
    ),
    connector="connectors.platforms.bluesky.connector:BlueskyConnector",
    fake="connectors.platforms.bluesky.fake:FakeBluesky",
    credentials=(("identifier", "app_password"),),
    login="connectors.platforms.bluesky.connector:login",
    default_channel="bluesky-main",
)
