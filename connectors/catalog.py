"""Every platform Clarion knows, found as the folders under connectors/platforms/."""

from __future__ import annotations

import pkgutil
from collections.abc import Mapping
from functools import cache
from importlib import import_module
from typing import Any

import connectors.platforms
from connectors.platform import PlatformSpec


@cache
def platforms() -> Mapping[str, PlatformSpec]:
    """Each platform's spec by name, in name order."""
    found: dict[str, PlatformSpec] = {}
    for module in pkgutil.iter_modules(connectors.platforms.__path__):
        if not module.ispkg:
            continue
        spec = import_module(f"connectors.platforms.{module.name}").PLATFORM
        if not isinstance(spec, PlatformSpec) or spec.name != module.name:
            raise TypeError(
                f"connectors/platforms/{module.name} must give PLATFORM, "
                f"a PlatformSpec named '{module.name}'"
            )
        found[spec.name] = spec
    return dict(sorted(found.items()))


def imported(target: str) -> Any:
    """What a `module:name` reference of a spec names."""
    module, _, name = target.partition(":")
    return getattr(import_module(module), name)
