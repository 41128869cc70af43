"""`--format markdown`: a preview to post as a pull-request comment (GitHub-flavoured Markdown).

Campaign text shows as written and is never read as Markdown or HTML. A word joiner (U+2060,
invisible) after `@` and after `#` before a digit keeps a comment from notifying a GitHub user
or linking an issue when a post mentions an account or a number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from campaigns.delivery import Delivery
from campaigns.preview.common import (
    HELD,
    Preview,
    by_day,
    clock,
    day_heading,
    describe,
    excerpt,
    length_label,
    over_limit,
    post_label,
    stamp,
    zone_label,
)
from campaigns.problems import Problem

_INLINE = str.maketrans(
    {
        "\\": "\\\\",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
        "]": "\\]",
        "|": "\\|",
        "~": "\\~",
        "<": "&lt;",
        ">": "&gt;",
        "&": "&amp;",
    }
)
_MENTION = re.compile(r"@(?=\w)|#(?=\d)")
_BLOCK_MARKER = re.compile(r"^(?:[-+=#]|\d+(?=[.)]))")
_INDENT = re.compile(r"^[ \t]+")
WORD_JOINER = "\u2060"


def inline(text: str) -> str:
    """Text safe in a paragraph or a table cell: one line, shown exactly as written."""
    flat = text.replace("\r\n", "\n").replace("\n", " ")
    return _MENTION.sub(lambda m: m.group() + WORD_JOINER, flat).translate(_INLINE)


def block(text: str) -> list[str]:
    """Lines of a quote block that keeps the text's line breaks, indents and blank lines."""
    lines = []
    for raw in text.splitlines() or [""]:
        line = _BLOCK_MARKER.sub(_escape_marker, inline(raw))
        line = _INDENT.sub(lambda m: "&nbsp;" * len(m.group().expandtabs(4)), line)
        lines.append(f"> {line}<br>" if line else ">")
    return lines


def _escape_marker(match: re.Match[str]) -> str:
    """`- `, `+ `, `# ` or `1. ` at a line start would make a list or a heading."""
    marker = match.group()
    return marker + "\\" if marker.isdigit() else "\\" + marker


def row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def render(preview: Preview) -> str:
    out = [f"## Clarion preview: {inline(preview.title)}", ""]
    out += _summary(preview)
    out += _problems(preview.problems)
    zone_name = preview.display_zone
    several = len(preview.campaigns) > 1
    zones = [preview.tz] if preview.tz else []
    headings = ["Local time", "UTC", *map(zone_label, zones), "Channel", "Lang", "Post"]
    headings += ["Length", "Text", "Notes"]
    for day, deliveries in by_day(preview.deliveries, zone_name):
        out += [f"### {day_heading(day)} ({inline(zone_name)})", ""]
        out.append(row(headings))
        out.append(row("---:" if heading == "Length" else "---" for heading in headings))
        for d in deliveries:
            local = clock(d.due_utc, d.timezone, day)
            if d.timezone != preview.campaign_zone(d):
                local += f" ({zone_label(d.timezone)})"
            length = length_label(d)
            cells = (
                inline(local),
                clock(d.due_utc, "UTC", day),
                *(clock(d.due_utc, extra, day) for extra in zones),
                inline(d.channel),
                inline(d.language or ""),
                inline(post_label(d, several)),
                f"**{length}**" if over_limit(d) else length,
                inline(excerpt(d.text)),
                "<br>".join(_notes(d, preview)),
            )
            out.append(row(cells))
        out += ["", "<details>", f"<summary>Full texts ({len(deliveries)})</summary>", ""]
        for d in deliveries:
            label = " · ".join(
                (clock(d.due_utc, d.timezone, day), d.channel, d.language or "", post_label(d))
            )
            out += [f"**{inline(label)}** · {length_label(d)}", "", *block(d.text), ""]
            for m in d.media:
                alt = f": {inline(m.alt)}" if m.alt else " (no alt text)"
                out += [f"📎 {inline(m.file)}{alt}", ""]
        out += ["</details>", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _summary(preview: Preview) -> list[str]:
    s = preview.summary()
    out = [describe(s), ""]
    if s.first and s.last:
        zone_name = preview.display_zone
        out += [f"First due {stamp(s.first, zone_name)}, last due {stamp(s.last, zone_name)}", ""]
    if s.per_channel:
        out += [row(("Channel", "Deliveries")), row(("---", "---:"))]
        out += [row((inline(name), f"{count:,}")) for name, count in s.per_channel.items()]
        out.append("")
    return out


def _problems(problems: Sequence[Problem]) -> list[str]:
    if not problems:
        return []
    out = [f"### Problems ({len(problems)})", ""]
    for p in problems:
        mark = "❌" if p.severity == "error" else "⚠️"
        out.append(f"- {mark} **{p.severity}** {inline(str(p.where))}: {inline(p.message)}")
        if p.hint:
            out.append(f"  - hint: {inline(p.hint)}")
    return [*out, ""]


def _notes(delivery: Delivery, preview: Preview) -> list[str]:
    notes = ["📝 draft"] if delivery.status == "draft" else []
    if preview.held(delivery):
        notes.append(f"⛔ {HELD.lower()}: errors in its file")
    if over_limit(delivery):
        notes.append("🚫 too long")
    notes += [f"⚠️ {inline(w)}" for w in delivery.warnings]
    return notes
