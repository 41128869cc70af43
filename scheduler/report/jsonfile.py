"""`clarion report --format json`: `Report.as_json()` as one JSON document."""

from __future__ import annotations

import json

from scheduler.report.model import Report


def render(report: Report) -> str:
    return json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n"
