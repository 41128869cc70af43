"""campaigns.deliverydiff: deliveries matched by key; what changed named in words; any two plans
account for every delivery once (hypothesis)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from campaigns.delivery import Delivery, Media
from campaigns.deliverydiff import Change, compare
from campaigns.preview.changes import DiffReport, markdown, text
from tests.campaigns.preview_samples import TEXTS, delivery

HOUR = timedelta(hours=1)


def test_a_move_is_a_time_change_not_a_deadline_change() -> None:
    before = delivery()
    after = delivery(due_utc=before.due_utc + HOUR, deadline_utc=before.deadline_utc + HOUR)  # type: ignore[operator]
    assert Change(before, after).what == ["time"]


def test_a_new_allowance_is_a_deadline_change() -> None:
    before = delivery()
    assert Change(before, delivery(deadline_utc=None)).what == ["deadline"]


def test_each_kind_of_change_is_named() -> None:
    card = Media("media/card.png", "/p/media/card.png", "A card", "image/png")
    before = delivery()
    after = delivery(text="Another text", media=(card,), link="https://example.org", status="draft")
    assert Change(before, after).what == ["text", "media", "link", "status"]
    assert Change(before, delivery(media=(), source="elsewhere.yaml:1:1")).what == []


def test_added_changed_removed_and_unchanged() -> None:
    keep = delivery(key="c/keep/en/x")
    edit_before = delivery(key="c/edit/en/x")
    edit_after = delivery(key="c/edit/en/x", text=TEXTS["rtl"])
    gone = delivery(key="c/gone/en/x")
    new = delivery(key="c/new/en/x")
    diff = compare([keep, edit_before, gone], [keep, edit_after, new])
    assert [d.key for d in diff.added] == ["c/new/en/x"]
    assert [c.after.key for c in diff.changed] == ["c/edit/en/x"]
    assert [d.key for d in diff.removed] == ["c/gone/en/x"]
    assert diff.unchanged == 1
    assert not diff.empty
    report = DiffReport(diff, "main (0123456789ab)", ())
    assert text(report).startswith("1 added, 1 changed, 1 removed compared with main")
    assert "قل لا" in markdown(report)


KEYS = st.sampled_from([f"c/p{i}/en/x" for i in range(8)])
WORDS = st.sampled_from(list(TEXTS.values()))


@st.composite
def plans(draw: st.DrawFn) -> list[Delivery]:
    keys = draw(st.lists(KEYS, unique=True, max_size=8))
    return [
        delivery(
            key=key, text=draw(WORDS), due_utc=delivery().due_utc + draw(st.integers(0, 3)) * HOUR
        )
        for key in keys
    ]


@given(plans(), plans())
def test_every_delivery_is_accounted_for_once(
    before: list[Delivery], after: list[Delivery]
) -> None:
    diff = compare(before, after)
    assert len(diff.added) + len(diff.changed) + diff.unchanged == len(after)
    assert len(diff.removed) + len(diff.changed) + diff.unchanged == len(before)
    assert compare(after, after).empty
    assert len(markdown(DiffReport(diff, "base", ()))) > 0
