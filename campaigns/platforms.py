"""The rules of every platform, by name: what plans and connectors both read.

Each platform gives its rules in its own folder (connectors/platforms/NAME/__init__.py, data
only); this is the table derived from them, in name order.
"""

from __future__ import annotations

from collections.abc import Mapping

from campaigns.platformrules import PlatformRules
from connectors.catalog import platforms

PLATFORMS: Mapping[str, PlatformRules] = {name: spec.rules for name, spec in platforms().items()}
