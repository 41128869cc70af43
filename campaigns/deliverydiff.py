"""What a change to the campaign files does to the plan: the deliveries it adds, changes and
removes. Deliveries are matched by key, which never contains a time or a text (see
campaigns/delivery.py), so moving or rewording a post is a change, not a removal and an
addition."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from campaigns.delivery import Delivery


@dataclass(frozen=True, slots=True)
class Change:
    before: Delivery
    after: Delivery

    @property
    def what(self) -> list[str]:
        """What changed, in words: time, text, media, link, status, deadline."""
        b, a = self.before, self.after
        found = []
        if b.due_utc != a.due_utc:
            found.append("time")
        if b.text != a.text:
            found.append("text")
        if [(m.file, m.alt) for m in b.media] != [(m.file, m.alt) for m in a.media]:
            found.append("media")
        if b.link != a.link:
            found.append("link")
        if b.status != a.status:
            found.append("status")
        if _allowance(b) != _allowance(a):  # not when the deadline only moved with the time
            found.append("deadline")
        return found


@dataclass(frozen=True, slots=True)
class DeliveryDiff:
    """Two versions of a plan's deliveries, compared."""

    added: list[Delivery]
    changed: list[Change]
    removed: list[Delivery]
    unchanged: int

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


def compare(before: Sequence[Delivery], after: Sequence[Delivery]) -> DeliveryDiff:
    """Both in time order; the result keeps it (removed ones in the order they had)."""
    old = {d.key: d for d in before}
    new_keys = {d.key for d in after}
    added: list[Delivery] = []
    changed: list[Change] = []
    unchanged = 0
    for delivery in after:
        previous = old.get(delivery.key)
        if previous is None:
            added.append(delivery)
        elif Change(previous, delivery).what:
            changed.append(Change(previous, delivery))
        else:
            unchanged += 1
    removed = [d for d in before if d.key not in new_keys]
    return DeliveryDiff(added, changed, removed, unchanged)


def _allowance(delivery: Delivery) -> timedelta | None:
    """How late the delivery may go out."""
    if delivery.deadline_utc is None:
        return None
    return delivery.deadline_utc - delivery.due_utc
