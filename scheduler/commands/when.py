"""WHEN as an operator writes it on the command line: `2h`, `90m`, `2027-02-09 14:00`,
`2027-02-09 14:00 Europe/Brussels`, `2027-02-09T13:00Z`, or a day alone (its end)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click


class When(click.ParamType[datetime]):
    """A future instant; a time that names no zone or offset is read in UTC."""

    name = "WHEN"

    def __init__(self, now: datetime | None = None) -> None:
        self._now = now

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        now = self._now or datetime.now(UTC)
        try:
            moment = read_when(text, now)
        except ValueError as exc:
            message = str(exc)  # its own advice follows; a HintedError's hint is left out
            self.fail(
                f"{message}; write a duration such as 2h or 90m, or a date and time such as "
                "'2027-02-09 14:00' (UTC) or '2027-02-09 14:00 Europe/Brussels'",
                param,
                ctx,
            )
        if moment <= now:
            self.fail(f"'{text}' is already past ({moment:%Y-%m-%d %H:%M} UTC)", param, ctx)
        return moment


def read_when(text: str, now: datetime) -> datetime:
    """The instant `text` names; raises ValueError (a HintedError where one applies)."""
    from campaigns.durations import DURATION, parse_duration
    from campaigns.timeexpr import parse_time, resolve

    if DURATION.fullmatch(text):
        return now + parse_duration(text)
    expr = parse_time(text)
    if expr.anchor is not None:
        raise ValueError(
            f"'{text}' is not a time (anchors such as 'sid' exist in campaign files only)"
        )
    end = resolve(expr, {}, "UTC", end=True).utc
    return end + timedelta(microseconds=1) if expr.day_only else end
