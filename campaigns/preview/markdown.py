"""`--format markdown`: a preview to post as a pull-request comment (GitHub-flavoured Markdown).

Campaign text shows as written and is never read as Markdown or HTML. A word joiner (U+2060,
invisible) after `@` and after `#` before a digit keeps a comment from notifying a GitHub user
or linking an issue when a post mentions an account or a number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date

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
    plural,
    post_label,
    stamp,
    video_facts,
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


_URL = re.compile(r"https?://[^\s<>\"`|…]+[^\s<>\"`|….,;:!?)\]}'*_~]")
"""A web address as people write one in a post (without the punctuation that ends a sentence)."""


def inline(text: str) -> str:
    """Text safe in a paragraph or a table cell: one line, shown exactly as written. Web
    addresses become autolinks (`<https://…>`), which GitHub takes literally: escaping
    their `_` or `&` would break them. An address cut short by an excerpt is not a link."""
    flat = text.replace("\r\n", "\n").replace("\n", " ")
    out = []
    last = 0
    for match in _URL.finditer(flat):
        out.append(_plain(flat[last : match.start()]))
        url = match.group()
        if flat[match.end() : match.end() + 1] == "…":  # cut short in an excerpt: no link
            out.append(_plain(url.replace("://", ":" + WORD_JOINER + "//", 1)))
        else:
            out.append(f"<{url}>")
        last = match.end()
    out.append(_plain(flat[last:]))
    return "".join(out)


def _plain(text: str) -> str:
    return _MENTION.sub(lambda m: m.group() + WORD_JOINER, text).translate(_INLINE)


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


LIMIT = 65_536
"""The most characters a GitHub comment holds."""
_ROOM = 1_000
"""Kept free for the closing lines and the note on what was left out."""


def render(preview: Preview, limit: int = LIMIT) -> str:
    """The summary, problems and one row per post first; every delivery and its full text
    inside `<details>`, as far as the comment's size allows."""
    out = [f"## Clarion preview: {inline(preview.title)}", ""]
    out += _summary(preview)
    out += _problems(preview.problems)
    out += _posts(preview, limit - _ROOM - sum(len(line) + 1 for line in out))
    head = "\n".join(out)
    budget = limit - _ROOM - len(head)
    details, shown = _deliveries(preview, budget)
    out += details
    left = len(preview.deliveries) - shown
    if left:
        out += [
            f"*{plural(left, 'more delivery', 'more deliveries')} not shown: a comment holds "
            f"{limit:,} characters. `clarion preview --format json`, or --from, --until and "
            "--channel, show them all.*",
            "",
        ]
    return "\n".join(out).rstrip("\n") + "\n"


def _posts(preview: Preview, budget: int) -> list[str]:
    """One row per post: when it first goes out, where, for whom, and what to look at; as
    many as `budget` characters hold."""
    if not preview.deliveries:
        return []
    several = len(preview.campaigns) > 1
    groups: dict[tuple[str, str], list[Delivery]] = {}
    for d in preview.deliveries:
        groups.setdefault((d.campaign, d.post), []).append(d)
    heading = ("First due", "Post", "Channels", "For", "Deliveries", "Notes")
    out = [
        f"### Posts ({len(groups)})",
        "",
        row(heading),
        row(("---", "---", "---", "---", "---:", "---")),
    ]
    used = sum(len(line) + 1 for line in out)
    for shown, ((campaign, post), found) in enumerate(groups.items()):
        first = found[0]
        zone_name = preview.campaign_zone(first)
        channels = sorted({d.channel for d in found})
        who = sorted({d.audience or d.language or "" for d in found} - {""})
        notes = _post_notes(found, preview)
        line = row(
            (
                inline(stamp(first.due_utc, zone_name)),
                inline(f"{campaign}/{post}" if several else post),
                inline(", ".join(channels)),
                inline(", ".join(who)),
                f"{len(found):,}",
                "<br>".join(notes),
            )
        )
        if used + len(line) + 200 > budget:
            out += ["", f"*… and {len(groups) - shown:,} more posts.*"]
            break
        used += len(line) + 1
        out.append(line)
    return [*out, ""]


def _post_notes(found: Sequence[Delivery], preview: Preview) -> list[str]:
    notes = []
    if any(d.status == "draft" for d in found):
        notes.append("📝 draft")
    if any(preview.held(d) for d in found):
        notes.append(f"⛔ {HELD.lower()}: errors in its file")
    long = sum(over_limit(d) for d in found)
    if long:
        notes.append(f"🚫 {plural(long, 'delivery', 'deliveries')} too long")
    moved = [(d.channel, preview.projected[d.key]) for d in found if d.key in preview.projected]
    expiring = sorted({channel for channel, m in moved if m.expires})
    later = sorted({channel for channel, m in moved if not m.expires})
    if expiring:
        notes.append(f"⏳ expires unsent on {inline(', '.join(expiring))}: the channel's rate")
    if later:
        notes.append(f"⏱️ goes out later on {inline(', '.join(later))}: the channel's rate")
    if any(d.warnings for d in found):
        notes.append("⚠️ see the warnings")
    return notes


