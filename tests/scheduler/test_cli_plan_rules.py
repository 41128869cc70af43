"""`clarion validate` and `preview` as processes: what a channel adds counts, media the
connectors cannot post is an error, links follow the post's variables, rates move posts, and
the smaller stumbles of a campaign manager's trial stay fixed."""

from __future__ import annotations

import json
import struct
import textwrap
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns import LoadOptions, load_plan
from tests.campaigns.plan_helpers import CHANNELS, NOW
from tests.scheduler.test_cli_plan import clarion
from tests.videos import clip

CONFIG = """\
channels:
  x-main:
    platform: x
    credentials: {oauth2_access_token: "${X_TOKEN}"}
  x-premium:
    platform: x
    max_length: 4000
    credentials: {oauth2_access_token: "${X_TOKEN}"}
  mastodon-main:
    platform: mastodon
    base_url: https://mastodon.example
    credentials: {access_token: "${MASTODON_TOKEN}"}
    options: {content_warning: "Sexual coercion: support resources"}
  bluesky-main:
    platform: bluesky
    credentials: {identifier: "${BSKY_ID}", app_password: "${BSKY_PASSWORD}"}
  facebook-main:
    platform: facebook
    credentials: {page_access_token: "${FB_TOKEN}"}
    options: {page_id: "123"}
  telegram-news:
    platform: telegram
    credentials: {bot_token: "${TG_TOKEN}"}
    options: {chat_id: "@news"}
  x-rated:
    platform: x
    credentials: {oauth2_access_token: "${X_TOKEN}"}
    rate: {posts: 2, per: 1h, min_interval: 10m}
"""

HEADER = """\
campaign: trial
title: Trial
timezone: Europe/Brussels
anchors: {sid: 2027-02-09}
"""


