"""`clarion diff`: what a change does to the plan, as Markdown for a pull-request comment, as
plain text for a terminal, or as JSON for scripts. Markdown uses the escaping of
campaigns/preview/markdown.py, so a post's text is shown as written and notifies nobody."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from campaigns.delivery import Delivery
from campaigns.deliverydiff import Change, DeliveryDiff
from campaigns.preview.common import excerpt, plural, post_label, stamp
from campaigns.preview.json import VERSION, as_json
from campaigns.preview.markdown import block, inline, row
from campaigns.problems import Problem

MARKER = "<!-- clarion-diff -->"
"""First line of the Markdown: CI finds its earlier comment by it and updates that one."""

COMMENT_LIMIT = 60_000
"""GitHub refuses comments over 65,536 characters; longer previews are cut to this."""


@dataclass(frozen=True, slots=True)
class DiffReport:
    diff: DeliveryDiff
    base: str
    """What the plan is compared with, as the user named it, with its commit."""
    problems: Sequence[Problem]
    """Of the plan after the change."""


def headline(report: DiffReport) -> str:
    d = report.diff
    if d.empty:
        return f"No delivery added, changed or removed compared with {report.base}"
    counts = [
        f"{len(d.added):,} added",
        f"{len(d.changed):,} changed",
        f"{len(d.removed):,} removed",
    ]
    return f"{', '.join(counts)} compared with {report.base}"


def _when(delivery: Delivery) -> str:
    return stamp(delivery.due_utc, delivery.timezone)


def markdown(report: DiffReport) -> str:
    d = report.diff
    out = [MARKER, "## Clarion: what this change does to the plan", "", inline(headline(report))]
    errors = [p for p in report.problems if p.severity == "error"]
    out += ["", f"{plural(d.unchanged, 'delivery', 'deliveries')} unchanged.", ""]
    if report.problems:
        mark = "❌" if errors else "⚠️"
        out += [f"### {mark} Problems ({len(report.problems)})", ""]
        for p in report.problems:
            out.append(f"- **{p.severity}** {inline(str(p.where))}: {inline(p.message)}")
            if p.hint:
                out.append(f"  - hint: {inline(p.hint)}")
        out.append("")
    heads = ("When", "Channel", "Lang", "Post", "Text")
    if d.added:
        out += [f"### Added ({len(d.added):,})", "", row(heads), row("---" for _ in heads)]
        out += [_row(x) for x in d.added]
        out += _texts(d.added)
    out += _changed(d.changed)
    if d.removed:
        out += [f"### Removed ({len(d.removed):,})", "", row(heads), row("---" for _ in heads)]
        out += [_row(x) for x in d.removed]
        out.append("")
    text = "\n".join(out).rstrip("\n") + "\n"
    if len(text) > COMMENT_LIMIT:
        cut = text.rfind("\n", 0, COMMENT_LIMIT - 200)
        text = text[:cut]
        if text.count("<details>") > text.count("</details>"):
            text += "\n</details>"
        text += (
            "\n\n… cut here: the change is too large for one comment. Run "
            "`clarion diff` locally, or see the job's artifact, for all of it.\n"
        )
    return text


def _changed(changed: Sequence[Change]) -> list[str]:
    if not changed:
        return []
    heads = ("When", "Channel", "Lang", "Post", "What changed", "Now")
    out = [f"### Changed ({len(changed):,})", "", row(heads), row("---" for _ in heads)]
    for change in changed:
        b, a = change.before, change.after
        when = inline(_when(a))
        if b.due_utc != a.due_utc:
            when = f"~~{inline(_when(b))}~~ → {when}"
        what = ", ".join(change.what)
        if "status" in change.what:
            what += f" ({b.status} → {a.status})"
        cells = (when, inline(a.channel), inline(a.language or ""), inline(post_label(a)))
        out.append(row((*cells, what, inline(excerpt(a.text)))))
    out.append("")
    reworded = [c for c in changed if "text" in c.what]
    if reworded:
        out += ["<details>", f"<summary>Texts before and after ({len(reworded):,})</summary>", ""]
        for c in reworded:
            out += [f"**{inline(_label(c.after))}**", "", "Before:", "", *block(c.before.text)]
            out += ["", "After:", "", *block(c.after.text), ""]
        out += ["</details>", ""]
    return out


def _label(delivery: Delivery) -> str:
    parts = (_when(delivery), delivery.channel, delivery.language, post_label(delivery))
    return " · ".join(part for part in parts if part)


def _row(delivery: Delivery) -> str:
    return row(
        (
            inline(_when(delivery)),
            inline(delivery.channel),
            inline(delivery.language or ""),
            inline(post_label(delivery)),
            inline(excerpt(delivery.text)),
        )
    )


def _texts(deliveries: Sequence[Delivery]) -> list[str]:
    out = ["", "<details>", f"<summary>Full texts ({len(deliveries):,})</summary>", ""]
    for delivery in deliveries:
        out += [f"**{inline(_label(delivery))}**", "", *block(delivery.text), ""]
    return [*out, "</details>", ""]


def text(report: DiffReport) -> str:
    d = report.diff
    out = [headline(report) + f"; {d.unchanged:,} unchanged."]
    for sign, deliveries in (("+", d.added), ("-", d.removed)):
        out += [f"{sign} {_label(x)}  {excerpt(x.text)}" for x in deliveries]
    for change in d.changed:
        out.append(
            f"~ {_label(change.after)}  ({', '.join(change.what)})  {excerpt(change.after.text)}"
        )
    out += [p.format() for p in report.problems]
    return "\n".join(out) + "\n"


def as_json_text(report: DiffReport) -> str:
    d = report.diff
    document = {
        "version": VERSION,
        "base": report.base,
        "added": [as_json(x, x.status == "approved") for x in d.added],
        "changed": [
            {
                "key": c.after.key,
                "what": c.what,
                "before": as_json(c.before, c.before.status == "approved"),
                "after": as_json(c.after, c.after.status == "approved"),
            }
            for c in d.changed
        ],
        "removed": [as_json(x, False) for x in d.removed],
        "unchanged": d.unchanged,
        "problems": [p.as_json() for p in report.problems],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
