"""`clarion report --format markdown`: the report for a wiki, an issue or an e-mail."""

from __future__ import annotations

from collections.abc import Sequence

from scheduler.report.model import Report
from scheduler.report.sections import Cell, Link, Section, heading, sections


def render(report: Report) -> str:
    title, lines = heading(report)
    parts = [f"# {_escape(title)}", "\n".join(_escape(line) + "  " for line in lines).rstrip()]
    parts += [_section(section) for section in sections(report)]
    return "\n\n".join(parts) + "\n"


def _section(section: Section) -> str:
    lines = [f"## {section.title}", ""]
    if section.rows:
        align = ["---:" if i in section.numeric else "---" for i in range(len(section.columns))]
        lines += [_row(section.columns), _row(align)]
        lines += [_row([_cell(c) for c in row]) for row in section.rows]
        lines.append("")
    lines += [_escape(note) for note in section.notes]
    return "\n".join(lines).rstrip()


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _cell(cell: Cell) -> str:
    if isinstance(cell, Link) and cell.url.startswith(("https://", "http://")):
        url = cell.url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
        return f"[{_escape(cell.text)}]({url})"
    return _escape(cell.text if isinstance(cell, Link) else cell)


def _escape(text: str) -> str:
    """Campaign text is shown as written: no Markdown or HTML of its own takes effect."""
    special = "\\`*_{}[]<>|~&"
    return "".join(f"\\{c}" if c in special else c for c in text.replace("\n", " "))
