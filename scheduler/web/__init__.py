"""The web view: campaign overview, calendar, posts as each platform shows them, live
delivery state, problems, and the operator's actions when operators are configured.

`clarion serve` serves it, the daemon serves it on its HTTP endpoint (`server.web: true`), and
`clarion preview --format html OUT` writes it as static files. Flask (Werkzeug, Jinja2 with
autoescaping) renders it; htmx (vendored in static/, with its licence) refreshes live parts.
"""
