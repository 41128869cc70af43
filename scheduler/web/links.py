"""Links between pages: server addresses, or the names of the static files that
`clarion preview --format html` writes side by side (so that they open from disk)."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

from flask import url_for


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"


class Links:
    def __init__(self, export: bool) -> None:
        self.export = export

    def url(self, endpoint: str, **params: str) -> str:
        params = {name: value for name, value in params.items() if value}
        if not self.export:
            return url_for(endpoint, **params)  # type: ignore[arg-type]
        return file_name(endpoint, params)


def file_name(endpoint: str, params: dict[str, str]) -> str:
    """The static file of a page. A calendar's file names its zone, view and first day (the
    filters live in the address's #fragment, applied in the browser)."""
    if endpoint == "overview":
        return "index.html"
    if endpoint == "problems":
        return "problems.html"
    if endpoint == "static":
        return f"static/{params['filename']}"
    if endpoint == "post":
        parts = [params["campaign"], params["post"], params.get("variant", "")]
        return "post-" + "-".join(slug(p) for p in parts if p) + ".html"
    if endpoint == "calendar":
        zone, view, day = slug(params.get("tz", "")), params.get("view", "month"), params["date"]
        if view == "week":
            monday = date.fromisoformat(day) - timedelta(days=date.fromisoformat(day).weekday())
            return f"calendar-{zone}-week-{monday.isoformat()}.html"
        if view == "day":
            return f"calendar-{zone}-day-{day}.html"
        return f"calendar-{zone}-{day[:7]}.html"
    if endpoint == "media":
        digest = hashlib.blake2b(params["key"].encode(), digest_size=8).hexdigest()
        return f"media/{digest}-{params['n']}"
    return "index.html"
