"""Blackouts are read from a campaign file whatever else in it is wrong, and reading them never
raises, however broken the file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from campaigns import load_plan
from campaigns.safety import read_safety
from campaigns.yamlsource import SourceMap

from .plan_helpers import OPTIONS
from .test_plan_fuzz import SETTINGS, TIMES, documents

NOW = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
BROKEN = """\
campaign: sayno
title: SayNo
timezone: Europe/Brussels
anchors: {sid: 2027-02-09, start: now, bad: tomorrow}
tittle: a typo
channels: [x-main, mastodon-main]
blackouts:
  - {from: sid, until: sid, reason: Day of mourning}
  - {from: sid + 2d 14:00, until: sid + 2d 16:00, reason: Live, channels: [x-main], then: skip}
  - {from: start, until: start + 1h, reason: Rehearsal}
  - {from: nowhere 10:00, until: sid, reason: Unknown anchor}
  - {from: sid, until: sid, reason: "", then: later}
posts:
  - {id: qa, at: sid 10:00, text: Q&A, ignore_blackouts: true}
  - {id: broken, at: sid 25:00, txt: oops}
"""


def test_blackouts_are_read_from_a_file_with_errors(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(BROKEN)
    plan = load_plan([path], OPTIONS)
    assert plan.has_errors() and not plan.campaigns
    safety = plan.safety["sayno"]
    assert [(w.reason, w.then, w.where.line) for w in safety.windows] == [
        ("Day of mourning", "postpone", 8),
        ("Live", "skip", 9),
        ("Rehearsal", "postpone", 10),
    ]
    mourning, live, rehearsal = safety.windows
    assert (mourning.start, mourning.end) == (
        datetime(2027, 2, 8, 23, tzinfo=UTC),
        datetime(2027, 2, 9, 23, tzinfo=UTC),
    )
    assert live.channels == frozenset({"x-main"}) and mourning.channels is None
    assert rehearsal.start == OPTIONS.now
    assert safety.exempt_posts == {"qa"}


def test_a_fixed_now_anchor_is_used(tmp_path: Path) -> None:
    import dataclasses

    path = tmp_path / "c.yaml"
    path.write_text(BROKEN)
    options = dataclasses.replace(OPTIONS, now_anchors={"sayno": NOW})
    rehearsal = load_plan([path], options).safety["sayno"].windows[2]
    assert rehearsal.start == NOW


@SETTINGS
@given(documents)
def test_reading_blackouts_never_raises(data: object) -> None:
    read_safety(data, SourceMap("fuzz.yaml"), NOW)


@SETTINGS
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["from", "until", "reason", "channels", "then", "x"]),
            st.one_of(st.sampled_from(TIMES), st.none(), st.integers(), st.lists(st.text())),
        ),
        max_size=4,
    )
)
def test_broken_blackouts_never_raise(blackouts: list[dict[str, object]]) -> None:
    data = {"campaign": "c", "timezone": "UTC", "anchors": {"sid": "2027-02-09"}}
    found = read_safety({**data, "blackouts": blackouts}, SourceMap("fuzz.yaml"), NOW)
    assert found is not None and all(w.start < w.end for w in found.windows)