def _deliveries(preview: Preview, budget: int) -> tuple[list[str], int]:
    """Every delivery, day by day, inside `<details>`, within `budget` characters; returns the
    lines and how many deliveries they show."""
    zone_name = preview.display_zone
    several = len(preview.campaigns) > 1
    zones = [preview.tz] if preview.tz else []
    headings = ["Local time", "UTC", *map(zone_label, zones), "Channel", "Lang", "Audience"]
    headings += ["Post", "Length", "Text", "Notes"]
    opening = ["<details>", f"<summary>Every delivery ({len(preview.deliveries):,})</summary>", ""]
    out = list(opening)
    used = sum(len(line) + 1 for line in out) + 20
    shown = 0
    for day, deliveries in by_day(preview.deliveries, zone_name):
        table = [f"#### {day_heading(day)} ({inline(zone_name)})", "", row(headings)]
        table.append(row("---:" if heading == "Length" else "---" for heading in headings))
        used += sum(len(line) + 1 for line in table)
        if used > budget:
            break
        out += table
        texts: list[str] = []
        full_up = False
        for d in deliveries:
            line = _row(d, preview, day, zones, several)
            if used + len(line) + 1 > budget:
                full_up = True
                break
            out.append(line)
            used += len(line) + 1
            shown += 1
            full = _full_text(d, day)
            cost = sum(len(x) + 1 for x in full)
            if used + cost + 60 <= budget:  # 60: the lines of the <details> around them
                texts += full
                used += cost
        out.append("")
        if texts:
            out += ["<details>", "<summary>Full texts</summary>", "", *texts, "</details>", ""]
            used += 60
        if full_up:
            break
    out += ["</details>", ""]
    return (out if shown else []), shown


def _row(d: Delivery, preview: Preview, day: date, zones: Sequence[str], several: bool) -> str:
    local = clock(d.due_utc, d.timezone, day)
    if d.timezone != preview.campaign_zone(d):
        local += f" ({zone_label(d.timezone)})"
    length = length_label(d)
    return row(
        (
            inline(local),
            clock(d.due_utc, "UTC", day),
            *(clock(d.due_utc, extra, day) for extra in zones),
            inline(d.channel),
            inline(d.language or ""),
            inline(d.audience or ""),
            inline(post_label(d, several)),
            f"**{length}**" if over_limit(d) else length,
            inline(excerpt(d.text)),
            "<br>".join(_notes(d, preview)),
        )
    )


def _full_text(d: Delivery, day: date) -> list[str]:
    who = d.audience or d.language or ""
    label = " · ".join(
        part for part in (clock(d.due_utc, d.timezone, day), d.channel, who, post_label(d)) if part
    )
    out = [f"**{inline(label)}** · {length_label(d)}", "", *block(d.text), ""]
    for m in d.media:
        alt = f": {inline(m.alt)}" if m.alt else " (no alt text)"
        facts = video_facts(m)
        out += [f"📎 {inline(m.file)}{f' ({facts})' if facts else ''}{alt}", ""]
    return out


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


MAX_PROBLEMS = 100
"""Problems listed in a comment; `clarion validate` lists them all."""


def _problems(problems: Sequence[Problem]) -> list[str]:
    if not problems:
        return []
    out = [f"### Problems ({len(problems)})", ""]
    for p in problems[:MAX_PROBLEMS]:
        mark = "❌" if p.severity == "error" else "⚠️"
        out.append(f"- {mark} **{p.severity}** {inline(str(p.where))}: {inline(p.message)}")
        if p.hint:
            out.append(f"  - hint: {inline(p.hint)}")
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        out.append(f"- … and {more:,} more: `clarion validate` lists them all")
    return [*out, ""]


def _notes(delivery: Delivery, preview: Preview) -> list[str]:
    notes = ["📝 draft"] if delivery.status == "draft" else []
    if preview.held(delivery):
        notes.append(f"⛔ {HELD.lower()}: errors in its file")
    if over_limit(delivery):
        notes.append("🚫 too long")
    notes += [f"⚠️ {inline(w)}" for w in delivery.warnings]
    notes += [f"👉 {inline(n)}" for n in preview.notes(delivery)]
    return notes
