"""`--format ics`: one calendar event per delivery, to import into Outlook or Google Calendar.

Events are in UTC (calendar applications show them in the viewer's own zone), transparent (they
never mark anyone busy) and tentative while the post is a draft. The UID comes from the delivery
key, so importing a newer preview updates the events instead of duplicating them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from icalendar import Calendar, Event, vText

from campaigns.delivery import Delivery, Media
from campaigns.platforms import PLATFORMS
from campaigns.preview.common import (
    HELD,
    Preview,
    excerpt,
    length_label,
    post_label,
    stamp,
    video_facts,
)

DURATION = timedelta(minutes=10)


class _Text(vText):
    """TEXT escaped exactly as RFC 5545 says. icalendar's own escaping first reads a backslash
    followed by N as a line break, which would change a post that contains one."""

    def to_ical(self) -> bytes:
        escaped = str(self).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        escaped = escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
        return escaped.encode("utf-8")


def summary(delivery: Delivery, held: bool = False) -> str:
    d = delivery
    tag = f"{d.channel} · {d.language}" if d.language else d.channel
    marks = ("DRAFT " if d.status == "draft" else "") + (f"{HELD} " if held else "")
    return f"{marks}[{tag}] {post_label(d)}: {excerpt(d.text, 40)}"


def description(delivery: Delivery, held: bool = False, notes: Sequence[str] = ()) -> str:
    d = delivery
    rules = PLATFORMS.get(d.platform)
    platform = rules.label if rules else d.platform
    lines = [
        d.text,
        "",
        f"Length: {length_label(d)} ({platform})",
        f"Local time: {stamp(d.due_utc, d.timezone)} ({d.timezone})",
        f"Status: {d.status}" + (f", {HELD.lower()}: its file has errors" if held else ""),
    ]
    lines += [_media(m) for m in d.media]
    lines += [f"Warning: {w}" for w in d.warnings]
    lines += [f"Note: {note[:1].upper()}{note[1:]}" for note in notes]
    lines += [f"Key: {d.key}", f"Source: {d.source}"]
    return "\n".join(lines)


def event(delivery: Delivery, preview: Preview) -> Event:
    d = delivery
    item = Event()
    item.add("uid", f"{d.key}@clarion")
    item.add("dtstamp", preview.generated)
    item.add("dtstart", d.due_utc)
    item.add("dtend", d.due_utc + DURATION)
    held = preview.held(d)
    item.add("summary", _Text(summary(d, held)))
    item.add("description", _Text(description(d, held, preview.notes(d))))
    item.add("categories", [d.channel, d.platform])
    item.add("status", "CONFIRMED" if preview.scheduled(d) else "TENTATIVE")
    item.add("transp", "TRANSPARENT")
    if d.link:
        item.add("url", d.link)
    return item


def render(preview: Preview) -> str:
    calendar = Calendar()
    calendar.add("prodid", "-//Clarion//Campaign preview//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _Text(preview.title))
    for delivery in preview.deliveries:
        calendar.add_component(event(delivery, preview))
    text: str = calendar.to_ical().decode("utf-8")
    return text


def _media(media: Media) -> str:
    facts = video_facts(media)
    shown = f"Media: {media.file}" + (f" ({facts})" if facts else "")
    return shown + (f" (alt: {media.alt})" if media.alt else "")
