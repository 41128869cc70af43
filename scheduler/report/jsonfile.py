"""`clarion report --format json`: `Report.as_json()` as one JSON document, compact (a
campaign's report runs to megabytes: `python -m json.tool` indents it for reading)."""

from __future__ import annotations

import json

from scheduler.report.model import Report


def render(report: Report) -> str:
    return json.dumps(report.as_json(), ensure_ascii=False, separators=(",", ":")) + "\n"
