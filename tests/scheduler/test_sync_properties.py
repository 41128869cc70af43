"""Sync keeps its rules whatever sequence of edits, removals, drafts and sends comes along."""

from __future__ import annotations

import tempfile
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.delivery import Delivery
from scheduler.ledger.api import Sent, State
from scheduler.ledger.sql import open_ledger
from tests.scheduler.ledgerkit import LEASE, NOW, delivery, ref

POSTS = [f"p{i}" for i in range(6)]
HOUR = timedelta(hours=1)

# post -> (text variant, due in hours from now, has a deadline, is a draft)
Version = dict[str, tuple[int, int, bool, bool]]
versions = st.dictionaries(
    st.sampled_from(POSTS),
    st.tuples(st.integers(0, 2), st.integers(-3, 3), st.booleans(), st.booleans()),
    max_size=len(POSTS),
)


def plan_of(version: Version) -> list[Delivery]:
    return [
        delivery(
            post,
            channel=f"ch-{post}",
            text=f"{post} v{text}",
            due=NOW + hours * HOUR,
            deadline=NOW + (hours + 1) * HOUR if deadline else None,
            status="draft" if draft else "approved",
        )
        for post, (text, hours, deadline, draft) in version.items()
    ]


@settings(max_examples=40, deadline=None)
@given(
    history=st.lists(versions, min_size=1, max_size=4),
    sends=st.lists(st.sets(st.sampled_from(POSTS)), min_size=4, max_size=4),
)
def test_sync_rules_hold_for_any_sequence_of_plans(
    history: list[Version], sends: list[set[str]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        ledger = open_ledger(f"sqlite:///{folder}/ledger.db")
        gone_out: dict[str, Delivery] = {}
        try:
            for version, send in zip(history, sends, strict=False):
                plan = {d.key: d for d in plan_of(version)}
                before = {r.key: r for r in ledger.rows()}
                ledger.sync(list(plan.values()), NOW)
                rows = {r.key: r for r in ledger.rows()}
                for key, row in rows.items():
                    wanted = plan.get(key)
                    if key in gone_out:  # never touched again, whatever the plan says
                        assert (row.state, row.delivery) == (State.SENT, gone_out[key])
                    elif wanted is None or wanted.status == "draft":
                        was = before.get(key)
                        assert was is not None
                        expected = State.CANCELLED if was.state == State.PLANNED else was.state
                        assert row.state == expected
                    else:
                        assert row.delivery == wanted
                        late = wanted.deadline_utc is not None and wanted.deadline_utc < NOW
                        assert row.state == (State.EXPIRED if late else State.PLANNED)
                for key, wanted in plan.items():
                    assert (key in rows) == (wanted.status == "approved" or key in before)
                again = ledger.sync(list(plan.values()), NOW)
                assert again.added == again.updated == again.cancelled == again.expired == []
                for post in send:
                    due = rows.get(delivery(post, channel=f"ch-{post}").key)
                    if due is None or due.state != State.PLANNED:
                        continue
                    claim = ledger.claim(due.channel, "daemon", LEASE, due.due_utc)
                    assert claim is not None and claim.row.key == due.key
                    assert ledger.finish(claim, Sent(ref(post)), due.due_utc)
                    gone_out[due.key] = due.delivery
        finally:
            ledger.close()
