"""`clarion report --format html`: one self-contained file with charts that opens from disk,
offline, and prints well; the web view's /report page shows the same body.

Charts are drawn by Chart.js, shipped in `assets/` with its licence (no CDN). Every chart
stands before the table of its figures, its text alternative. Campaign text is escaped by the
templates, the charts' data too (an attribute of each canvas, read as JSON); the file's Content
Security Policy lets only its own two scripts and its style sheet run, by their hashes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from scheduler.report.model import RESPONSES, Report
from scheduler.report.sections import GROWTH_SHOWN, Cell, Link, growth, heading, sections

ASSETS = {"chart.js": "chart.umd.min.js", "report.js": "report.js", "report.css": "report.css"}
"""What the page needs besides itself, by the name the web view serves it under."""
GROUP_CHARTS = ("language", "audience", "channel", "platform", "day")
"""Breakdowns drawn as stacked bars of responses (the post breakdown is too long to draw)."""


def asset(name: str) -> str:
    return _asset_text(ASSETS[name])


@cache
def _asset_text(filename: str) -> str:
    return files("scheduler.report").joinpath("assets", filename).read_text(encoding="utf-8")


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("scheduler.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = _cell
    return env


def body(report: Report) -> Markup:
    """The report as an HTML fragment (headings, charts' canvases, tables, chart data)."""
    title, lines = heading(report)
    shown = sections(report)
    charts = {
        name: {"caption": spec.pop("caption"), "spec": json.dumps(spec, separators=(",", ":"))}
        for name, spec in chart_specs(report, {s.name for s in shown if s.rows}).items()
    }
    template = _environment().get_template("body.html")
    return Markup(template.render(title=title, lines=lines, sections=shown, charts=charts))


def render(report: Report) -> str:
    """The standalone document."""
    title, _ = heading(report)
    css, chart_js, report_js = asset("report.css"), asset("chart.js"), asset("report.js")
    for text in (css, chart_js, report_js):
        if "</script" in text.lower() or "</style" in text.lower():
            raise ValueError("a shipped asset would end its own element early")
    csp = (
        f"default-src 'none'; script-src {_hash(chart_js)} {_hash(report_js)}; "
        f"style-src {_hash(css)}; img-src data:; base-uri 'none'; form-action 'none'"
    )
    return (
        _environment()
        .get_template("document.html")
        .render(
            title=title,
            csp=csp,
            css=Markup(css),
            chart_js=Markup(chart_js),
            report_js=Markup(report_js),
            body=body(report),
        )
    )


def chart_specs(report: Report, with_rows: set[str]) -> dict[str, dict[str, Any]]:
    """Chart.js configurations by the name of the section whose table they draw."""
    specs: dict[str, dict[str, Any]] = {}
    h = report.health
    if h.total:
        counts = {**h.states, "sent on time": h.on_time, "sent late": h.late}
        shown = [
            "planned", "held", "claimed", "sent on time", "sent late", "failed", "unknown",
            "expired", "cancelled",
        ]  # fmt: skip
        specs["health"] = {
            "type": "bar",
            "caption": "Deliveries by how they went out.",
            "data": {
                "labels": shown,
                "datasets": [{"label": "deliveries", "data": [counts[s] for s in shown]}],
            },
            "options": {"indexAxis": "y", "plugins": {"legend": {"display": False}}},
        }
    for name in GROUP_CHARTS:
        groups = [g for g in report.groups[name] if g.measured]
        if name not in with_rows or not groups:
            continue
        specs[name] = {
            "type": "bar",
            "caption": f"Responses by {name}: likes, reposts, replies and quotes, stacked.",
            "data": {
                "labels": [g.name for g in groups],
                "datasets": [
                    {"label": figure, "data": [g.totals[figure] or 0 for g in groups]}
                    for figure in RESPONSES
                    if any(g.totals[figure] is not None for g in groups)
                ],
            },
            "options": {"scales": {"x": {"stacked": True}, "y": {"stacked": True}}},
        }
    if "growth" in with_rows:
        specs["growth"] = _growth_chart(report)
    return specs


def _growth_chart(report: Report) -> dict[str, Any]:
    keys = {row[0].text if isinstance(row[0], Link) else row[0] for row in growth(report).rows}
    followed = [p for p in report.sent if p.key in keys][:GROWTH_SHOWN]
    datasets = [
        {
            "label": p.key,
            "data": [
                {"x": round((s.at - p.sent_utc).total_seconds() / 3600, 2), "y": s.responses}
                for s in p.snapshots
                if p.sent_utc is not None and s.responses is not None
            ],
        }
        for p in followed
    ]
    return {
        "type": "line",
        "caption": "Responses of the most answered posts by hours after sending.",
        "data": {"datasets": datasets},
        "options": {
            "scales": {
                "x": {"type": "linear", "title": {"display": True, "text": "hours after sending"}},
                "y": {"beginAtZero": True, "title": {"display": True, "text": "responses"}},
            }
        },
    }


def _cell(cell: Cell) -> Markup:
    if isinstance(cell, Link) and urlsplit(cell.url).scheme in ("http", "https"):
        return Markup('<a href="{}" rel="noopener noreferrer">{}</a>').format(cell.url, cell.text)
    return escape(cell.text if isinstance(cell, Link) else cell)


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"
