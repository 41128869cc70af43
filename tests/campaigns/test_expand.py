"""Expansion of a campaign into deliveries: variants, times, rendering and keys."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from campaigns import load_plan

from .plan_helpers import HEADER, NOW, OPTIONS, at, campaign, keys, load, located

LANGS = HEADER + "languages: [en, fr]\n"
AUDIENCES = (
    LANGS
    + """\
audiences:
  - {name: ie-en, language: en, timezone: Europe/Dublin}
  - {name: be-fr, language: fr}
  - {name: fi-en, language: en, timezone: Europe/Helsinki, channels: [mastodon-main]}
"""
)
TWO = """\
- id: a
  at: sid 09:00
  text: {en: "A en", fr: "A fr"}
- id: b
  at: sid 12:00
  text: {en: "B en", fr: "B fr"}
"""


def test_one_delivery_per_language_and_channel(tmp_path: Path) -> None:
    plan = load(tmp_path, campaign(TWO, LANGS))
    assert plan.problems == []
    assert keys(plan) == [
        "test/a/en/mastodon-main",
        "test/a/fr/mastodon-main",
        "test/a/en/x-main",
        "test/a/fr/x-main",
        "test/b/en/mastodon-main",
        "test/b/fr/mastodon-main",
        "test/b/en/x-main",
        "test/b/fr/x-main",
    ]
    first = plan.deliveries[0]
    assert (first.campaign, first.post, first.language, first.audience) == ("test", "a", "en", None)
    assert first.due_utc == at(2027, 2, 9, 8)
    assert first.timezone == "Europe/Brussels"
    assert first.deadline_utc == at(2027, 2, 9, 10)
    assert first.status == "approved"
    assert first.source.endswith("c.yaml:8:5")
    assert [c.id for c in plan.campaigns] == ["test"]
    assert plan.files == [str(tmp_path / "c.yaml")]


def test_without_languages_the_variant_is_a_dash(tmp_path: Path) -> None:
    plan = load(tmp_path, campaign('- {id: a, at: "sid 09:00", text: Hello}\n'))
    assert keys(plan) == ["test/a/-/mastodon-main", "test/a/-/x-main"]
    assert plan.deliveries[0].language is None


def test_audiences_post_at_the_same_local_hour_in_their_zones(tmp_path: Path) -> None:
    plan = load(tmp_path, campaign(TWO, AUDIENCES))
    assert plan.problems == []
    due = {d.key: (d.due_utc, d.timezone, d.language) for d in plan.deliveries if d.post == "a"}
    assert due == {
        "test/a/fi-en/mastodon-main": (at(2027, 2, 9, 7), "Europe/Helsinki", "en"),
        "test/a/be-fr/mastodon-main": (at(2027, 2, 9, 8), "Europe/Brussels", "fr"),
        "test/a/be-fr/x-main": (at(2027, 2, 9, 8), "Europe/Brussels", "fr"),
        "test/a/ie-en/mastodon-main": (at(2027, 2, 9, 9), "Europe/Dublin", "en"),
        "test/a/ie-en/x-main": (at(2027, 2, 9, 9), "Europe/Dublin", "en"),
    }
    assert {d.audience for d in plan.deliveries} == {"ie-en", "be-fr", "fi-en"}


def test_a_zone_in_the_expression_or_on_the_post_fixes_one_instant(tmp_path: Path) -> None:
    posts = """\
    - {id: a, at: "sid 15:00 Europe/Brussels", text: {en: A, fr: B}}
    - {id: b, at: "sid 18:00", timezone: UTC, text: {en: A, fr: B}}
    """
    plan = load(tmp_path, campaign(posts, AUDIENCES))
    assert {d.due_utc for d in plan.deliveries if d.post == "a"} == {at(2027, 2, 9, 14)}
    assert {d.due_utc for d in plan.deliveries if d.post == "b"} == {at(2027, 2, 9, 18)}


def test_post_subsets(tmp_path: Path) -> None:
    posts = """\
    - {id: a, at: "sid 09:00", text: {en: A}, languages: [en], channels: [x-main]}
    - {id: b, at: "sid 12:00", text: {en: A, fr: B}, audiences: [be-fr, fi-en]}
    """
    plan = load(tmp_path, campaign(posts, AUDIENCES))
    assert keys(plan) == [
        "test/a/ie-en/x-main",
        "test/b/fi-en/mastodon-main",
        "test/b/be-fr/mastodon-main",
        "test/b/be-fr/x-main",
    ]


def test_recurring_keys_carry_the_local_date_and_the_time_when_needed(tmp_path: Path) -> None:
    posts = """\
    - id: weekly
      every: {cron: "0 10 * * MON", from: sid - 15d, until: sid}
      text: Weekly
      channels: [x-main]
    - id: twice
      every: {cron: "0 9,17 * * *", from: sid, until: sid}
      text: Twice
      channels: [x-main]
    - id: every-2d
      every: {interval: 2d, from: "sid 08:00", until: sid + 3d}
      text: Often
      channels: [x-main]
    """
    plan = load(tmp_path, campaign(posts))
    assert keys(plan) == [
        "test/weekly@2027-01-25/-/x-main",
        "test/weekly@2027-02-01/-/x-main",
        "test/weekly@2027-02-08/-/x-main",
        "test/every-2d@2027-02-09/-/x-main",
        "test/twice@2027-02-09T0900/-/x-main",
        "test/twice@2027-02-09T1700/-/x-main",
        "test/every-2d@2027-02-11/-/x-main",
    ]


def test_threads_chain_their_parts_per_channel_and_variant(tmp_path: Path) -> None:
    posts = """\
    - id: tips
      at: sid 12:00
      thread:
        - {en: "1/ one", fr: "1/ un"}
        - {en: "2/ two", fr: "2/ deux"}
        - "3/ 116 111"
    """
    plan = load(tmp_path, campaign(posts, LANGS))
    chains = {d.key: d.parent_key for d in plan.deliveries}
    assert chains["test/tips/fr/x-main/1"] is None
    assert chains["test/tips/fr/x-main/2"] == "test/tips/fr/x-main/1"
    assert chains["test/tips/fr/x-main/3"] == "test/tips/fr/x-main/2"
    assert chains["test/tips/en/mastodon-main/2"] == "test/tips/en/mastodon-main/1"
    part = next(d for d in plan.deliveries if d.key == "test/tips/fr/x-main/2")
    assert (part.thread_index, part.thread_size, part.text) == (1, 3, "2/ deux")
    assert [
        d.thread_index for d in plan.deliveries if d.channel == "x-main" and d.language == "en"
    ] == [
        0,
        1,
        2,
    ]


def test_a_thread_with_ten_parts_stays_in_order(tmp_path: Path) -> None:
    parts = "".join(f'    - "{i}/ part"\n' for i in range(1, 12))
    plan = load(tmp_path, campaign(f"- id: long\n  at: sid 12:00\n  thread:\n{parts}"))
    texts = [d.text for d in plan.deliveries if d.channel == "x-main"]
    assert texts == [f"{i}/ part" for i in range(1, 12)]


KEYED = """\
- id: a
  at: sid 09:00
  text: A
