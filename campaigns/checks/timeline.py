"""When the deliveries go out: inside a blackout, in the past, too close to another post on
one channel."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from campaigns.blackouts import Fate, fate
from campaigns.delivery import Delivery
from campaigns.durations import format_duration
from campaigns.problems import Location, Problems
from campaigns.scope import PostSlots, Scope, Slot


def check_blackouts(
    scope: Scope, deliveries: list[Delivery], where: Mapping[str, Location]
) -> None:
    """Mark each delivery planned inside a blackout with what becomes of it (a note the
    preview shows), and warn once per post and blackout; `where` locates each post's time.
    Posts with `ignore_blackouts: true` are left alone."""
    if not scope.blackouts:
        return
    exempt = {post.id for _, post in scope.posts if post.ignore_blackouts}
    hits: dict[tuple[str, int], tuple[Delivery, str]] = {}
    for n, delivery in enumerate(deliveries):
        if delivery.post in exempt:
            continue
        found = fate(scope.blackouts, delivery.channel, delivery.due_utc, delivery.deadline_utc)
        if found is None:
            continue
        note = hold_note(found, delivery.timezone)
        deliveries[n] = replace(delivery, warnings=(*delivery.warnings, note))
        hits.setdefault((delivery.post, scope.blackouts.index(found.window)), (delivery, note))
    for (post, i), (delivery, note) in hits.items():
        window = scope.blackouts[i]
        more = "" if window.then == "skip" else ", or set 'then: skip' on the blackout"
        scope.problems.warning(
            where[post],
            f"post '{post}' on {delivery.channel} at {_local(delivery)}: {note} (line "
            f"{window.where.line})",
            "move the post if it should go out at another time, or give it "
            f"'ignore_blackouts: true' if it must go out during the blackout{more}",
        )


def hold_note(found: Fate, zone_name: str) -> str:
    """`held by the blackout 'Mourning': ...` and what happens next, in words."""
    held = f"held by the blackout '{found.window.reason}'"
    if found.release is None:
        return f"{held}: skipped, it will not go out (then: skip)"
    release = found.release.astimezone(ZoneInfo(zone_name))
    at = f"{release:%Y-%m-%d %H:%M} {release.tzname()}"
    if found.expires:
        return f"{held} until {at}: it expires then, its not_after has passed by then"
    return f"{held}: goes out when it ends, at {at}"


def check_past(scope: Scope, deliveries: Sequence[Delivery], where: Mapping[str, Location]) -> None:
    """Say what the daemon does with a post due before now: a delivery within its deadline
    goes out late when the daemon loads the plan (unless it went out already); one past it
    expires, not posted."""
    late: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        if delivery.due_utc < scope.now:
            late[delivery.post].append(delivery)
    for post, found in late.items():
        first = min(found, key=lambda d: d.due_utc)
        more = len(found) - 1
        when = f"{_local(first)}" + (
            f" and {more} more {'delivery' if more == 1 else 'deliveries'}" if more else ""
        )
        message, hint = _past_outcome(found, scope.now)
        scope.problems.warning(
            where[post], f"post '{post}' is in the past ({when}): {message}", hint
        )


def _past_outcome(found: Sequence[Delivery], now: datetime) -> tuple[str, str]:
    """What happens to deliveries due before `now`, as the daemon's sync and claim decide."""
    expired = [d for d in found if d.deadline_utc is not None and d.deadline_utc < now]
    going = [d for d in found if d.deadline_utc is None or d.deadline_utc >= now]
    if not going:
        one = len(expired) == 1
        return (
            f"{'its' if one else 'their'} not_after deadline has passed too, so "
            f"{'it' if one else 'they'} will not go out (the daemon records "
            f"{'it' if one else 'them'} as expired)",
            "move it to a later time if it should go out",
        )
    subject = "it goes" if len(going) == 1 else "they go"
    if expired:
        subject = "the other one goes" if len(going) == 1 else f"the other {len(going)} go"
    deadlines = [d.deadline_utc.astimezone(ZoneInfo(d.timezone)) for d in going if d.deadline_utc]
    if len(deadlines) < len(going):
        outcome = (
            f"unless already sent, {subject} out late as soon as the daemon loads this plan "
            "(no not_after deadline)"
        )
    else:
        first = min(deadlines)
        outcome = (
            f"unless already sent, {subject} out late if the daemon loads this plan before "
            f"{first:%Y-%m-%d %H:%M} {first.tzinfo} (not_after), and not at all after that"
        )
    if expired:
        outcome = (
            f"{len(expired)} of these deliveries are past their not_after deadline and will not "
            f"go out; {outcome}"
        )
    return outcome, (
        "move it to a later time if it should go out on time; if it should not go out late, "
        "remove it or give it a shorter not_after"
    )


def _local(delivery: Delivery) -> str:
    return f"{delivery.due_local:%Y-%m-%d %H:%M} {delivery.timezone}"


@dataclass(slots=True)
class _TooClose:
    """Two posts closer than the later one's min_gap: the first deliveries found so, how close
    they come, and on which channels."""

    earlier: Slot
    later: Slot
    apart: timedelta
    channels: set[str] = field(default_factory=set)


def check_gaps(posts: Sequence[PostSlots], problems: Problems) -> None:
    """Warn when two different posts on one channel are closer than their min_gap.

    The variants of one post going out together (one post in eight languages) are meant to be
    close and are not compared with each other. When no post has a min_gap, none can be too
    close (a post is compared with those before it, at most its min_gap earlier), and the
    slots are not made.
    """
    if not any(post.gap for post in posts):
        return
    by_channel: dict[str, list[Slot]] = defaultdict(list)
    for post in posts:
        for slot in post.slots():
            by_channel[slot.channel].append(slot)
    close: dict[tuple[str, str, str, str], _TooClose] = {}
    for channel, items in by_channel.items():
        items.sort(key=lambda s: s.due)
        for i, later in enumerate(items):
            for j in range(i - 1, -1, -1):
                earlier = items[j]
                apart = later.due - earlier.due
                if apart >= later.gap:
                    break
                same = (earlier.campaign, earlier.post) == (later.campaign, later.post)
                if same and not (earlier.variants & later.variants):
                    continue
                if same and apart == timedelta():
                    continue
                ident = (earlier.campaign, earlier.post, later.campaign, later.post)
                known = close.setdefault(ident, _TooClose(earlier, later, apart))
                known.apart = min(known.apart, apart)
                known.channels.add(channel)
    by_later: dict[tuple[str, str], list[_TooClose]] = {}
    for pair in close.values():
        by_later.setdefault((pair.later.campaign, pair.later.post), []).append(pair)
    for found in by_later.values():
        found.sort(key=lambda pair: (pair.apart, pair.earlier.campaign, pair.earlier.post))
        earlier, later, apart = found[0].earlier, found[0].later, found[0].apart
        on = ", ".join(sorted(set().union(*(pair.channels for pair in found))))
        same_file = earlier.campaign == later.campaign
        other = earlier.post if same_file else f"{earlier.campaign}/{earlier.post}"
        more = len(found) - 1
        others = f" (and {more} other post{'s' if more > 1 else ''})" if more else ""
        when = (
            f"at the same time as '{other}' ({earlier.who()}){others}"
            if apart == timedelta()
            else f"only {format_duration(apart)} after '{other}' ({earlier.who()}){others}"
        )
        problems.warning(
            later.where,
            f"post '{later.post}' ({later.who()}) goes out {when} on {on}; keep at least "
            f"{format_duration(later.gap)} between posts",
            "move one of them, or lower min_gap (min_gap: 0s turns this warning off)",
        )
