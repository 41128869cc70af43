"""The channels a plan may name, as config.yaml declares them."""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.platformrules import PlatformRules
from campaigns.platforms import PLATFORMS


@dataclass(frozen=True, slots=True)
class KnownChannel:
    """A channel as plans see it: its name, platform and length limits; no secrets."""

    name: str
    platform: str
    max_length: int | None = None
    """Raises the platform's limit for this account (X Premium, a larger Mastodon instance)."""
    content_warning: str = ""
    """Mastodon's content warning (`options.content_warning`), which the channel puts on every
    post and which counts toward the post's length."""

    @property
    def rules(self) -> PlatformRules:
        return PLATFORMS[self.platform]

    @property
    def limit(self) -> int:
        return self.max_length or self.rules.max_length
