"""`clarion validate`'s look at the ledger: deliveries this plan would rename after they went
out (a campaign id, post id, audience, language or channel changed). The daemon records them
as sent, or holds them, instead of posting them again; validate says so beforehand.

Only when validate checks the folders config.yaml lists (what the daemon loads), and only if
the ledger can be read as it is: validate never creates or migrates one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from campaigns.problems import Location, Problem

if TYPE_CHECKING:
    from campaigns.delivery import Delivery
    from campaigns.loader import Plan
    from scheduler.config import Config
    from scheduler.ledger.api import Row

HINT = (
    "if the rename was a mistake, put the old name back; to post one again anyway, run "
    "`clarion retry KEY --force` once the daemon has loaded this plan"
)


def add_rename_warnings(paths: Sequence[Path], config: Config, plan: Plan, now: datetime) -> None:
    """Add `rename_warnings` to the plan's problems, in their order."""
    found = rename_warnings(paths, config, plan, now)
    if found:
        problems = [*plan.problems, *found]
        plan.problems = sorted(problems, key=lambda p: (p.where.file, p.where.line, p.where.col))


def rename_warnings(
    paths: Sequence[Path], config: Config, plan: Plan, now: datetime
) -> list[Problem]:
    """Warnings for deliveries of `plan` that went out under another key, per campaign
    renamed (at its `campaign:` line) and per post otherwise (at the post)."""
    if not config.explicit or not config.file.campaigns:
        return []
    if paths and {p.resolve() for p in paths} != set(config.campaign_paths):
        return []
    found = _went_out_as(config, plan.deliveries, now)
    if not found:
        return []
    by_key = {d.key: d for d in plan.deliveries}
    groups: dict[tuple[str, str, bool], list[tuple[Delivery, Row]]] = defaultdict(list)
    for key, row in found.items():
        delivery = by_key[key]
        if row.campaign != delivery.campaign:
            groups[(delivery.campaign, row.campaign, True)].append((delivery, row))
        else:
            groups[(delivery.campaign, delivery.post, False)].append((delivery, row))
    files = {c.id: c.file for c in plan.campaigns}
    problems = []
    for (campaign, name, renamed_campaign), pairs in groups.items():
        delivery, row = pairs[0]
        count = f"{len(pairs)} of its deliveries" if len(pairs) > 1 else "one of its deliveries"
        example = f"{row.key} is now {delivery.key}" + (" …" if len(pairs) > 1 else "")
        if renamed_campaign:
            where = _campaign_line(files[campaign])
            message = (
                f"campaign id '{campaign}' was '{name}' when {count} went out (or may have): "
                f"the daemon records them under the new id and does not post them again "
                f"({example})"
            )
        else:
            where = _located(delivery.source)
            message = (
                f"post '{delivery.post}' went out (or may have) under another key before "
                f"it was renamed ({example}): the daemon records it under its new key and "
                "does not post it again"
            )
        problems.append(Problem("warning", message, where, HINT))
    return problems


def _went_out_as(config: Config, deliveries: Sequence[Delivery], now: datetime) -> dict[str, Row]:
    from scheduler.ledger import open_ledger
    from scheduler.ledger.api import LedgerError

    try:
        ledger = open_ledger(config.ledger_url, create=False, upgrade=False)
    except LedgerError:
        return {}  # no ledger yet, or not reachable: nothing to compare with
    try:
        return ledger.went_out_as(deliveries, now)
    except LedgerError:
        return {}
    finally:
        ledger.close()


def _located(source: str) -> Location:
    """A delivery's `file:line:col` as a Location."""
    file, line, col = source.rsplit(":", 2)
    return Location(file, int(line), int(col))


def _campaign_line(file: str) -> Location:
    from campaigns.problems import InputError
    from campaigns.yamlsource import read_yaml

    try:
        return read_yaml(Path(file)).source.value(("campaign",))
    except InputError:
        return Location(file, 1, 1)
