"""Webhooks: Slack, Discord, Microsoft Teams, a Matrix room or any receiver of JSON."""

from __future__ import annotations

from campaigns.platformrules import GIF, MOV, MP4, STILL, PlatformRules
from connectors.platform import PlatformSpec

PLATFORM = PlatformSpec(
    rules=PlatformRules(
        "webhook",
        "Webhook",
        "codepoints",
        40_000,
        max_media=10,
        image_max_bytes=25_000_000,
        media_types=STILL | {GIF, MP4, MOV},  # sent as names or addresses, not uploaded
        video_max_bytes=25_000_000,
        thread_style="separate",
    ),
    connector="connectors.platforms.webhook.connector:WebhookConnector",
    fake="connectors.platforms.webhook.fake:WebhookFake",
    credentials=(("url",),),
    options=(("format", "what the receiver reads: slack, discord, teams, matrix or generic"),),
)
