"""Every check reports a located problem (file:line:col) in a campaign manager's words."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from campaigns import load_plan

from .plan_helpers import HEADER, OPTIONS, at, campaign, keys, load, located, only

LANGS = HEADER + "languages: [en, fr]\n"  # posts: on line 7, the first post's keys on line 8


def spot(text: str, marker: str) -> str:
    """'line:col' where `marker` first appears in `text`."""
    before = textwrap.dedent(text)[: textwrap.dedent(text).index(marker)]
    return f"{before.count(chr(10)) + 1}:{len(before) - before.rfind(chr(10))}"


def problem(tmp_path: Path, text: str, words: str, **changes: Any) -> str:
    """'line:col severity | hint' of the one problem whose message has `words`."""
    plan = load(tmp_path, text, **changes)
    found = only(plan, words)
    assert found.where.file == str(tmp_path / "c.yaml")
    return f"{found.where.line}:{found.where.col} {found.severity} | {found.hint}"


def post(line: str) -> str:
    return campaign(f"- {{{line}}}\n")


@pytest.mark.parametrize(
    ("text", "words", "marker", "hint"),
    [
        ("campaign: [x\n", "YAML syntax: the '[' opened here is not closed", "[x", "']'"),
        (HEADER.replace("title", "tittle"), "unknown key 'tittle'", "tittle", "'title'"),
        (post("id: a, at: sid 09:00, txt: Hi"), "unknown key 'txt'", "txt", "'text'"),
        (
            HEADER.replace("[x-main, mastodon-main]", "x-main"),
            "'channels' should be a list",
            "x-main",
            "[x-main, mastodon-main]",
        ),
        (HEADER.replace("02-09", "02-30"), "is not a date", "2027", "2027-02-09"),
        (post("id: a, at: sid 25:00, text: Hi"), "not a time of day", "sid 25", "23:59"),
        (
            HEADER.replace("Europe/Brussels", "Europe/Brusels"),
            "unknown time zone",
            "Europe/Brusels",
            "did you mean 'Europe/Brussels'",
        ),
        (post("id: a, at: sd 09:00, text: Hi"), "unknown anchor 'sd'", "sd 09", "'sid'"),
        (post("id: A b, at: sid 09:00, text: Hi"), "not a valid id", "A b", "lowercase"),
        (
            post(
                "id: a, at: sid 09:00, text: Hi, every: {cron: '0 9 * * *', from: sid, until: sid}"
            ),
            "needs either 'at' (one time) or 'every' (recurring), not both",
            "{cron",
            None,
        ),
        (post("id: a, text: Hi"), "and has neither", "a, text", None),
        (post("id: a, at: sid 09:00, text: Hi, thread: [a, b]"), "not both", "[a, b]", None),
        (post("id: a, at: sid, text: Hi"), "but no time of day", "sid,", "'sid 09:00'"),
        (
            post("id: a, every: {cron: '0 9 * * *', from: sid + 1d, until: sid}, text: Hi"),
            "comes before 'from'",
            "sid}",
            "swap",
        ),
        (
            post("id: a, every: {cron: '0 9 * *', from: sid, until: sid}, text: Hi"),
            "not a cron expression",
            "'0 9",
            "five fields",
        ),
        (
            post("id: a, every: {from: sid, until: sid}, text: Hi"),
            "either 'cron' or 'interval'",
            "{from",
            "such as",
        ),
        (
            post("id: a, every: {cron: '0 9 * * *', until: sid}, text: Hi"),
            "'every' needs 'from'",
            "{cron",
            "between 'from' and 'until'",
        ),
        (
            post("id: a, every: {cron: '* * * * *', from: sid, until: sid + 7d}, text: Hi"),
            "more than 1000 times",
            "{cron",
            "narrow",
        ),
        (
            post("id: a, every: {interval: 0s, from: sid, until: sid}, text: Hi"),
            "longer than zero",
            "0s",
            "30m",
        ),
        (
            post("id: a, at: sid 09:00, text: Hi, not_after: 2 hours"),
            "is not a duration",
            "2 hours",
            "1h30m",
        ),
        (
            post("id: a, at: sid 09:00, text: Hi, link: example.org"),
            "is not a web address",
            "example.org",
            "https://",
        ),
        (
            post(
                "id: a, at: sid 09:00, text: Hi, link: {url: 'https://e.org', utm: {source: '{x}'}}"
            ),
            "unknown placeholder '{x}'",
            "'{x}'",
            "{platform}",
        ),
        (post("id: a, at: sid 09:00, text: 'Read {link}'"), "has no link", "'Read", "link:"),
        (
            post("id: a, at: sid 09:00, text: Hi, hashtags: [SayNo!]"),
            "is not a hashtag",
            "SayNo!",
            "'#SayNo'",
        ),
        (
            post("id: a, at: sid 09:00, text: Hi, status: drafted"),
            "'status' should be 'approved' or 'draft'",
            "drafted",
            "did you mean 'draft'?",
        ),
        (
            post("id: a, at: sid 09:00, text: Hi, link: 42"),
            "'link' should be 'none' or text or a mapping (key: value lines), not a whole number",
            "42",
            "quotes",
        ),
        (
            post("id: a, at: sid 09:00, text: Hi, link: {url: 'https://e.org', utm: {sorce: x}}"),
            "unknown key 'sorce'",
            "sorce",
            "did you mean 'source'?",
        ),
    ],
)
def test_model_and_reference_errors(
    tmp_path: Path, text: str, words: str, marker: str | None, hint: str | None
) -> None:
    found = problem(tmp_path, text, words)
    where = spot(text, marker) if marker else "2:1"
    assert found.startswith(f"{where} error |")
    if hint:
        assert hint in found


def test_unknown_channels(tmp_path: Path) -> None:
    text = campaign(
        "- {id: a, at: sid 09:00, text: Hi}\n", HEADER.replace("mastodon-main", "mastodon-mian")
    )
    assert problem(tmp_path, text, "unknown channel 'mastodon-mian'") == (
        f"{spot(text, 'mastodon-mian')} error | did you mean 'mastodon-main'?"
    )
    relaxed = load(tmp_path, text, strict_channels=False)
    warning = only(relaxed, "mastodon-mian")
    assert warning.severity == "warning" and "taken as a channel on Mastodon" in warning.message
    assert "test/a/-/mastodon-mian" in keys(relaxed)
    unknown = campaign(
        "- {id: a, at: sid 09:00, text: Hi}\n", HEADER.replace("mastodon-main", "myspace")
    )
    found = problem(tmp_path, unknown, "unknown channel 'myspace'", strict_channels=False)
    assert found.startswith(f"{spot(unknown, 'myspace')} error")


def test_subsets_must_be_among_the_campaigns(tmp_path: Path) -> None:
    posts = "- {id: a, at: sid 09:00, text: {en: A, fr: B}, channels: [x-mian], languages: [de]}\n"
    text = campaign(posts, LANGS)
    plan = load(tmp_path, text)
    assert located(plan) == [
        f"{spot(text, 'x-mian')} error: 'x-mian' is not among this campaign's channels",
        f"{spot(text, 'de]')} error: 'de' is not among this campaign's languages",
    ]
    assert plan.problems[0].hint == "did you mean 'x-main'?"


def test_overrides_name_a_channel_or_a_platform(tmp_path: Path) -> None:
    text = campaign("- {id: a, at: sid 09:00, text: Hi, overrides: {mastodn: {text: Hey}}}\n")
    assert problem(tmp_path, text, "neither a channel") == (
        f"{spot(text, 'mastodn')} error | did you mean 'mastodon'?"
    )


def test_missing_and_undeclared_languages(tmp_path: Path) -> None:
    posts = """\
    - id: a
      at: sid 09:00
      text: {en: Hello, de: Hallo}
      thread_x: 1
    """
    plan = load(tmp_path, campaign(posts, LANGS))
    assert "unknown key 'thread_x'" in located(plan)[-1]
    posts = """\
    - id: a
      at: sid 09:00
      text: {en: Hello, de: Hallo}
    - id: b
      at: sid 10:00
      thread: [{en: One, fr: Un}, {en: Two}]
    """
    plan = load(tmp_path, campaign(posts, LANGS))
    assert located(plan) == [
        "10:11 error: the text of post 'a' has no version in fr",
        "10:23 error: 'de' is not one of this campaign's languages",
        "13:33 error: part 2 of the thread of post 'b' has no version in fr",
    ]
    assert plan.problems[1].hint == "languages: en, fr"
    assert plan.deliveries == []


def test_mappings_need_declared_languages(tmp_path: Path) -> None:
    text = campaign("- {id: a, at: sid 09:00, text: {en: Hi}}\n")
    found = problem(tmp_path, text, "declares no languages")
    assert found.startswith(f"{spot(text, '{en')} error")


def test_audience_errors(tmp_path: Path) -> None:
    header = LANGS + (
        "audiences:\n  - {name: be, language: nl}\n  - {name: be, language: fr}\n  - {name: ie}\n"
    )
    text = campaign("- {id: a, at: sid 09:00, text: Hi, audiences: [ie, fr]}\n", header)
    plan = load(tmp_path, text)
    assert located(plan) == [
        f"{spot(text, 'nl')} error: 'nl' is not one of this campaign's languages",
        f"{spot(text, 'be, language: fr')} error: audience 'be' is declared twice",
        f"{spot(text, '{name: ie')} error: audience 'ie' needs a language",
        f"{spot(text, 'fr]}')} error: 'fr' is not among this campaign's audiences",
    ]


def test_duplicate_post_ids(tmp_path: Path) -> None:
    posts = "- {id: a, at: sid 09:00, text: A}\n- {id: a, at: sid 10:00, text: B}\n"
    assert problem(tmp_path, campaign(posts), "used twice") == (
        "8:10 error | give each post an id of its own: the id is part of every delivery key"
    )
    assert "first at line 7" in only(load(tmp_path, campaign(posts)), "used twice").message


def test_too_long_for_a_platform_says_by_how_much_and_in_which_unit(tmp_path: Path) -> None:
    long_fr = "é" * 250
    posts = f"- {{id: a, at: sid 09:00, text: {{en: Short, fr: '{long_fr} 🙂'}}}}\n"
    header = LANGS + 'defaults: {hashtags: ["#SayNo"], link: "https://example.org/a"}\n'
    text = campaign(posts, header)
    plan = load(tmp_path, text)
    problem_ = only(plan, "x-main (fr)")
    assert problem_.message == (
        "text for x-main (fr) is 285 weighted characters; X allows 280: 5 too many"
    )
    assert f"{problem_.where.line}:{problem_.where.col}" == spot(text, "'éé")
    assert problem_.hint is not None
    assert "#SayNo and the link added at the end" in problem_.hint
    assert "overrides" in problem_.hint
    assert [p.message for p in plan.problems if "mastodon" in p.message] == []
    assert plan.deliveries == []


def test_bluesky_bytes_and_invisible_characters(tmp_path: Path) -> None:
    header = HEADER.replace("[x-main, mastodon-main]", "[x-main, bluesky-main]")
    posts = '- {id: a, at: sid 09:00, text: "zero\\uFEFFwidth"}\n'
    found = only(load(tmp_path, campaign(posts, header)), "refuses")
    assert found.message == "text for x-main holds characters X refuses (U+FEFF)"


def test_required_hashtags_are_never_dropped(tmp_path: Path) -> None:
    header = HEADER + 'defaults: {hashtags: ["#SaferInternetDay2027"]}\n'
    text = "x" * 262
    plan = load(tmp_path, campaign(f"- {{id: a, at: sid 09:00, text: {text}}}\n", header))
    found = only(plan, "x-main")
    assert "is 285 weighted characters" in found.message
    assert found.hint and found.hint.startswith("this counts #SaferInternetDay2027 added")


MEDIA = """\
- id: a
  at: sid 09:00
  text: Hi
  media:
    - {file: card.png, alt: A card}
    - {file: nothing.png, alt: Gone}
    - {file: bare.png}
    - {file: notes.txt, alt: Text}
    - {file: big.png, alt: Big}