- id: b
  every: {cron: "0 10 * * MON", from: sid - 7d, until: sid}
  text: B
- id: c
  at: sid 12:00
  thread: ["1/", "2/"]
"""


def test_keys_are_stable_when_posts_are_reordered_added_or_removed(tmp_path: Path) -> None:
    before = set(keys(load(tmp_path, campaign(KEYED))))
    blocks = KEYED.split("- id: ")[1:]
    reordered = "".join("- id: " + b for b in reversed(blocks))
    assert set(keys(load(tmp_path, campaign(reordered)))) == before
    added = (
        "- {id: new, at: sid 08:00, text: New}\n" + KEYED + "- {id: z, at: sid 20:00, text: Z}\n"
    )
    after = set(keys(load(tmp_path, campaign(added))))
    assert before < after
    assert after - before == {
        f"test/{p}/-/{c}" for p in ("new", "z") for c in ("x-main", "mastodon-main")
    }
    removed = "- id: " + blocks[1] + "- id: " + blocks[2]
    assert set(keys(load(tmp_path, campaign(removed)))) == {k for k in before if "/a/" not in k}


def test_keys_ignore_words_and_times_but_follow_channels(tmp_path: Path) -> None:
    before = keys(load(tmp_path, campaign("- {id: a, at: sid 09:00, text: A}\n")))
    edited = keys(load(tmp_path, campaign("- {id: a, at: sid 10:30, text: Other words}\n")))
    assert edited == before
    header = HEADER.replace("[x-main, mastodon-main]", "[x-main, bluesky-main]")
    moved = keys(load(tmp_path, campaign("- {id: a, at: sid 09:00, text: A}\n", header)))
    assert set(moved) ^ set(before) == {"test/a/-/mastodon-main", "test/a/-/bluesky-main"}


def test_overrides_channel_wins_over_platform_and_languages_fall_back(tmp_path: Path) -> None:
    header = LANGS.replace("[x-main, mastodon-main]", "[x-main, mastodon-main, linkedin-main]")
    posts = """\
    - id: a
      at: sid 09:00
      thread: [{en: "1/ en", fr: "1/ fr"}, {en: "2/ en", fr: "2/ fr"}]
      overrides:
        x: {text: "X for all"}
        x-main: {text: {fr: "X main fr"}}
        linkedin: {text: {en: "One LinkedIn post", fr: "Un seul post"}, hashtags: ["#Pro"]}
    """
    plan = load(tmp_path, campaign(posts, header))
    texts = {d.key: d.text for d in plan.deliveries}
    assert texts["test/a/fr/x-main"] == "X main fr"
    assert texts["test/a/en/x-main"] == "X for all"
    assert texts["test/a/en/linkedin-main"] == "One LinkedIn post\n\n#Pro"
    assert texts["test/a/en/mastodon-main/2"] == "2/ en"
    assert not [p for p in plan.problems if "no threads" in p.message]


def test_hashtags_and_links_are_rendered_per_channel(tmp_path: Path) -> None:
    header = LANGS + (
        "defaults:\n"
        '  hashtags: ["#SayNo", SaferInternetDay]\n'
        "  link: {url: 'https://example.org/s?x=1', "
        "utm: {source: '{platform}', campaign: '{campaign}', content: '{post}-{language}'}}\n"
    )
    posts = """\
    - id: a
      at: sid 09:00
      hashtags: ["#Help"]
      text: {en: "Say no #sayno", fr: "Dis non: {link}"}
      overrides: {mastodon-main: {hashtags: [], link: "https://example.org/m"}}
    """
    plan = load(tmp_path, campaign(posts, header))
    assert plan.problems == []
    by_key = {d.key: d for d in plan.deliveries}
    en_x = by_key["test/a/en/x-main"]
    link = "https://example.org/s?x=1&utm_source=x&utm_campaign=test&utm_content=a-en"
    assert en_x.text == f"Say no #sayno\n\n#SaferInternetDay #Help\n{link}"
    assert en_x.link == link
    fr_x = by_key["test/a/fr/x-main"]
    assert fr_x.text == (
        "Dis non: https://example.org/s?x=1&utm_source=x&utm_campaign=test&utm_content=a-fr"
        "\n\n#SayNo #SaferInternetDay #Help"
    )
    en_m = by_key["test/a/en/mastodon-main"]
    # `hashtags: []` in an override removes every hashtag there, the campaign's included
    assert en_m.text == (
        "Say no #sayno\n\n"
        "https://example.org/m?utm_source=mastodon&utm_campaign=test&utm_content=a-en"
    )


def test_a_post_can_drop_the_default_link(tmp_path: Path) -> None:
    header = HEADER + "defaults: {link: https://example.org}\n"
    plan = load(tmp_path, campaign("- {id: a, at: sid 09:00, text: A, link: none}\n", header))
    assert {(d.text, d.link) for d in plan.deliveries} == {("A", None)}


def test_length_is_measured_per_platform(tmp_path: Path) -> None:
    header = HEADER.replace("[x-main, mastodon-main]", "[x-main, telegram-news]")
    plan = load(
        tmp_path,
        campaign("- {id: a, at: sid 09:00, text: 'See https://example.org/long/path'}\n", header),
    )
    lengths = {d.channel: (d.length, d.limit) for d in plan.deliveries}
    assert lengths == {"x-main": (27, 280), "telegram-news": (33, 4096)}


def test_deadlines(tmp_path: Path) -> None:
    header = HEADER + "defaults: {not_after: 30m}\n"
    posts = """\
    - {id: a, at: sid 09:00, text: A}
    - {id: b, at: sid 10:00, text: B, not_after: 4h}
    - {id: c, at: sid 11:00, text: C, not_after: none}
    """
    plan = load(tmp_path, campaign(posts, header))
    deadlines = {
        d.post: d.deadline_utc - d.due_utc if d.deadline_utc else None for d in plan.deliveries
    }
    assert deadlines == {"a": timedelta(minutes=30), "b": timedelta(hours=4), "c": None}
    plan = load(tmp_path, campaign("- {id: a, at: sid 09:00, text: A}\n"), default_not_after=None)
    assert {d.deadline_utc for d in plan.deliveries} == {None}


def test_drafts_are_expanded_and_marked(tmp_path: Path) -> None:
    posts = """\
    - {id: a, at: sid 09:00, text: A, status: draft}
    - {id: b, at: sid 10:00, text: B}
    """
    plan = load(tmp_path, campaign(posts))
    assert {d.post: d.status for d in plan.deliveries} == {"a": "draft", "b": "approved"}
    plan = load(tmp_path, campaign(posts, HEADER + "defaults: {status: draft}\n"))
    assert {d.status for d in plan.deliveries} == {"draft"}


def test_the_now_anchor(tmp_path: Path) -> None:
    header = HEADER.replace("{sid: 2027-02-09}", "{start: now}")
    posts = """\
    - {id: a, at: start + 5s, text: A}
    - {id: b, at: start + 1d 09:00, text: B}
    """
    plan = load(tmp_path, campaign(posts, header))
    assert {d.post: d.due_utc for d in plan.deliveries} == {
        "a": NOW + timedelta(seconds=5),
        "b": at(2027, 1, 2, 8),
    }
    assert plan.problems == []


def test_media_are_resolved_with_alt_text_per_language(tmp_path: Path) -> None:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "card.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    posts = """\
    - id: a
      at: sid 09:00
      text: {en: A, fr: B}
      media: [{file: media/card.png, alt: {en: "A card", fr: "Une carte"}}]
    """
    plan = load(tmp_path, campaign(posts, LANGS))
    assert plan.problems == []
    media = {d.key: d.media for d in plan.deliveries}
    (item,) = media["test/a/fr/x-main"]
    assert (item.file, item.path, item.alt, item.mime) == (
        "media/card.png",
        str(tmp_path / "media" / "card.png"),
        "Une carte",
        "image/png",
    )


def test_dst_notes_are_on_the_delivery(tmp_path: Path) -> None:
    plan = load(tmp_path, campaign("- {id: a, at: 2027-03-28 02:30, text: A}\n"))
    assert {d.due_utc for d in plan.deliveries} == {at(2027, 3, 28, 1, 30)}
    assert all("does not exist" in d.warnings[0] for d in plan.deliveries)
    assert located(plan) == [
        "7:17 warning: 2027-03-28 02:30 in Europe/Brussels does not exist (clocks go forward by "
        "1h): moved to 03:30 CEST"
    ]


def test_deliveries_are_sorted_by_time_channel_and_key(tmp_path: Path) -> None:
    files = {
        "a.yaml": campaign("- {id: late, at: sid 12:00, text: L}\n"),
        "b.yaml": campaign("- {id: early, at: sid 08:00, text: E}\n").replace(
            "campaign: test", "campaign: other"
        ),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    plan = load_plan([tmp_path], OPTIONS)
    assert keys(plan) == [
        "other/early/-/mastodon-main",
        "other/early/-/x-main",
        "test/late/-/mastodon-main",
        "test/late/-/x-main",
    ]
    assert plan.files == [str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")]


def test_norwegian_stays_a_language(tmp_path: Path) -> None:
    header = HEADER + "languages: [en, no, pt-BR]\n"
    posts = "- {id: a, at: sid 09:00, text: {en: Hi, no: Hei, pt-BR: Oi}, channels: [x-main]}\n"
    plan = load(tmp_path, campaign(posts, header))
    assert plan.problems == []
    assert {d.language: d.text for d in plan.deliveries} == {"en": "Hi", "no": "Hei", "pt-BR": "Oi"}


def test_the_zone_a_time_names_is_the_one_the_author_meant(tmp_path: Path) -> None:
    posts = "- {id: a, at: sid 15:00 Europe/Brussels, text: {en: A, fr: B}}\n"
    plan = load(tmp_path, campaign(posts, AUDIENCES))
    assert {(d.timezone, d.due_local.hour) for d in plan.deliveries} == {("Europe/Brussels", 15)}