def png(width: int, height: int) -> bytes:
    """A real PNG header of the given size (the pixels are not needed to read it)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "card.png").write_bytes(png(1200, 675))
    (tmp_path / "media" / "tall.png").write_bytes(png(400, 9800))
    clip(tmp_path / "media" / "clip.mp4", seconds=1, rate=5)
    (tmp_path / "media" / "loop.gif").write_bytes(b"GIF89a" + struct.pack("<HH", 480, 270))
    return tmp_path


def check(folder: Path, body: str, *args: str, command: str = "validate") -> Any:
    """Run `clarion COMMAND` on a plan of HEADER + `body` with config.yaml; return the
    process, its problems as 'line:col severity: message' and their hints."""
    plan = folder / "plan.yaml"
    plan.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    result = clarion(command, "--config", "config.yaml", "plan.yaml", *args, cwd=folder)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1), result.stderr
    return result


def problems(result: Any) -> list[str]:
    """Each problem of a validate run as 'line:col severity: message'."""
    stream = result.stdout if "plan.yaml:" in result.stdout else result.stderr
    return [
        line.split(":", 1)[1].replace(": error:", " error:").replace(": warning:", " warning:")
        for line in stream.splitlines()
        if line.startswith("plan.yaml:") and (": error:" in line or ": warning:" in line)
    ]


def hints(result: Any) -> list[str]:
    stream = result.stdout + result.stderr
    return [line.strip().removeprefix("hint: ") for line in stream.splitlines() if "hint:" in line]


# --- what the daemon adds, validate counts ------------------------------------------------


def test_the_content_warning_counts_and_shows(folder: Path) -> None:
    text = "a" * 480
    body = f"""\
    channels: [mastodon-main]
    defaults: {{link: none}}
    posts:
      - {{id: long, at: sid 09:00, text: "{text}"}}
    """
    result = check(folder, body)
    assert result.returncode == 1
    assert problems(result) == [
        "8:37 error: text for mastodon-main is 514 characters; Mastodon allows 500: 14 too many"
    ]
    assert "the content warning of mastodon-main" in hints(result)[0]
    fits = check(folder, body.replace(text, "a" * 460), "--format", "json", command="preview")
    (item,) = json.loads(fits.stdout)
    assert item["content_warning"] == "Sexual coercion: support resources"
    assert item["length"] == 494
    table = check(folder, body.replace(text, "a" * 460), command="preview")
    words = " ".join(table.stdout.split())
    assert "content warning: Sexual coercion: support resources" in words


def test_a_channels_max_length_is_its_limit(folder: Path) -> None:
    body = f"""\
    channels: [x-main, x-premium]
    posts:
      - {{id: long, at: sid 09:00, text: "{"word " * 100}"}}
    """
    result = check(folder, body)
    assert [p.split(" is ")[0] for p in problems(result)] == ["7:37 error: text for x-main"]


@pytest.mark.parametrize(
    ("channel", "file", "message"),
    [
        ("bluesky-main", "loop.gif", "Clarion cannot post a GIF ('media/loop.gif') to Bluesky"),
        ("telegram-news", "loop.gif", "Clarion cannot post a GIF ('media/loop.gif') to Telegram"),
        (
            "telegram-news",
            "tall.png",
            "'media/tall.png' is 400x9800 (24 times longer than wide; Telegram accepts 20)",
        ),
        ("x-main", "clip.mp4", None),
        ("bluesky-main", "clip.mp4", None),
        ("facebook-main", "clip.mp4", None),
        ("mastodon-main", "loop.gif", None),
        ("telegram-news", "clip.mp4", None),
    ],
)
def test_media_a_connector_cannot_post_is_an_error(
    folder: Path, channel: str, file: str, message: str | None
) -> None:
    body = f"""\
    channels: [{channel}]
    posts:
      - id: clip
        at: sid 09:00
        text: Watch
        media: [{{file: media/{file}, alt: A short clip}}]
    """
    result = check(folder, body)
    if message is None:
        assert result.returncode == 0, result.stdout
        return
    assert result.returncode == 1
    (found,) = problems(result)
    assert found.startswith(f"10:20 error: {message}"), found


def test_a_video_goes_alone_on_x(folder: Path) -> None:
    body = """\
    channels: [x-main]
    posts:
      - id: clip
        at: sid 09:00
        text: Watch
        media: [{file: media/clip.mp4, alt: Clip}, {file: media/card.png, alt: Card}]
    """
    (found,) = problems(check(folder, body))
    assert found.startswith("10:12 error: 'media/clip.mp4' is an MP4 video: X takes a video or GIF")


def test_link_templates_use_the_posts_variables(folder: Path) -> None:
    body = """\
    channels: [x-main, mastodon-main]
    languages: [en, fr]
    audiences:
      - {name: be-fr, language: fr, timezone: Europe/Brussels}
      - {name: uk-en, language: en, timezone: Europe/London}
    defaults:
      link:
        url: "https://example.org/{language}/{post}?from={audience}"
        utm: {source: "{platform}"}
    posts:
      - {id: hello, at: sid 09:00, text: {en: Hello, fr: Bonjour}}
    """
    result = check(folder, body, "--format", "json", command="preview")
    assert result.returncode == 0, result.stderr
    links = {(i["audience"], i["channel"]): i["link"] for i in json.loads(result.stdout)}
    assert links[("be-fr", "x-main")] == "https://example.org/fr/hello?from=be-fr&utm_source=x"
    assert links[("uk-en", "mastodon-main")] == (
        "https://example.org/en/hello?from=uk-en&utm_source=mastodon"
    )
    wrong = check(folder, body.replace("{language}/", "{lang}/"))
    assert problems(wrong) == ["12:10 error: unknown placeholder '{lang}'"]
    assert hints(wrong)[0].startswith("did you mean '{language}'?")


def test_links_media_and_alt_per_language(folder: Path) -> None:
    (folder / "media" / "card-fr.png").write_bytes(png(1200, 675))
    body = """\
    channels: [x-main]
    languages: [en, fr]
    posts:
      - id: hello
        at: sid 09:00
        text: {en: Hello, fr: Bonjour}
        link: {en: "https://example.org/en", fr: "https://example.org/fr"}
        media:
          en: [{file: media/card.png, alt: A card}]
          fr: [{file: media/card-fr.png, alt: Une carte}]
    """
    result = check(folder, body, "--format", "json", command="preview")
    assert result.returncode == 0, result.stderr
    items = {i["language"]: i for i in json.loads(result.stdout)}
    assert items["fr"]["link"] == "https://example.org/fr"
    image = {"duration": None, "size": None}
    assert items["fr"]["media"] == [{"file": "media/card-fr.png", "alt": "Une carte", **image}]
    assert items["en"]["media"] == [{"file": "media/card.png", "alt": "A card", **image}]
    missing = check(folder, body.replace(', fr: "https://example.org/fr"', ""))
    assert problems(missing) == ["11:11 error: the link of post 'hello' has no version in fr"]


def test_text_per_audience(folder: Path) -> None:
    body = """\
    channels: [x-main]
    languages: [fr]
    audiences:
      - {name: be-fr, language: fr, timezone: Europe/Brussels}
      - {name: fr-fr, language: fr, timezone: Europe/Paris}
    defaults: {link: none}
    posts:
      - id: helpline
        at: sid 09:00
        text: "Appelez le 116 111"
        overrides:
          fr-fr: {text: "Appelez le 3018"}
    """
    result = check(folder, body, "--format", "json", command="preview")
    assert result.returncode == 0, result.stderr
    texts = {i["audience"]: i["text"] for i in json.loads(result.stdout)}
    assert texts == {"be-fr": "Appelez le 116 111", "fr-fr": "Appelez le 3018"}
    typo = check(folder, body.replace("fr-fr: {text", "fr-frr: {text"))
    assert problems(typo) == [
        "16:7 error: 'fr-frr' is neither a channel of this campaign nor a platform nor an audience"
    ]
    assert hints(typo) == ["did you mean 'fr-fr'?"]


# --- rates ---------------------------------------------------------------------------------


def test_a_rate_moves_posts_and_warns_before_they_expire(folder: Path) -> None:
    body = """\
    channels: [x-rated]
    min_gap: 0s
    defaults: {not_after: 30m, link: none}
    posts:
      - {id: a, at: sid 09:00, text: A}
      - {id: b, at: sid 09:00, text: B}
      - {id: c, at: sid 09:00, text: C}
    """
    result = check(folder, body)
    assert result.returncode == 0
    assert problems(result) == [
        "11:5 warning: post 'c' would expire unsent on x-rated: x-rated allows 2 posts per 1h, "
        "at least 10m apart, which would make it 1h late, past its not_after (at 2027-02-09 "
        "09:00 CET)"
    ]
    preview = check(folder, body, "--format", "json", command="preview")
    items = {i["post"]: i for i in json.loads(preview.stdout)}
    assert items["a"]["projected_utc"] is None
    assert items["b"]["projected_utc"] == "2027-02-09T08:10:00Z"
    assert items["c"]["projected_expires"] is True
    table = check(folder, body, command="preview")
    assert "goes out at 2027-02-09 09:10 CET (+10m): x-rated allows 2 posts" in " ".join(
        table.stdout.split()
    )


# --- smaller stumbles ----------------------------------------------------------------------


def test_an_unknown_key_hides_no_other_problem(folder: Path) -> None:
    body = """\
    channels: [x-main]
    colour: blue
    posts:
      - {id: a, at: sid 09:00, text: A}
      - {id: b, at: sid 09:10, text: B}
      - id: c
        at: tomorow 9
        text:
    """
    found = problems(check(folder, body))
    assert found == [
        "6:1 error: unknown key 'colour'",
        "9:17 warning: post 'b' (09:10 CET) goes out only 10m after 'a' (09:00 CET) on x-main; "
        "keep at least 30m between posts",
        "11:9 error: 'tomorow 9' is not a time",
        "12:5 error: 'text' of post 'c' is empty",
    ]


def test_min_gap_names_audiences_and_local_times(folder: Path) -> None:
    body = """\
    channels: [x-main]
    languages: [en, fr]
    audiences:
      - {name: be-fr, language: fr, timezone: Europe/Brussels}
      - {name: uk-en, language: en, timezone: Europe/London}
    posts:
      - {id: a, at: sid 09:00, text: {en: A, fr: A fr}, audiences: [be-fr]}
      - {id: b, at: sid 08:15, text: {en: B, fr: B fr}, audiences: [uk-en]}
    """
    found = problems(check(folder, body))
    assert found == [
        "12:17 warning: post 'b' (uk-en at 08:15 GMT) goes out only 15m after 'a' (be-fr at "
        "09:00 CET) on x-main; keep at least 30m between posts"
    ]


def test_the_duplicate_hint_names_the_fix_that_applies(folder: Path) -> None:
    body = """\
    channels: [x-main]
    languages: [en, fr]
    audiences:
      - {name: be-fr, language: fr, timezone: Europe/Brussels}
      - {name: lu-fr, language: fr, timezone: Europe/Luxembourg}
    posts:
      - {id: a, at: sid 09:00, text: {en: A, fr: A fr}, languages: [fr]}
    """
    result = check(folder, body)
    assert "sends the same words more than once" in problems(result)[0]
    assert "'audiences:'" in hints(result)[0] and "'languages:'" not in hints(result)[0]


def test_preview_filters_by_audience_and_suggests(folder: Path) -> None:
    body = """\
    channels: [x-main]
    languages: [en, fr]
    audiences:
      - {name: be-fr, language: fr, timezone: Europe/Brussels}
      - {name: uk-en, language: en, timezone: Europe/London}
    posts:
      - {id: a, at: sid 09:00, text: {en: A, fr: A fr}}
    """
    result = check(folder, body, "--audience", "uk-en", "--format", "json", command="preview")
    assert [i["audience"] for i in json.loads(result.stdout)] == ["uk-en"]
    table = check(folder, body, command="preview")
    assert "be-fr" in table.stdout and "uk-en" in table.stdout
    for option, value, guess in (
        ("--audience", "uk_en", "uk-en"),
        ("--channel", "X-main", "x-main"),
        ("--language", "french", "fr"),
    ):
        wrong = clarion(
            "preview", "--config", "config.yaml", "plan.yaml", option, value, cwd=folder
        )
        assert wrong.returncode == 2
        assert f"did you mean '{guess}'?" in wrong.stderr, wrong.stderr


def test_the_link_error_names_the_override_that_removed_it(folder: Path) -> None:
    body = """\
    channels: [x-main, mastodon-main]
    defaults: {link: "https://example.org"}
    posts:
      - id: a
        at: sid 09:00
        text: "Read {link}"
        overrides:
          x-main: {link: none}
    """
    (found,) = problems(check(folder, body))
    assert found == (
        "10:11 error: the text says {link} but post 'a' has no link on x-main: 'link: none' at "
        "line 12 (overrides of x-main) removes it"
    )


def test_the_thread_warning_names_the_languages_still_affected(folder: Path) -> None:
    (folder / "config.yaml").write_text(
        CONFIG
        + "  linkedin-main:\n    platform: linkedin\n"
        + '    credentials: {access_token: "${LI}"}\n    options: {author: "urn:li:person:1"}\n'
    )
    body = """\
    channels: [linkedin-main]
    languages: [en, fr, de]
    posts:
      - id: tips
        at: sid 09:00
        thread:
          - {en: "1/ en", fr: "1/ fr", de: "1/ de"}
          - {en: "2/ en", fr: "2/ fr", de: "2/ de"}
        overrides:
          linkedin: {text: {en: "One post"}}
    """
    found = problems(check(folder, body))
    assert found == [
        "11:7 warning: LinkedIn has no threads: part 2 goes out as a comment on the first post "
        "on linkedin-main in fr, de"
    ]


def test_hashtags_none_on_a_channel(folder: Path) -> None:
    body = """\
    channels: [x-main, mastodon-main]
    defaults: {hashtags: ["#SayNo"], link: none}
    posts:
      - id: a
        at: sid 09:00
        text: Hello
        overrides: {mastodon-main: {hashtags: []}}
    """
    result = check(folder, body, "--format", "json", command="preview")
    texts = {i["channel"]: i["text"] for i in json.loads(result.stdout)}
    assert texts == {"x-main": "Hello\n\n#SayNo", "mastodon-main": "Hello"}


# --- broken input ----------------------------------------------------------------------------


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    url=st.text(st.characters(exclude_categories=["Cs"]), max_size=40).map(
        lambda tail: "https://example.org/" + tail
    ),
    shape=st.sampled_from(["plain", "spec", "languages"]),
)
def test_any_link_is_located_or_accepted(tmp_path: Path, url: str, shape: str) -> None:
    value: object = {"plain": url, "spec": {"url": url}, "languages": {"en": url}}[shape]
    plan = {
        "campaign": "c",
        "title": "T",
        "timezone": "UTC",
        "channels": ["x-main"],
        "languages": ["en"],
        "posts": [{"id": "a", "at": "2027-02-09 09:00", "text": "A", "link": value}],
    }
    path = tmp_path / "fuzz.yaml"
    path.write_text(json.dumps(plan), encoding="utf-8")
    loaded = load_plan([path], LoadOptions(CHANNELS, strict_channels=True, now=NOW))
    for problem in loaded.problems:
        assert problem.where.line >= 1 and problem.message
    if not loaded.has_errors():
        assert all(d.link and d.link.startswith("https://example.org/") for d in loaded.deliveries)


@pytest.mark.parametrize(
    "link",
    [
        "https://example.org/{language}",
        {"url": "https://example.org"},
        {"url": "https://example.org", "utm": {"source": "{platform}"}},
        {"en": "https://example.org/en", "fr": "none"},
        {"en": {"url": "https://example.org/en"}},
    ],
)
def test_the_schema_takes_every_shape_of_link(tmp_path: Path, link: object) -> None:
    import jsonschema

    schema = json.loads(clarion("schema", cwd=tmp_path).stdout)
    plan = {
        "campaign": "c",
        "title": "T",
        "timezone": "UTC",
        "channels": ["x-main"],
        "languages": ["en", "fr"],
        "defaults": {"link": link, "media": {"en": [{"file": "a.png", "alt": "A"}], "fr": []}},
        "posts": [{"id": "a", "at": "2027-02-09 09:00", "text": {"en": "A", "fr": "B"}}],
    }
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(plan)) == []


def test_an_override_per_language_keeps_the_posts_own_elsewhere(folder: Path) -> None:
    body = """\
    channels: [x-main]
    languages: [en, fr]
    posts:
      - id: hello
        at: sid 09:00
        text: {en: Hello, fr: Bonjour}
        link: https://example.org
        overrides:
          x-main: {link: {fr: "https://example.org/fr"}}
    """
    result = check(folder, body, "--format", "json", command="preview")
    links = {i["language"]: i["link"] for i in json.loads(result.stdout)}
    assert links == {"en": "https://example.org", "fr": "https://example.org/fr"}


def test_an_unknown_key_deeper_down_hides_no_other_problem(folder: Path) -> None:
    body = """\
    channels: [x-main]
    defaults: {hashtag: ["#SayNo"]}
    posts:
      - {id: a, at: sid 09:00, text: A}
      - {id: b, at: sid 09:10, text: B}
    """
    found = problems(check(folder, body))
    assert [p.split(" (")[0] for p in found] == [
        "6:12 error: unknown key 'hashtag'",
        "9:17 warning: post 'b'",
    ]


def test_the_calendar_says_when_the_rate_moves_a_post(folder: Path) -> None:
    from icalendar import Calendar

    body = """\
    channels: [x-rated]
    min_gap: 0s
    defaults: {link: none}
    posts:
      - {id: a, at: sid 09:00, text: A}
      - {id: b, at: sid 09:00, text: B}
    """
    result = check(folder, body, "--format", "ics", command="preview")
    events = {
        str(e["SUMMARY"]): str(e["DESCRIPTION"]) for e in Calendar.from_ical(result.stdout).events
    }
    (moved,) = [text for summary, text in events.items() if summary.endswith("b: B")]
    assert "Note: Goes out at 2027-02-09 09:10 CET (+10m): x-rated allows 2 posts" in moved


def test_a_platform_that_takes_no_text_alone_needs_media_in_every_part(folder: Path) -> None:
    (folder / "config.yaml").write_text(
        CONFIG
        + "  tiktok-main:\n    platform: tiktok\n    options: {mode: inbox}\n"
        + '    credentials: {client_key: "${K}", client_secret: "${S}", refresh_token: "${R}"}\n'
    )
    body = """\
    channels: [tiktok-main]
    defaults: {link: none}
    posts:
      - id: words
        at: sid 09:00
        text: Words alone
      - id: tips
        at: sid 10:00
        thread: ["1/ Talk", "2/ Listen"]
        media: [{file: media/clip.mp4}]
      - id: clip
        at: sid 11:00
        text: "#SayNo"
        media: [{file: media/clip.mp4}]
    """
    found = [p for p in problems(check(folder, body)) if "video or photos" in p or "threads" in p]
    assert found == [
        "8:5 error: TikTok posts need a video or photos, and this post has none (tiktok-main)",
        "11:5 error: TikTok posts need a video or photos, and a thread's later parts have none "
        "(tiktok-main)",
    ]
