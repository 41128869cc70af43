"""The preview card of a link: a page's title, description and image, fetched within bounds.

Some platforms (Bluesky) show a card only when the client supplies its contents. Fetching is
best effort: a page that is slow, large, not HTML, or not on https gives no card, and never
fails the post that links to it. Plain http is followed only to this machine (tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

from connectors.http import USER_AGENT
from connectors.settings import is_loopback

MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class Card:
    url: str
    title: str
    description: str
    image: str | None
    """The absolute address of the page's preview image, if it names one."""


@dataclass(frozen=True, slots=True)
class Download:
    content: bytes
    mime: str
    url: str
    """Where the content came from, after redirects."""
    charset: str | None = None


def fetch_card(url: str, *, timeout: float = 5.0, max_bytes: int = 1_000_000) -> Card | None:
    """The card of the page at `url` from its OpenGraph tags (else its title), or None.

    Only the first `max_bytes` of the page are read: the tags sit in its head.
    """
    page = _download(url, _is_html, timeout=timeout, max_bytes=max_bytes, truncate=True)
    if page is None:
        return None
    tags = _MetaTags()
    try:
        tags.feed(page.content.decode(page.charset or "utf-8", "replace"))
        tags.close()
    except (LookupError, AssertionError):  # an unknown charset; html.parser's hard failures
        return None
    meta = tags.meta
    title = _clean(meta.get("og:title") or meta.get("twitter:title") or tags.title or "")
    description = _clean(
        meta.get("og:description")
        or meta.get("twitter:description")
        or meta.get("description")
        or ""
    )
    if not title and not description:
        return None
    image = next(
        (
            meta[name]
            for name in ("og:image", "og:image:url", "og:image:secure_url", "twitter:image")
            if meta.get(name, "").strip()
        ),
        None,
    )
    return Card(url, title, description, urljoin(page.url, image.strip()) if image else None)


def fetch_image(url: str, *, timeout: float = 5.0, max_bytes: int = 1_000_000) -> Download | None:
    """The image at `url` if it is one and fits in `max_bytes`, else None."""
    return _download(
        url, lambda mime: mime.startswith("image/"), timeout=timeout, max_bytes=max_bytes
    )


def _allowed(url: str) -> bool:
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname))


def _download(
    url: str,
    accept: Callable[[str], bool],
    *,
    timeout: float,
    max_bytes: int,
    truncate: bool = False,
) -> Download | None:
    """GET `url` following redirects to allowed addresses, within `timeout` seconds overall.

    A body over `max_bytes` is cut there when `truncate`, else refused.
    """
    deadline = time.monotonic() + timeout
    try:
        with httpx.Client(headers={"User-Agent": USER_AGENT}, follow_redirects=False) as client:
            for _ in range(MAX_REDIRECTS + 1):
                if not _allowed(url) or time.monotonic() >= deadline:
                    return None
                remaining = deadline - time.monotonic()
                with client.stream("GET", url, timeout=remaining) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers["location"])
                        continue
                    mime = response.headers.get("content-type", "").split(";")[0].strip()
                    if response.status_code != 200 or not accept(mime.lower()):
                        return None
                    body = _read(response, max_bytes, deadline, truncate)
                    if body is None:
                        return None
                    return Download(body, mime.lower(), url, response.charset_encoding)
    except (httpx.HTTPError, httpx.InvalidURL, KeyError):
        return None
    return None


def _read(
    response: httpx.Response, max_bytes: int, deadline: float, truncate: bool
) -> bytes | None:
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > max_bytes:
            return bytes(body[:max_bytes]) if truncate else None
        if time.monotonic() >= deadline:
            return None
    return bytes(body)


def _is_html(mime: str) -> bool:
    return mime in ("text/html", "application/xhtml+xml")


def _clean(text: str) -> str:
    return " ".join(text.split())


class _MetaTags(HTMLParser):
    """`<meta property|name=… content=…>` (first occurrence wins) and the `<title>`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title: str | None = None
        self._title: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta":
            name = (values.get("property") or values.get("name") or "").strip().lower()
            content = values.get("content")
            if name and content is not None:
                self.meta.setdefault(name, content)
        elif tag == "title" and self.title is None:
            self._title = []

    def handle_data(self, data: str) -> None:
        if self._title is not None:
            self._title.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._title is not None:
            self.title = "".join(self._title)
            self._title = None
