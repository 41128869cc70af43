"""Campaign plans: YAML files checked, located and expanded into deliveries.

    from campaigns import LoadOptions, load_plan
    plan = load_plan([Path("plans/")], LoadOptions(channels, strict_channels=True, now=now))
    plan.problems, plan.deliveries

Names are imported on first use, so that importing a small module such as campaigns.platforms
does not load the whole engine (pydantic, the time zone database, the length rules).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from campaigns.channels import KnownChannel
    from campaigns.delivery import Delivery, Media
    from campaigns.loader import LoadOptions, Plan, load_plan
    from campaigns.model import Campaign, CampaignFile
    from campaigns.problems import InputError, Location, Problem
    from campaigns.schema import json_schema

_EXPORTS = {
    "Campaign": "campaigns.model",
    "CampaignFile": "campaigns.model",
    "KnownChannel": "campaigns.channels",
    "Delivery": "campaigns.delivery",
    "InputError": "campaigns.problems",
    "LoadOptions": "campaigns.loader",
    "Location": "campaigns.problems",
    "Media": "campaigns.delivery",
    "Plan": "campaigns.loader",
    "Problem": "campaigns.problems",
    "json_schema": "campaigns.schema",
    "load_plan": "campaigns.loader",
}

__all__ = [
    "Campaign",
    "CampaignFile",
    "Delivery",
    "InputError",
    "KnownChannel",
    "LoadOptions",
    "Location",
    "Media",
    "Plan",
    "Problem",
    "json_schema",
    "load_plan",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'campaigns' has no attribute {name!r}")
    return getattr(import_module(module), name)
