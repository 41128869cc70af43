"""Mistakes a campaign manager makes, and what Clarion answers: every problem at its place, in
plain words, with a hint that says how to fix it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from campaigns import load_plan

from .plan_helpers import EXAMPLES, OPTIONS

HEADER = """\
campaign: spring
title: Spring
timezone: Europe/Brussels
anchors: {sid: 2027-02-09}
channels: [x-main, mastodon-main]
posts:
"""
"""A campaign without languages: its first post starts on line 7."""
LANGUAGES = HEADER.replace("posts:", "languages: [en, fr]\nposts:")
"""The same in English and French: its first post starts on line 8."""


def header(old: str, new: str) -> str:
    return HEADER.replace(old, new)


WORDS = "word " * 60
MISTAKES: dict[str, tuple[str, list[str], str]] = {
    # name: (the file, every problem as "line:col severity: message", words of the first hint)
    "tab": (
        LANGUAGES + "  - id: a\n\tat: sid 09:00\n    text: {en: A, fr: B}\n",
        ["9:1 error: YAML syntax: a tab character; YAML indents with spaces only"],
        "replace the tab with spaces",
    ),
    "colon in a text": (
        LANGUAGES + "  - id: a\n    at: sid 09:00\n    text:\n      en: Reminder: call us\n"
        "      fr: B\n",
        [
            "11:19 error: YAML syntax: this text contains ': ', which YAML reads as the start "
            "of a key"
        ],
        'put the whole text in double quotes: en: "Reminder: call us"',
    ),
    "colon in a thread part": (
        HEADER + "  - id: a\n    at: sid 09:00\n    thread:\n      - First\n"
        "      - Reminder: call us\n",
        ["11:9 error: YAML read 'Reminder: call us' as a key and a value because of the ': '"],
        'double quotes: "Reminder: call us"',
    ),
    "time without its day": (
        HEADER + "  - {id: a, at: '9:00', text: A}\n",
        ["7:17 error: '9:00' is not a time"],
        "a time of day also needs its day",
    ),
    "offset without a time": (
        HEADER + "  - {id: a, at: sid-7d, text: A}\n",
        ["7:17 error: 'sid-7d' names a day but no time of day"],
        "such as 'sid-7d 09:00'",
    ),
    "zone misspelt": (
        header("Europe/Brussels", "Europe/Brusels") + "  - {id: a, at: sid 09:00, text: A}\n",
        ["3:11 error: unknown time zone 'Europe/Brusels'"],
        "did you mean 'Europe/Brussels'?",
    ),
    "zone as an offset": (
        header("Europe/Brussels", "GMT+1") + "  - {id: a, at: sid 09:00, text: A}\n",
        ["3:11 error: 'GMT+1' is a distance from UTC, not a time zone"],
        "such as Europe/Brussels",
    ),
    "zone whose sign reads backwards": (
        header("Europe/Brussels", "Etc/GMT-1") + "  - {id: a, at: sid 09:00, text: A}\n",
        [
            "3:11 warning: 'Etc/GMT-1' is UTC+1: in these names the sign is the opposite of "
            "what it seems"
        ],
        "such as Europe/Brussels",
    ),
    "language code misspelt": (
        LANGUAGES + "  - id: a\n    at: sid 09:00\n    text:\n      en: A\n      fn: B\n",
        ["12:7 error: 'fn' is not one of this campaign's languages"],
        "did you mean 'fr'? This text has no fr version yet",
    ),
    "language name for a code": (
        header("posts:", "languages: [english, fr]\nposts:")
        + "  - {id: a, at: sid 09:00, text: A}\n",
        ["6:13 error: 'english' is not a language code"],
        "such as 'en'",
    ),
    "every without until": (
        HEADER + "  - id: a\n    every: {cron: '0 9 * * MON', from: sid - 14d}\n    text: A\n",
        ["8:12 error: 'every' needs 'until'"],
        "add until: sid + 14d",
    ),
    "interval from a day without its time": (
        HEADER + "  - id: a\n    every: {interval: 1d, from: sid - 3d, until: sid}\n    text: A\n",
        ["8:33 warning: 'from' (sid - 3d) has no time of day, so post 'a' goes out at 00:00"],
        "from: sid - 3d 09:00",
    ),
    "id with a space": (
        HEADER + "  - {id: first post, at: sid 09:00, text: A}\n",
        ["7:10 error: 'first post' is not a valid id"],
        "such as 'first-post'",
    ),
    "thread part without a language": (
        LANGUAGES + "  - id: a\n    at: sid 09:00\n    thread:\n      - {en: One, fr: Un}\n"
        "      - {en: Two}\n",
        ["12:9 error: part 2 of the thread of post 'a' has no version in fr"],
        "add fr: ... to it",
    ),
    "media path misspelt": (
        HEADER + "  - id: a\n    at: sid 09:00\n    text: A\n    media:\n"
        "      - {file: media/sayno-crad.png, alt: A card}\n",
        ["11:16 error: media file 'media/sayno-crad.png' not found (looked for "],
        "did you mean 'media/sayno-card.png'?",
    ),
    "alt text missing in one language": (
        LANGUAGES + "  - id: a\n    at: sid 09:00\n    text: {en: A, fr: B}\n    media:\n"
        "      - file: media/sayno-card.png\n        alt: {en: A card}\n",
        ["13:14 error: 'media/sayno-card.png' has no alt text in fr"],
        "add 'fr: ...' to its 'alt:'",
    ),
    "blackout that swallows a post": (
        HEADER + "  - {id: a, at: sid 09:00, text: A}\n"
        "blackouts:\n  - {from: sid, until: sid, reason: Day of mourning}\n",
        [
            "7:17 warning: post 'a' on x-main at 2027-02-09 09:00 Europe/Brussels: held by the "
            "blackout 'Day of mourning' until 2027-02-10 00:00 CET: it expires then, its "
            "not_after has passed by then (line 9)"
        ],
        "move the post if it should go out at another time, or give it 'ignore_blackouts: "
        "true' if it must go out during the blackout, or set 'then: skip' on the blackout",
    ),
    "override for an unknown channel": (
        HEADER + "  - id: a\n    at: sid 09:00\n    text: A\n    overrides:\n"
        "      x-mian: {text: Short}\n",
        ["11:7 error: 'x-mian' is neither a channel of this campaign nor a platform"],
        "did you mean 'x-main'?",
    ),
    "hashtag unquoted in a list": (
        header("posts:", "defaults:\n  hashtags: [#SayNo]\nposts:")
        + "  - {id: a, at: sid 09:00, text: A}\n",
        [
            "7:14 error: YAML syntax: '#' starts a comment in YAML, so the rest of this line is "
            "ignored"
        ],
        'put hashtags in quotes, such as ["#SayNo"',
    ),
    "hashtag unquoted on its own line": (
        header("posts:", "defaults:\n  hashtags:\n    - #SayNo\nposts:")
        + "  - {id: a, at: sid 09:00, text: A}\n",
        ["8:6 error: item 1 of 'hashtags' is empty"],
        "a '#' starts a comment in YAML",
    ),
    "text that starts with a hashtag": (
        HEADER + "  - id: a\n    at: sid 09:00\n    text: #SayNo is important\n",
        ["9:5 error: 'text' of post 'a' is empty"],
        "a '#' starts a comment in YAML",
    ),
    "empty text": (
        HEADER + "  - {id: a, at: sid 09:00, text: ''}\n",
        ["7:34 error: this text is empty"],
        "write the words",
    ),
    "texts per language written as a list": (
        LANGUAGES + "  - id: a\n    at: sid 09:00\n    text:\n      - en: A\n      - fr: B\n",
        ["11:7 error: this should be one text, or one text per language, not a list"],
        "without '- '",
    ),
    "two posts with one id": (
        HEADER + "  - {id: a, at: sid 09:00, text: A}\n  - {id: a, at: sid 12:00, text: B}\n",
        ["8:10 error: post id 'a' is used twice (first at line 7)"],
        "give each post an id of its own",
    ),
    "new post without its dash": (
        HEADER + "  - id: a\n    at: sid 09:00\n    text: A\n    id: b\n",
        ["10:5 error: 'id' appears twice in the same mapping (first at line 7)"],
        "begin it with '- '",
    ),
    "text too long for X": (
        HEADER + f"  - {{id: a, at: sid 09:00, text: '{WORDS}'}}\n",
        ["7:34 error: text for x-main is 299 weighted characters; X allows 280: 19 too many"],
        "a shorter text under 'overrides'",
    ),
    "post in the past": (
        HEADER + "  - {id: a, at: 2026-02-09 09:00, text: A}\n",
        [
            "7:17 warning: post 'a' is in the past (2026-02-09 09:00 Europe/Brussels and 1 more "
            "delivery): their not_after deadline has passed too, so they will not go out (the "
            "daemon records them as expired)"
        ],
        "move it to a later time",
    ),
    "posts too close": (
        HEADER + "  - {id: a, at: sid 09:00, text: A}\n  - {id: b, at: sid 09:10, text: B}\n",
        [
            "8:17 warning: post 'b' (09:10 CET) goes out only 10m after 'a' (09:00 CET) on "
            "mastodon-main, x-main; keep "
            "at least 30m between posts"
        ],
        "lower min_gap",
    ),
    "posts at the same time": (
        HEADER + "  - {id: a, at: sid 09:00, text: A}\n  - {id: b, at: sid 09:00, text: B}\n",
        [
            "8:17 warning: post 'b' (09:00 CET) goes out at the same time as 'a' (09:00 CET) on "
            "mastodon-main, x-main; "
            "keep at least 30m between posts"
        ],
        "move one of them",
    ),
    "time in the spring-forward gap": (
        HEADER + "  - {id: a, at: 2027-03-28 02:30, text: A}\n",
        [
            "7:17 warning: 2027-03-28 02:30 in Europe/Brussels does not exist (clocks go "
            "forward by 1h): moved to 03:30 CEST"
        ],
        "moves forward by the gap",
    ),
    "anchor misspelt": (
        HEADER + "  - {id: a, at: sdi - 7d 09:00, text: A}\n",
        ["7:17 error: unknown anchor 'sdi'"],
        "did you mean 'sid'?",
    ),
    "keys misspelt": (
        header("title:", "tittle:") + "  - {id: a, at: sid 09:00, txt: A}\n",
        ["2:1 error: unknown key 'tittle'", "7:28 error: unknown key 'txt'"],
        "did you mean 'title'?",
    ),
    "a day that does not exist": (
        HEADER + "  - {id: a, at: 2027-02-30 09:00, text: A}\n",
        ["7:17 error: '2027-02-30' is not a date: February 2027 has 28 days"],
        "year-month-day",
    ),
    "day first": (
        HEADER + "  - {id: a, at: 09/02/2027 09:00, text: A}\n",
        ["7:17 error: '09/02/2027 09:00' is not a time"],
        "write dates as year-month-day",
    ),
    "am and pm": (
        HEADER + "  - {id: a, at: sid 9am, text: A}\n",
        ["7:17 error: 'sid 9am' is not a time"],
        "24-hour clock",
    ),
    "offset in words": (
        HEADER + "  - {id: a, at: sid - 7 days 09:00, text: A}\n",
        ["7:17 error: 'sid - 7 days 09:00' is not a time"],
        "7d (days)",
    ),
    "duration in words": (
        HEADER + "  - {id: a, at: sid 09:00, text: A, not_after: 2 hours}\n",
        ["7:48 error: '2 hours' is not a duration"],
        "a number and a unit",
    ),
    "duration without a unit": (
        HEADER + "  - {id: a, at: sid 09:00, text: A, not_after: 2}\n",
        ["7:48 error: a duration needs a unit: 2 of what?"],
        "such as 30m, 2h or 1d",
    ),
    "deadline at the top of the file": (
        header("posts:", "not_after: 2h\nposts:") + "  - {id: a, at: sid 09:00, text: A}\n",
        ["6:1 error: unknown key 'not_after'"],
        "belongs under 'defaults:' or in each item of 'posts:'",
    ),
    "cron on the post itself": (
        HEADER + "  - {id: a, at: sid 09:00, text: A, cron: '0 9 * * *'}\n",
        ["7:37 error: unknown key 'cron'"],
        "belongs under 'every:'",
    ),
    "channels written as a sentence": (
        header("[x-main, mastodon-main]", "x-main, mastodon-main")
        + "  - {id: a, at: sid 09:00, text: A}\n",
        ["5:11 error: 'channels' should be a list, not text"],
        "[x-main, mastodon-main]",
    ),
    "channel name in capitals": (
        header("[x-main,", "[X-main,") + "  - {id: a, at: sid 09:00, text: A}\n",
        ["5:12 error: unknown channel 'X-main'"],
        "case-sensitive",
    ),
    "status misspelt": (
        HEADER + "  - {id: a, at: sid 09:00, text: A, status: aproved}\n",
        ["7:45 error: 'status' should be 'approved' or 'draft'"],
        "did you mean 'approved'?",
    ),
    "link without https": (
        HEADER + "  - {id: a, at: sid 09:00, text: A, link: www.example.org}\n",
        ["7:43 error: 'www.example.org' is not a web address"],
        "https://www.example.org",
    ),
    "link placeholder in capitals": (
        HEADER + "  - {id: a, at: sid 09:00, text: 'Read {Link}', link: 'https://e.org'}\n",
        [
            "7:34 warning: '{Link}' in the text of post 'a' is not the link placeholder; it goes "
            "out as written"
        ],
        "write {link}",
    ),
    "posts written as one mapping": (
        HEADER + "  id: a\n  at: sid 09:00\n  text: A\n",
        ["7:3 error: 'posts' should be a list, not a mapping (key: value lines)"],
        "start each post with '- id: ...'",
    ),
    "quotation mark never closed": (
        HEADER + '  - id: a\n    at: sid 09:00\n    text: "Hello\n',
        ["9:11 error: YAML syntax: the quotation mark opened here is never closed"],
        "add the closing quotation mark",
    ),
    "apostrophe inside single quotes": (
        HEADER + "  - id: a\n    at: sid 09:00\n    text: 'it's here'\n",
        ["9:15 error: YAML syntax: the text goes on after its closing quotation mark"],
        "double quotes around a text with an apostrophe",
    ),
    "text that starts with a mention": (
        HEADER + "  - id: a\n    at: sid 09:00\n    text: @partner thanks\n",
        ["9:11 error: YAML syntax: a value cannot start with '@' unless it is in quotes"],
        'text: "@partner thanks"',
    ),
    "text that starts with an exclamation mark": (
        HEADER + "  - id: a\n    at: sid 09:00\n    text: !important news\n",
        ["9:11 error: a value cannot start with '!' unless it is in quotes ('!' marks a YAML tag)"],
        "double quotes",
    ),
    "empty file": ("", ["1:1 error: this campaign file is empty"], "start with 'campaign:"),
    "a file that is a list of posts": (
        "- id: a\n  at: sid 09:00\n  text: A\n",
        [
            "1:1 error: a campaign file holds 'key: value' lines, starting with 'campaign:', "
            "not a list"
        ],
        "under 'posts:'",
    ),
}


def check(path: Path) -> list[tuple[str, str | None]]:
    plan = load_plan([path], OPTIONS)
    assert all(str(path) == p.where.file for p in plan.problems)
    return [
        (f"{p.where.line}:{p.where.col} {p.severity}: {p.message}", p.hint) for p in plan.problems
    ]


@pytest.mark.parametrize("name", list(MISTAKES))
def test_a_mistake_is_located_and_explained(name: str, tmp_path: Path) -> None:
    text, expected, hint = MISTAKES[name]
    shutil.copytree(EXAMPLES / "media", tmp_path / "media")
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    found = check(path)
    assert len(found) == len(expected), found
    for (message, _), wanted in zip(found, expected, strict=True):
        assert message.startswith(wanted), (message, wanted)
    assert found[0][1] and hint in found[0][1], found[0][1]


GOOD = HEADER + '  - id: a\n    at: sid 09:00\n    text: "Café, naïve: ✓"\n'


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param(GOOD.replace("\n", "\r\n").encode(), id="Windows line ends"),
        pytest.param(b"\xef\xbb\xbf" + GOOD.encode(), id="UTF-8 with a byte order mark"),
        pytest.param(GOOD.encode("utf-16"), id="UTF-16 (Notepad's 'Unicode')"),
    ],
)
def test_files_saved_by_other_editors_read_the_same(encoded: bytes, tmp_path: Path) -> None:
    (tmp_path / "plain.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "other.yaml").write_bytes(encoded.replace(b"spring", b"other"))
    plain = load_plan([tmp_path / "plain.yaml"], OPTIONS)
    other = load_plan([tmp_path / "other.yaml"], OPTIONS)
    assert not plain.problems and not other.problems
    assert [d.text for d in other.deliveries] == [d.text for d in plain.deliveries]


def test_a_file_saved_in_latin_1_says_where_and_what(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(GOOD.encode("latin-1", errors="replace"))
    assert check(path) == [
        (
            "9:15 error: this file is not UTF-8 text: byte 0xE9 ('é' in the Windows/Latin-1 "
            "encoding) is not valid here",
            "save the file as UTF-8 (in most editors: Save As, then choose the encoding UTF-8)",
        )
    ]


def test_a_folder_reads_files_whose_suffix_is_in_capitals(tmp_path: Path) -> None:
    (tmp_path / "Campaign.YAML").write_text(HEADER + "  - {id: a, at: sid 09:00, text: A}\n")
    plan = load_plan([tmp_path], OPTIONS)
    assert not plan.problems and len(plan.deliveries) == 2


def test_a_huge_file_is_read_whole(tmp_path: Path) -> None:
    posts = "".join(
        f"  - {{id: p{i}, at: sid + {i % 300}d 09:00, text: P{i}}}\n" for i in range(3000)
    )
    path = tmp_path / "c.yaml"
    path.write_text(HEADER + posts)
    plan = load_plan([path], OPTIONS)
    assert not plan.has_errors() and len(plan.deliveries) == 6000
    gaps = [p for p in plan.problems if "between posts" in p.message]
    assert len(gaps) == 2700, "one warning per post, naming the closest, not one per pair"
    assert "(and 8 other posts)" in gaps[-1].message  # the nine posts earlier that day


def test_a_wrong_zone_hides_none_of_the_posts_mistakes(tmp_path: Path) -> None:
    text = header("Europe/Brussels", "Europe/Brusels") + (
        "  - {id: a, at: lanch 10:00, text: A}\n  - {id: b, at: sid 10:00, txt: B}\n"
    )
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert [message for message, _ in check(path)] == [
        "3:11 error: unknown time zone 'Europe/Brusels'",
        "7:17 error: unknown anchor 'lanch'",
        "8:28 error: unknown key 'txt'",
    ]
