from __future__ import annotations

import pytest

from connectors import linkcard
from connectors.fakes.server import Fault, Response
from tests.connectors.fakeweb import FakeWeb, png
from tests.connectors.social import HANG, IMPATIENT

OG = (
    '<meta property="og:title" content="Say no &amp; report">'
    '<meta property="og:description" content="  Online sexual\n coercion is a crime. ">'
    '<meta property="og:image" content="/card.png">'
    "<title>Ignored when og:title exists</title>"
)


def test_opengraph_tags_make_the_card(web: FakeWeb) -> None:
    url = web.html("/sayno", OG)
    card = linkcard.fetch_card(url)
    assert card == linkcard.Card(
        url, "Say no & report", "Online sexual coercion is a crime.", web.base_url + "/card.png"
    )


def test_title_and_description_without_opengraph(web: FakeWeb) -> None:
    url = web.html("/plain", '<title>Plain page</title><meta name="description" content="About">')
    assert linkcard.fetch_card(url) == linkcard.Card(url, "Plain page", "About", None)


def test_no_card_for_a_page_without_title_or_description(web: FakeWeb) -> None:
    assert linkcard.fetch_card(web.html("/empty", "")) is None


def test_redirects_are_followed(web: FakeWeb) -> None:
    target = web.html("/final", OG)
    web.pages["/old"] = Response(301, b"", {"Location": "/final"})
    card = linkcard.fetch_card(web.base_url + "/old")
    assert card is not None and card.title == "Say no & report"
    assert card.url == web.base_url + "/old"
    assert card.image == target.replace("/final", "/card.png")


@pytest.mark.parametrize(
    "page",
    [
        Response(404, b"<title>x</title>", {"Content-Type": "text/html"}),
        Response(200, b'{"title": "x"}', {"Content-Type": "application/json"}),
        Response(301, b"", {"Location": "http://example.org/elsewhere"}),  # plain http, not local
    ],
    ids=["not found", "not html", "redirect to plain http"],
)
def test_no_card_for_pages_that_cannot_give_one(web: FakeWeb, page: Response) -> None:
    web.pages["/page"] = page
    assert linkcard.fetch_card(web.base_url + "/page") is None


def test_plain_http_is_refused_except_on_this_machine() -> None:
    assert linkcard.fetch_card("http://example.org/") is None
    assert linkcard.fetch_card("ftp://example.org/") is None


def test_a_slow_page_gives_no_card(web: FakeWeb) -> None:
    url = web.html("/slow", OG)
    web.inject(Fault("stall", seconds=HANG, method="GET", path="/slow"))
    assert linkcard.fetch_card(url, timeout=IMPATIENT) is None


def test_a_large_page_is_read_only_up_to_the_bound(web: FakeWeb) -> None:
    body = f"<html><head>{OG}</head><body>{'x' * 3_000_000}</body></html>".encode()
    web.pages["/big"] = Response(200, body, {"Content-Type": "text/html; charset=utf-8"})
    card = linkcard.fetch_card(web.base_url + "/big", max_bytes=100_000)
    assert card is not None and card.title == "Say no & report"


def test_images_within_bounds(web: FakeWeb) -> None:
    image = png(40, 20)
    web.pages["/card.png"] = Response(200, image, {"Content-Type": "image/png"})
    web.pages["/page.png"] = Response(200, b"<html>", {"Content-Type": "text/html"})
    found = linkcard.fetch_image(web.base_url + "/card.png")
    assert found is not None and (found.content, found.mime) == (image, "image/png")
    assert linkcard.fetch_image(web.base_url + "/card.png", max_bytes=len(image) - 1) is None
    assert linkcard.fetch_image(web.base_url + "/page.png") is None
