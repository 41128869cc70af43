"""Campaign files that are not what they seem (issue 7, points 15 and 17): a named pipe or a
device named *.yaml, files and texts far beyond any platform, placeholders by the hundred
thousand, control characters and terminal escapes written as YAML escapes. Each gets a
located error at once; nothing hangs, nothing reaches the terminal raw."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.problems import InputError
from campaigns.yamlsource import MAX_FILE_SIZE, MAX_TEXT, parse_yaml, printable

CLARION = Path(sys.executable).parent / "clarion"
CONTROLS = [chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if chr(c) not in "\t\n"]
BIDI = [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]


def clarion(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Bytes, to see exactly what would reach a terminal; a hang fails after 60 s."""
    return subprocess.run([str(CLARION), *args], capture_output=True, timeout=60, cwd=cwd)


def campaign(text: str) -> str:
    return (
        "campaign: hostile\ntitle: Hostile\ntimezone: UTC\nchannels: [mastodon-main]\n"
        f"posts:\n  - id: p\n    at: 2030-01-01 10:00\n    text: {text}\n"
    )


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
def test_a_yaml_name_that_is_no_file_is_a_located_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "plan.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    for args in (["validate", str(path)], ["validate", str(tmp_path)], ["preview", str(path)]):
        done = clarion(*args, cwd=tmp_path)
        err = done.stdout.decode() + done.stderr.decode()
        assert done.returncode == 1, err
        assert f"{path}:1:1: error: this is a" in err and "Traceback" not in err


def test_a_file_larger_than_the_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as file:
        file.truncate(MAX_FILE_SIZE * 12)  # 50 MB of nothing, never read
    done = clarion("preview", str(path), cwd=tmp_path)
    assert done.returncode == 1
    assert b"huge.yaml:1:1: error: this file is larger than 4 MB" in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (json.dumps("{link} " * 100_000), "at most 100,000 are allowed"),
        (json.dumps("{link} " * 101), "more than 100 placeholders"),
        (json.dumps("x" * (MAX_TEXT + 1)), "at most 100,000 are allowed"),
    ],
)
def test_work_per_value_is_bounded(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(campaign(text), encoding="utf-8")
    done = clarion("validate", str(path), cwd=tmp_path)
    assert done.returncode == 1
    assert f"{path}:8:11: error: ".encode() in done.stdout
    assert words.encode() in done.stdout


@pytest.mark.parametrize(
    "escaped",
    [r'"\e]0;pwned\a hello"', r'"\x1b[2J cleared"', r'"\x9b31m red"', r'"right \u202Eto left"'],
)
def test_control_characters_are_refused_and_never_reach_the_terminal(
    tmp_path: Path, escaped: str
) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(campaign(escaped), encoding="utf-8")
    for command in ("validate", "preview"):
        done = clarion(command, str(path), cwd=tmp_path)
        assert done.returncode == 1
        shown = done.stdout + done.stderr
        assert f"{path}:8:11: error: a ".encode() in shown
        assert not any(c.encode() in shown for c in CONTROLS + BIDI if c != "\r")


def test_marks_of_right_to_left_writing_are_allowed() -> None:
    shalom = "\u05e9\u05dc\u05d5\u05dd"
    doc = parse_yaml(f'text: "\\u200F{shalom} \\u200E(SayNo)\\tend"', "f.yaml")
    assert doc.data == {"text": f"\u200f{shalom} \u200e(SayNo)\tend"}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_no_value_keeps_a_control_character(value: str) -> None:
    """Whatever a double-quoted YAML value spells out, what loads is free of control and
    bidirectional formatting characters, or it is refused at its place."""
    try:
        doc = parse_yaml(f"text: {json.dumps(value)}\n", "f.yaml")
    except InputError as exc:
        assert all(str(p.where).startswith("f.yaml:1:") for p in exc.problems)
        return
    loaded = doc.data["text"] if isinstance(doc.data, dict) else ""
    assert not any(c in str(loaded) for c in CONTROLS + BIDI)


@given(st.text(max_size=40))
def test_printable_text_has_no_control_characters(value: str) -> None:
    assert not any(c in printable(value) for c in CONTROLS + BIDI)
