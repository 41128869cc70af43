"""Campaign reports: `gather` reads the ledger into a `Report` (model), and one module per
format writes it: table, markdown, csvfile, jsonfile, html."""

from __future__ import annotations

from collections.abc import Callable

from scheduler.report import csvfile, html, jsonfile, markdown, table
from scheduler.report.gather import Period, build_report
from scheduler.report.model import SCHEMA_VERSION, Report

FORMATS: dict[str, Callable[[Report], str]] = {
    "table": table.render,
    "html": html.render,
    "csv": csvfile.render,
    "json": jsonfile.render,
    "markdown": markdown.render,
}

__all__ = ["FORMATS", "SCHEMA_VERSION", "Period", "Report", "build_report"]