"""


def test_media_checks(tmp_path: Path) -> None:
    for name in ("card.png", "bare.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    with (tmp_path / "big.png").open("wb") as big:
        big.truncate(2_500_000)  # sparse: over Bluesky's 2 MB, under X's 5 MB
    header = HEADER.replace("[x-main, mastodon-main]", "[x-main, bluesky-main, telegram-news]")
    plan = load(tmp_path, campaign(MEDIA, header))
    assert located(plan) == [
        "11:7 error: 5 media items, but X allows 4 per post (x-main)",
        "11:7 error: 5 media items, but Bluesky allows 4 per post (bluesky-main)",
        f"12:16 error: media file 'nothing.png' not found (looked for {tmp_path / 'nothing.png'})",
        "13:9 error: 'bare.png' has no alt text",
        "14:16 error: 'notes.txt' is not a kind of file Clarion can post",
        "15:16 error: 'big.png' is 2.5 MB; Bluesky accepts images up to 2.0 MB (bluesky-main)",
    ]


def test_alt_text_is_needed_only_where_the_platform_supports_it(tmp_path: Path) -> None:
    (tmp_path / "card.png").write_bytes(b"x")
    header = HEADER.replace("[x-main, mastodon-main]", "[telegram-news]")
    posts = "- {id: a, at: sid 09:00, text: Hi, media: [{file: card.png}]}\n"
    assert load(tmp_path, campaign(posts, header)).problems == []


def test_alt_text_per_language(tmp_path: Path) -> None:
    (tmp_path / "card.png").write_bytes(b"x")
    posts = (
        "- {id: a, at: sid 09:00, text: {en: A, fr: B}, "
        "media: [{file: card.png, alt: {en: Card}}]}\n"
    )
    text = campaign(posts, LANGS)
    found = only(load(tmp_path, text), "no alt text")
    assert (found.message, f"{found.where.line}:{found.where.col}") == (
        "'card.png' has no alt text in fr",
        spot(text, "{en: Card}"),
    )
    assert found.hint == "add 'fr: ...' to its 'alt:'"


def test_drafts_content_problems_are_warnings(tmp_path: Path) -> None:
    posts = (
        f"- {{id: a, at: sid 09:00, status: draft, text: {'x' * 300}}}\n"
        "- {id: b, at: sid 12:00, text: B}\n"
    )
    plan = load(tmp_path, campaign(posts))
    found = only(plan, "x-main")
    assert found.severity == "warning" and found.message.endswith("[draft]")
    assert not plan.has_errors()
    assert len(plan.deliveries) == 4


def test_blackouts_hold_posts_and_say_what_happens_next(tmp_path: Path) -> None:
    header = HEADER + (
        "blackouts:\n"
        "  - {from: sid, until: sid, reason: Mourning}\n"
        "  - {from: sid + 2d 10:00, until: sid + 1d, reason: Backwards}\n"
        "  - {from: sid + 5d 10:00, until: sid + 5d 11:00, reason: Live, channels: [x-main]}\n"
        "  - {from: sid + 6d 10:00, until: sid + 6d 11:00, reason: Strike, then: skip}\n"
    )
    posts = """\
    - {id: a, at: sid 23:30, text: A}
    - {id: b, at: sid + 5d 10:30, text: B, channels: [mastodon-main]}
    - {id: c, at: sid + 5d 10:30, text: C}
    - {id: d, at: sid 09:00, text: D, not_after: 1h}
    - {id: e, at: sid + 6d 10:00, text: E, channels: [x-main]}
    - {id: f, at: sid + 6d 11:00, text: F, channels: [x-main]}
    - {id: g, at: sid 12:00, text: G, channels: [x-main], ignore_blackouts: true}
    """
    plan = load(tmp_path, campaign(posts, header))
    assert located(plan) == [
        "8:35 error: 'until' (sid + 1d) comes before 'from' (sid + 2d 10:00)",
        "12:17 warning: post 'a' on x-main at 2027-02-09 23:30 Europe/Brussels: held by the "
        "blackout 'Mourning': goes out when it ends, at 2027-02-10 00:00 CET (line 7)",
        "14:17 warning: post 'c' on x-main at 2027-02-14 10:30 Europe/Brussels: held by the "
        "blackout 'Live': goes out when it ends, at 2027-02-14 11:00 CET (line 9)",
        "14:17 warning: post 'c' (10:30 CET) goes out at the same time as 'b' (10:30 CET) on "
        "mastodon-main; keep at least 30m between posts",
        "15:17 warning: post 'd' on x-main at 2027-02-09 09:00 Europe/Brussels: held by the "
        "blackout 'Mourning' until 2027-02-10 00:00 CET: it expires then, its not_after has "
        "passed by then (line 7)",
        "16:17 warning: post 'e' on x-main at 2027-02-15 10:00 Europe/Brussels: held by the "
        "blackout 'Strike': skipped, it will not go out (then: skip) (line 10)",
    ]
    notes = {d.post: d.warnings for d in plan.held if d.channel == "x-main"}
    assert notes["f"] == () and notes["g"] == ()  # `until` excluded; the opt-out
    skipped = "held by the blackout 'Strike': skipped, it will not go out (then: skip)"
    assert notes["e"] == (skipped,)


def test_posts_in_the_past_are_warned_about(tmp_path: Path) -> None:
    posts = (
        "- {id: weekly, every: {cron: '0 9 * * *', from: sid - 3d, until: sid}, text: A, "
        "channels: [x-main]}\n"
    )
    plan = load(tmp_path, campaign(posts), now=OPTIONS.now.replace(year=2027, month=2, day=8))
    found = only(plan, "in the past")
    assert (found.severity, found.where.line, found.where.col) == ("warning", 7, 25)
    assert found.message == (
        "post 'weekly' is in the past (2027-02-06 09:00 Europe/Brussels and 1 more delivery): "
        "their not_after deadline has passed too, so they will not go out (the daemon records "
        "them as expired)"
    )
    assert len(plan.deliveries) == 4


@pytest.mark.parametrize(
    ("not_after", "now", "outcome"),
    [
        (
            "1h",
            at(2027, 2, 8, 8, 30),
            "2 of these deliveries are past their not_after deadline and will not go out; "
            "unless already sent, the other one goes out late if the daemon loads this plan before "
            "2027-02-08 10:00 Europe/Brussels (not_after), and not at all after that",
        ),
        (
            "3d",
            at(2027, 2, 7, 8, 30),
            "unless already sent, they go out late if the daemon loads this plan before "
            "2027-02-09 09:00 Europe/Brussels (not_after), and not at all after that",
        ),
        (
            "none",
            at(2027, 2, 6, 8, 30),
            "unless already sent, it goes out late as soon as the daemon loads this plan "
            "(no not_after deadline)",
        ),
    ],
)
def test_the_past_warning_says_what_the_daemon_does(
    tmp_path: Path, not_after: str, now: datetime, outcome: str
) -> None:
    """Issue 7 point 18: a past post within its not_after goes out late; say so."""
    posts = (
        "- {id: weekly, every: {cron: '0 9 * * *', from: sid - 3d, until: sid}, text: A, "
        f"channels: [x-main], not_after: {not_after}}}\n"
    )
    found = only(load(tmp_path, campaign(posts), now=now), "in the past")
    assert found.message.split("): ", 1)[1] == outcome
    assert found.hint is not None and "later time" in found.hint


def test_posts_too_close_on_one_channel(tmp_path: Path) -> None:
    header = LANGS + "audiences: [{name: a1, language: en}, {name: a2, language: fr}]\n"
    posts = """\
    - {id: a, at: sid 09:00, text: {en: A, fr: B}}
    - {id: b, at: sid 09:20, text: {en: C, fr: D}}
    - {id: c, at: sid 10:00, text: {en: E, fr: F}}
    """
    plan = load(tmp_path, campaign(posts, header))
    assert located(plan) == [
        "10:17 warning: post 'b' (a1, a2 at 09:20 CET) goes out only 20m after 'a' (a1, a2 at "
        "09:00 CET) on mastodon-main, x-main; keep at "
        "least 30m between posts"
    ]
    assert load(tmp_path, campaign(posts, header), min_gap=OPTIONS.min_gap / 3).problems == []
    assert load(tmp_path, campaign(posts, header + "min_gap: 10m\n")).problems == []
    assert load(tmp_path, campaign(posts, header + "min_gap: 0s\n")).problems == []


def test_posts_too_close_across_campaign_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(campaign("- {id: a, at: sid 09:00, text: A}\n"))
    other = campaign("- {id: b, at: sid 09:10, text: B, channels: [x-main]}\n")
    (tmp_path / "b.yaml").write_text(other.replace("campaign: test", "campaign: other"))
    plan = load_plan([tmp_path], OPTIONS)
    assert [(p.where.file, p.message) for p in plan.problems] == [
        (
            str(tmp_path / "b.yaml"),
            "post 'b' (09:10 CET) goes out only 10m after 'test/a' (09:00 CET) on x-main; keep at "
            "least 30m between posts",
        )
    ]


def test_daylight_saving_warnings(tmp_path: Path) -> None:
    header = HEADER.replace("Europe/Brussels", "Europe/Helsinki")
    posts = (
        "- {id: a, every: {cron: '30 3 * * SUN', from: 2027-10-24, until: 2027-10-31}, text: A}\n"
    )
    plan = load(tmp_path, campaign(posts, header))
    found = only(plan, "happens twice")
    assert (found.severity, found.where.line, found.where.col) == ("warning", 7, 20)
    assert {d.warnings for d in plan.deliveries if "10-31" in d.key} == {(found.message,)}


def test_a_rule_that_never_matches(tmp_path: Path) -> None:
    posts = "- {id: a, every: {cron: '0 9 30 2 *', from: sid, until: sid + 60d}, text: A}\n"
    assert problem(tmp_path, campaign(posts), "never goes out") == (
        "7:20 warning | check the rule, and the dates of 'from' and 'until'"
    )


def test_thread_on_a_platform_without_threads(tmp_path: Path) -> None:
    header = HEADER.replace("[x-main, mastodon-main]", "[linkedin-main]")
    found = problem(
        tmp_path, campaign("- {id: a, at: sid 09:00, thread: [a, b]}\n", header), "no threads"
    )
    assert found == "7:36 warning | give linkedin a single 'text' under 'overrides'"


def test_the_same_words_twice_at_once(tmp_path: Path) -> None:
    found = problem(
        tmp_path, campaign("- {id: a, at: sid 09:00, text: Hello}\n", LANGS), "same words"
    )
    assert found.startswith("8:34 warning")


def test_one_broken_post_does_not_hide_the_problems_of_others(tmp_path: Path) -> None:
    posts = """\
    - {id: a, at: sid 09:00, text: 42}
    - {id: b, at: sid 10:00, text: {en: B}}
    - {id: c, at: sd 10:00, text: C}
    """
    plan = load(tmp_path, campaign(posts, LANGS))
    assert located(plan) == [
        "8:34 error: 'text' should be text or a mapping (key: value lines), not a whole number",
        "9:34 error: the text of post 'b' has no version in fr",
        "10:17 error: unknown anchor 'sd'",
    ]
    # a wrong value in the campaign's own keys hides none of the posts' problems either
    plan = load(tmp_path, campaign(posts, LANGS.replace("Europe/Brussels", "Europe/Brusels")))
    assert [p.message for p in plan.problems] == [
        "unknown time zone 'Europe/Brusels'",
        "'text' should be text or a mapping (key: value lines), not a whole number",
        "the text of post 'b' has no version in fr",
        "unknown anchor 'sd'",
    ]
    plan = load(tmp_path, campaign(posts, HEADER + "languages: [en, 42]\n"))
    assert "unknown anchor 'sd'" not in [p.message for p in plan.problems]


def test_files_with_errors_contribute_no_deliveries(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(campaign("- {id: a, at: sid 09:00, text: A}\n"))
    bad = campaign("- {id: a, at: sid 09:00, text: A}\n- {id: b, at: nope, text: B}\n")
    (tmp_path / "bad.yml").write_text(bad.replace("campaign: test", "campaign: bad"))
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "skip.yaml").write_text("not: [a campaign")
    (tmp_path / "notes.txt").write_text("ignored")
    plan = load_plan([tmp_path], OPTIONS)
    assert keys(plan) == ["test/a/-/mastodon-main", "test/a/-/x-main"]
    assert [c.id for c in plan.campaigns] == ["bad", "test"]
    assert [(Path(p.where.file).name, p.message) for p in plan.problems] == [
        ("bad.yml", "unknown anchor 'nope'"),
        # a file with errors still gets its warnings, so that fixing one shows no new ones
        (
            "good.yaml",
            "post 'a' (09:00 CET) goes out at the same time as 'bad/a' (09:00 CET) on "
            "mastodon-main, x-main; keep at least 30m between posts",
        ),
    ]


def test_a_campaign_id_used_by_two_files(tmp_path: Path) -> None:
    for name in ("one.yaml", "two.yaml"):
        (tmp_path / name).write_text(campaign("- {id: a, at: sid 09:00, text: A}\n"))
    plan = load_plan([tmp_path], OPTIONS)
    assert [(Path(p.where.file).name, p.where.line, p.message) for p in plan.problems] == [
        ("one.yaml", 1, f"campaign id 'test' is also used by {tmp_path / 'two.yaml'}"),
        ("two.yaml", 1, f"campaign id 'test' is also used by {tmp_path / 'one.yaml'}"),
    ]
    assert plan.deliveries == []


def test_missing_paths_empty_files_and_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("# nothing yet\n")
    (tmp_path / "latin1.yaml").write_bytes("title: caf\xe9\n".encode("latin-1"))
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    plan = load_plan(
        [
            tmp_path / "nope.yaml",
            tmp_path / "empty.yaml",
            tmp_path / "latin1.yaml",
            tmp_path / "list.yaml",
        ],
        OPTIONS,
    )
    assert [
        (Path(p.where.file).name, p.where.line, p.where.col, p.message) for p in plan.problems
    ] == [
        ("empty.yaml", 1, 1, "this campaign file is empty"),
        (
            "latin1.yaml",
            1,
            11,
            "this file is not UTF-8 text: byte 0xE9 ('é' in the Windows/Latin-1 encoding) is not "
            "valid here",
        ),
        (
            "list.yaml",
            1,
            1,
            "a campaign file holds 'key: value' lines, starting with 'campaign:', not a list",
        ),
        ("nope.yaml", 1, 1, "no such file or folder"),
    ]
    assert plan.has_errors()
    assert plan.files == [str(tmp_path / n) for n in ("empty.yaml", "latin1.yaml", "list.yaml")]
