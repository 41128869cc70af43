"""`clarion report --format csv`: one row per delivery of the period, for a spreadsheet or a
BI tool. The columns are `COLUMNS`, in this order (docs/report.md describes each); a column is
only ever added at the end, and `schema_version` changes when one changes meaning."""

from __future__ import annotations

import csv
import io

from scheduler.moments import utc_iso
from scheduler.report.model import FIGURES, SCHEMA_VERSION, PostResult, Report, seconds

COLUMNS = (
    "schema_version",
    "campaign",
    "key",
    "post",
    "language",
    "audience",
    "channel",
    "platform",
    "state",
    "due_utc",
    "sent_utc",
    "late_seconds",
    "url",
    "text",
    "figures",
    "figures_at",
    *FIGURES,
    "responses",
    "readings",
)


def render(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(_row(post) for post in report.posts)
    return out.getvalue()


def _row(post: PostResult) -> list[object]:
    late, latest = post.late, post.latest
    values: list[object] = [
        SCHEMA_VERSION,
        post.campaign,
        post.key,
        post.post,
        post.language,
        post.audience,
        post.channel,
        post.platform,
        post.state,
        utc_iso(post.due_utc),
        utc_iso(post.sent_utc),
        None if late is None else seconds(late),
        post.url,
        post.text,
        None if post.coverage is None else post.coverage.value,
        None if latest is None else utc_iso(latest.at),
        *(post.figure(name) for name in FIGURES),
        post.responses,
        len(post.snapshots),
    ]
    return [_safe("" if value is None else value) for value in values]


def _safe(value: object) -> object:
    """Text a spreadsheet would run as a formula (=, +, -, @ first) is quoted with a leading
    apostrophe, as OWASP advises for CSV files opened in spreadsheets."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
