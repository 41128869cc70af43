"""The web view as a WSGI application (Flask): overview, calendar, posts, problems, and the
operator's actions when operators are configured."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, abort, flash, redirect, render_template, request, send_file, session
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from werkzeug.middleware.proxy_fix import ProxyFix

from campaigns.platforms import PLATFORMS
from campaigns.preview.common import clock, iso_utc, local_day, stamp, video_facts, zone
from campaigns.preview.json import as_json
from scheduler.web import actions, auth, richtext
from scheduler.web.board import STATES, Board, Filters, Item, Source
from scheduler.web.calendar import MONTH_CELL, VIEWS, default_anchor, grid, parse_view
from scheduler.web.links import Links

LIVE_EVERY = "3s"
"""How often a page served with a ledger asks for its live parts again."""

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; media-src 'self'; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

PALETTE = 10
"""Channel or campaign colours: classes c0..c9 in clarion.css."""


def create_app(
    source: Source,
    *,
    operators: Mapping[str, str] | None = None,
    behind_proxy: bool = False,
    export: bool = False,
) -> Flask:
    """`operators` (name -> password) turns operator actions on; without them the view is
    read-only and the server refuses every change. `export` builds links between static
    files instead of server addresses."""
    app = Flask(__name__)
    users = dict(operators or {})
    keep_sessions = bool(users) and not export
    auth.configure(app, source.config.state_dir / auth.KEY_FILE if keep_sessions else None)
    throttle = auth.Throttle()
    links = Links(export)
    if behind_proxy:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)  # type: ignore[method-assign]

    def board() -> Board:
        return source.board()

    def can_act() -> bool:
        return bool(users) and not export and source.ledger() is not None

    @app.context_processor
    def helpers() -> dict[str, Any]:
        user = auth.current_user() if users and not export else None
        return {
            "link": links.url,
            "export": export,
            "live": not export and source.ledger() is not None,
            "live_every": LIVE_EVERY,
            "user": user,
            "operators_configured": bool(users) and not export,
            "actions": can_act() and user is not None,
            "csrf_token": auth.csrf_token if users and not export else lambda: "",
            "stamp": stamp,
            "clock": clock,
            "start_month": start_month,
            "iso_utc": iso_utc,
            "video_facts": video_facts,
            "platforms": PLATFORMS,
            "states": STATES,
        }

    @app.after_request
    def secure(response: Any) -> Any:
        response.headers.update(SECURITY_HEADERS)
        if request.method == "POST" or auth.current_user():
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/")
    def overview() -> ResponseReturnValue:
        data = board()
        return render_template("overview.html", board=data, now=data.now, page="overview")

    @app.get("/problems")
    def problems() -> ResponseReturnValue:
        data = board()
        return render_template("problems.html", board=data, page="problems")

    @app.get("/calendar")
    def calendar() -> ResponseReturnValue:
        data = board()
        tz = request.args.get("tz", "")
        if not tz or not valid_zone(tz):
            tz = data.default_zone
        view = parse_view(request.args.get("view", "month"))
        colour = "campaign" if request.args.get("colour") == "campaign" else "channel"
        filters = Filters.parse(request.args)
        shown = filters.apply(data.items, tz)
        anchor = _day(request.args.get("date", "")) or default_anchor(shown, tz, data.now)
        cal = grid(shown, data.blackouts, view, anchor, tz)
        palettes = {"channel": palette(data.channels), "campaign": palette(sorted(data.campaigns))}
        switch_date, first, last = cal.anchor, date.min, date.max
        has_previous = has_next = True
        if export:  # only the months that hold deliveries are written, in every view and zone
            first, last = export_range(data)
            lowest = first - timedelta(days=first.weekday()) if view == "week" else first
            has_previous, has_next = cal.previous >= lowest, cal.following <= last
            switch_date = min(max(cal.anchor, first), last)
        return render_template(
            "calendar.html",
            board=data,
            grid=cal,
            tz=tz,
            view=view,
            views=VIEWS,
            colour=colour,
            colours=palettes[colour],
            palettes=palettes,
            switch_date=switch_date.isoformat(),
            reachable=lambda day: first <= day <= last,
            filters=filters,
            shown=sum(len(d.items) for week in cal.weeks for d in week),
            cell=MONTH_CELL,
            has_previous=has_previous,
            has_next=has_next,
            page="calendar",
        )

    @app.get("/post/<campaign>/<post>")
    def post(campaign: str, post: str) -> ResponseReturnValue:
        data = board()
        row = data.post(campaign, post)
        if row is None:
            abort(404, f"no post {post} in campaign {campaign}")
        variants = list(dict.fromkeys(_variant(i) for i in row.items))
        variant = request.args.get("variant", "")
        if variant not in variants:
            variant = variants[0]
        chosen = [i for i in row.items if _variant(i) == variant]
        by_channel: dict[str, list[Item]] = {}
        for item in chosen:
            by_channel.setdefault(item.delivery.channel, []).append(item)
        return render_template(
            "post.html",
            board=data,
            row=row,
            variants=variants,
            variant=variant,
            by_channel=by_channel,
            rich=richtext.render,
            payload=_payload,
            page="post",
        )

    @app.get("/report")
    def report() -> ResponseReturnValue:
        from scheduler.report import Period, build_report, html

        ledger = source.ledger()
        data = board()
        if ledger is None:
            return render_template("report.html", board=data, body=None, page="report")
        campaigns = ledger.campaigns()
        campaign = request.args.get("campaign", "")
        first = _day(request.args.get("from", ""))
        last = _day(request.args.get("until", ""))
        built = build_report(
            ledger,
            campaign if campaign in campaigns else None,
            period=Period(
                datetime.combine(first, time(), UTC) if first else None,
                datetime.combine(last + timedelta(days=1), time(), UTC) if last else None,
            ),
            late_after=source.config.file.policies.alert_lateness,
        )
        return render_template(
            "report.html",
            board=data,
            body=html.body(built),
            campaigns=campaigns,
            campaign=built.campaign or "",
            first=first.isoformat() if first else "",
            last=last.isoformat() if last else "",
            page="report",
        )

    @app.get("/report/assets/<name>")
    def report_asset(name: str) -> ResponseReturnValue:
        from scheduler.report import html

        if name not in html.ASSETS:
            abort(404)
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        return html.asset(name), 200, {"Content-Type": f"{kind}; charset=utf-8"}

    @app.get("/media")
    def media() -> ResponseReturnValue:
        item = _find(board(), request.args.get("key", ""))
        index = request.args.get("n", type=int, default=-1)
        if item is None or not 0 <= index < len(item.delivery.media):
            abort(404)
        file = item.delivery.media[index]
        return send_file(Path(file.path), mimetype=file.mime)

    @app.route("/login", methods=["GET", "POST"])
    def login() -> ResponseReturnValue:
        if not users:
            abort(404, "operator actions are off: no operators are configured")
        if request.method == "GET":
            return render_template("login.html", error=None, page="login")
        auth.require_csrf(request)
        name, address = request.form.get("name", ""), request.remote_addr or ""
        wait = throttle.wait(name, address)
        if wait:
            seconds = math.ceil(wait)
            error = (
                "Too many failed sign-ins for this name or from this address: wait "
                f"{_plural(seconds, 'second')} and try again."
            )
            page = render_template("login.html", error=error, page="login")
            return page, 429, {"Retry-After": str(seconds)}
        if auth.check_password(users, name, request.form.get("password", "")):
            throttle.succeeded(name, address)
            session.clear()
            session["user"] = name
            return redirect(links.url("overview"))
        throttle.failed(name, address)
        error = "Wrong name or password."
        return render_template("login.html", error=error, page="login"), 401

    @app.post("/logout")
    def logout() -> ResponseReturnValue:
        auth.require_csrf(request)
        session.clear()
        return redirect(links.url("overview"))

    @app.post("/action/<name>")
    def act(name: str) -> ResponseReturnValue:
        user = auth.current_user()
        if not can_act():
            abort(403, "operator actions are off on this server")
        auth.require_csrf(request)
        if user is None:
            abort(403, "log in first")
        ledger = source.ledger()
        assert ledger is not None  # can_act() checked it
        action = actions.actions(source.config).get(name)
        if action is None:
            abort(404)
        ok, message = action(ledger, request.form, f"{user}@web")
        flash(message, "info" if ok else "error")
        back = request.form.get("back", "")
        return redirect(back if back.startswith("/") and not back.startswith("//") else "/")

    @app.errorhandler(403)
    @app.errorhandler(404)
    def refused(error: Any) -> ResponseReturnValue:
        return render_template("error.html", error=error, page="error"), error.code

    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["plural"] = _plural
    return app


def valid_zone(name: str) -> bool:
    try:
        zone(name)
    except (ValueError, KeyError):
        return False
    return True


def when(moment: datetime | None, tz: str) -> str:
    return "-" if moment is None else stamp(moment, tz)


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _variant(item: Item) -> str:
    d = item.delivery
    return d.audience or d.language or "-"


def _find(data: Board, key: str) -> Item | None:
    return next((i for i in data.items if i.key == key), None)


def _payload(item: Item) -> Markup:
    """What the connector is handed, as JSON (the platform's own request is built from it)."""
    document = as_json(item.delivery, item.live.state != "not-scheduled")
    return Markup.escape(json.dumps(document, indent=2, ensure_ascii=False))


def start_month(data: Board) -> str:
    """The first day of the month a calendar opens on."""
    return default_anchor(data.items, data.default_zone, data.now).replace(day=1).isoformat()


def palette(names: list[str]) -> dict[str, str]:
    return {name: f"c{n % PALETTE}" for n, name in enumerate(names)}


def export_range(data: Board) -> tuple[date, date]:
    """The days a static export's calendar covers, the same in every zone: from the first day
    of the first month that holds a delivery to the last day of the last one."""
    if not data.items:
        first = last = data.now.date()
    else:
        first = min(local_day(data.items[0].delivery.due_utc, z) for z in data.zones)
        last = max(local_day(data.items[-1].delivery.due_utc, z) for z in data.zones)
    following = (last.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first.replace(day=1), following - timedelta(days=1)
