"""`--format table`: the terminal view, one table per day.

Campaign text is handed to rich as `Text`, never as markup, so brackets and `:emoji:` codes in
a post show exactly as written.
"""

from __future__ import annotations

from datetime import date

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from campaigns.delivery import Delivery
from campaigns.preview.common import (
    HELD,
    Preview,
    by_day,
    clock,
    day_heading,
    describe,
    length_label,
    over_limit,
    post_label,
    video_facts,
    zone_label,
)
from campaigns.yamlsource import printable


def render(preview: Preview, console: Console) -> None:
    zone_name = preview.display_zone
    several = len(preview.campaigns) > 1
    for day, deliveries in by_day(preview.deliveries, zone_name):
        table = Table(
            title=Text(f"{day_heading(day)} · {zone_name}", style="bold"),
            title_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            expand=True,
            leading=1,
        )
        table.add_column("When", no_wrap=True)
        table.add_column("Channel", overflow="fold")
        table.add_column("Post", overflow="fold")
        table.add_column("Text", ratio=1, min_width=24, overflow="fold")
        for d in deliveries:
            channel = Text(d.channel)
            if d.language:
                channel.append(f"\n{d.language}", style="dim")
            if d.audience:
                channel.append(f"\n{d.audience}", style="dim")
            table.add_row(
                _when(d, preview, day), channel, _post(d, several, preview), _text(d, preview)
            )
        console.print(table)
    if not preview.deliveries:
        console.print(Text("No deliveries to show."))
    console.print(Text(describe(preview.summary())))


def _when(delivery: Delivery, preview: Preview, day: date) -> Text:
    """The time in the campaign's zone, then in each other zone whose clock reads differently:
    the audience's, UTC and `--tz`."""
    campaign_zone = preview.campaign_zone(delivery)
    zones = [(campaign_zone, "bold"), (delivery.timezone, ""), ("UTC", "dim")]
    if preview.tz:
        zones.append((preview.tz, "cyan"))
    shown: list[str] = []
    text = Text()
    for zone_name, style in zones:
        line = clock(delivery.due_utc, zone_name, day)
        if line in shown:
            continue
        if shown:
            text.append("\n")
        shown.append(line)
        text.append(line, style=style)
        if zone_name not in (campaign_zone, "UTC"):
            text.append(f" {zone_label(zone_name)}", style="dim")
    return text


def _post(delivery: Delivery, several: bool, preview: Preview) -> Text:
    text = Text(post_label(delivery, several))
    text.append(f"\n{length_label(delivery)}", style="bold red" if over_limit(delivery) else "")
    if delivery.status == "draft":
        text.append("\nDRAFT", style="bold reverse magenta")
    if preview.held(delivery):
        text.append(f"\n{HELD}", style="bold reverse red")
    return text


SHOWN = 5_000
"""The most characters of one text the terminal shows (beyond every platform's limit but
Facebook's): wrapping a much longer text in a table takes rich seconds per delivery."""


def _text(delivery: Delivery, preview: Preview) -> Text:
    text = Text(printable(delivery.text[:SHOWN]))
    if len(delivery.text) > SHOWN:
        more = len(delivery.text) - SHOWN
        text.append(f" … {more:,} more characters (--format json shows all)", style="dim")
    if delivery.media:
        text.append("\n")
    for media in delivery.media:
        text.append(f"\n📎 {media.file}", style="dim")
        facts = video_facts(media)
        if facts:
            text.append(f" ({facts})", style="dim")
        text.append(f" alt: {media.alt}" if media.alt else " (no alt text)", style="dim")
    if over_limit(delivery):
        text.append(f"\n✗ too long for {delivery.channel}", style="bold red")
    for warning in delivery.warnings:
        text.append(f"\n⚠ {warning}", style="yellow")
    for note in preview.notes(delivery):
        text.append(f"\n» {note}", style="cyan")
    return text
