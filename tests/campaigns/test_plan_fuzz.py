"""No input, however broken, makes load_plan raise: random documents, and random damage to
the example campaign."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns import Plan, load_plan

from .plan_helpers import EXAMPLES, OPTIONS

KEYS = [
    "campaign", "title", "timezone", "anchors", "channels", "languages", "audiences",
    "defaults", "blackouts", "min_gap", "posts", "id", "at", "every", "cron", "interval",
    "from", "until", "text", "thread", "media", "file", "alt", "link", "url", "utm",
    "hashtags", "overrides", "status", "not_after", "name", "language", "reason", "x-main",
    "en", "fr", "sid", "source",
]  # fmt: skip
TIMES = [
    "sid", "sid 09:00", "sid - 7d 09:00", "sid + 1d 18:30 Europe/Helsinki", "2027-02-09",
    "2027-02-30 09:00", "sid -", "now", "start + 5s", "9999-12-31 23:59", "0001-01-01 00:00",
    "sid + 99999999d", "sid 24:00", "2027-02-09T09:00+99:00", "sid 09:00 Nowhere/City",
    "0 10 * * MON", "* * * * *", "0 0 30 2 *", "1s", "0s", "", "none",
]  # fmt: skip
FIXTURE = EXAMPLES / "sayno-2027.yaml"
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True),
    st.sampled_from(TIMES),
    st.sampled_from(KEYS),
    st.text(max_size=30),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=6),
    ),
    max_leaves=40,
)


def load_text(tmp_path: Path, text: str) -> Plan:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    plan = load_plan([path, tmp_path / "missing.yaml"], OPTIONS)
    assert isinstance(plan, Plan)
    assert not [p for p in plan.problems if "internal error" in p.message]
    return plan


@SETTINGS
@given(text=st.text(max_size=200))
def test_random_text(tmp_path: Path, text: str) -> None:
    load_text(tmp_path, text)


@SETTINGS
@given(data=documents)
def test_random_documents(tmp_path: Path, data: Any) -> None:
    load_text(tmp_path, yaml.safe_dump(data, allow_unicode=True))


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*path, i))
    return found


def _mutate(data: Any, draw: st.DrawFn) -> Any:
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        action = draw(st.sampled_from(["drop", "duplicate", "retype", "time", "rename"]))
        if action == "drop":
            del parent[last]
        elif action == "duplicate" and isinstance(parent, list):
            parent.insert(last, copy.deepcopy(parent[last]))
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS))] = parent.pop(last)
        elif action == "time":
            parent[last] = draw(st.sampled_from(TIMES) | st.text(max_size=20))
        else:
            parent[last] = draw(documents)
    return data


@st.composite
def damaged(draw: st.DrawFn) -> Any:
    return _mutate(yaml.safe_load(FIXTURE.read_text(encoding="utf-8")), draw)


@SETTINGS
@given(data=damaged())
def test_damaged_example(tmp_path: Path, data: Any) -> None:
    (tmp_path / "media").mkdir(exist_ok=True)
    for image in (EXAMPLES / "media").iterdir():
        (tmp_path / "media" / image.name).write_bytes(image.read_bytes())
    load_text(tmp_path, yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


@st.composite
def edited(draw: st.DrawFn) -> str:
    """The example's text with lines duplicated (duplicate keys), dropped, or garbled."""
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["duplicate", "drop", "garble", "indent"]))
        if action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "drop":
            del lines[i]
        elif action == "garble":
            cut = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:cut] + draw(st.text(max_size=10)) + lines[i][cut:]
        else:
            lines[i] = " " * draw(st.integers(1, 3)) + lines[i]
    return "\n".join(lines)


@SETTINGS
@given(text=edited())
def test_edited_example_text(tmp_path: Path, text: str) -> None:
    load_text(tmp_path, text)
