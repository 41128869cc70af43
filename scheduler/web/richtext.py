"""A post's text as a platform displays it: links shortened its way, hashtags and mentions
highlighted, line breaks kept. Everything from the campaign file is escaped first, so a
text holding HTML or a `javascript:` address shows as text; only http(s) addresses link."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from campaigns.platforms import PLATFORMS

_TOKEN = re.compile(
    r"(?P<url>https?://[^\s<>\"]+[^\s<>\".,;:!?)\]}'])"
    r"|(?P<tag>(?<![\w&])#\w+)"
    r"|(?P<mention>(?<![\w/])@\w+(?:[.-]\w+)*(?:@[\w-]+(?:\.[\w-]+)+)?)",
    re.UNICODE,
)


def display_url(url: str, platform: str) -> str:
    rules = PLATFORMS.get(platform)
    width = rules.link_display if rules else None
    if width is None:
        return url
    bare = re.sub(r"^https?://(www\.)?", "", url)
    return bare if len(bare) <= width else bare[:width] + "…"


def render(text: str, platform: str) -> Markup:
    parts: list[str] = []
    end = 0
    for match in _TOKEN.finditer(text):
        parts.append(str(escape(text[end : match.start()])))
        token = match.group(0)
        if match.lastgroup == "url":
            parts.append(
                f'<a class="link" href="{escape(token)}" rel="nofollow noopener noreferrer">'
                f"{escape(display_url(token, platform))}</a>"
            )
        else:
            parts.append(f'<span class="{match.lastgroup}">{escape(token)}</span>')
        end = match.end()
    parts.append(str(escape(text[end:])))
    return Markup("".join(parts).replace("\n", "<br>\n"))
