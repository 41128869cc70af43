"""`clarion report --format table`: the report as aligned text for the terminal."""

from __future__ import annotations

from collections.abc import Sequence

from scheduler.report.model import Report
from scheduler.report.sections import Cell, Link, Section, heading, sections


def render(report: Report) -> str:
    title, lines = heading(report)
    parts = ["\n".join([title, "=" * len(title), *lines])]
    parts += [_section(section) for section in sections(report)]
    return "\n\n".join(parts) + "\n"


def _section(section: Section) -> str:
    lines = [section.title, "-" * len(section.title)]
    if section.rows:
        columns, rows, numeric = _with_links(section)
        widths = [max(len(r[i]) for r in [columns, *rows]) for i in range(len(columns))]

        def line(cells: Sequence[str]) -> str:
            return "  ".join(
                cell.rjust(width) if i in numeric else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()

        lines += [line(columns), line(["-" * w for w in widths]), *map(line, rows)]
    lines += section.notes
    return "\n".join(lines)


def _with_links(section: Section) -> tuple[list[str], list[list[str]], set[int]]:
    """The cells as text; a column of links is followed by one of their addresses."""
    linked = {i for row in section.rows for i, cell in enumerate(row) if isinstance(cell, Link)}
    columns: list[str] = []
    numeric: set[int] = set()
    for i, name in enumerate(section.columns):
        if i in section.numeric:
            numeric.add(len(columns))
        columns += [name, "Link"] if i in linked else [name]
    rows = []
    for row in section.rows:
        cells: list[str] = []
        for i, cell in enumerate(row):
            cells += [_text(cell), _url(cell)] if i in linked else [_text(cell)]
        rows.append(cells)
    return columns, rows, numeric


def _text(cell: Cell) -> str:
    return cell.text if isinstance(cell, Link) else cell


def _url(cell: Cell) -> str:
    return cell.url if isinstance(cell, Link) else "-"
