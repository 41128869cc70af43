from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.problems import InputError
from campaigns.yamlsource import parse_yaml, read_yaml


def test_values_keep_their_position() -> None:
    doc = parse_yaml("a:\n  b: [1, two]\n", "f.yaml")
    assert doc.data == {"a": {"b": [1, "two"]}}
    assert str(doc.source.value(("a", "b", 1))) == "f.yaml:2:10"
    assert str(doc.source.key(("a", "b"))) == "f.yaml:2:3"


def test_yaml_1_2_scalars() -> None:
    doc = parse_yaml("langs: [en, no, fr]\nat: 10:30\nday: 2027-02-09\nok: yes\nt: true", "f")
    assert doc.data == {
        "langs": ["en", "no", "fr"],
        "at": "10:30",
        "day": "2027-02-09",
        "ok": "yes",
        "t": True,
    }


def test_merge_keys() -> None:
    doc = parse_yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n", "f")
    assert doc.data["use"] == {"x": 1, "y": 3}


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("a: [1", "f:1:4", "YAML syntax: the '[' opened here is not closed"),
        ("a: 1\na: 2\n", "f:2:1", "appears twice"),
        ("- a\n---\n- b\n", "f:3:1", "more than one YAML document"),
        ("a: *nope\n", "f:1:4", "'*nope' refers to an anchor that is not defined"),
    ],
)
def test_broken_yaml_is_located(text: str, where: str, words: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_yaml(text, "f")
    problem = caught.value.problems[0]
    assert str(problem.where) == where
    assert words in problem.message


def test_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(InputError) as caught:
        parse_yaml("\n".join(lines), "f")
    assert "repeat its anchored values (&name) more than 200,000 times" in str(caught.value)


def test_a_large_file_without_aliases_is_no_bomb() -> None:
    posts = "".join(f"- {{id: p{i}, at: '2030-01-01 10:00', text: t{i}}}\n" for i in range(60_000))
    doc = parse_yaml(f"posts:\n{posts}", "f")
    assert len(doc.data["posts"]) == 60_000


def test_many_aliases_of_one_anchor_are_fine() -> None:
    text = "base: &b {x: 1, y: 2}\nuses:\n" + "- *b\n" * 50_000
    assert len(parse_yaml(text, "f").data["uses"]) == 50_000


@pytest.mark.parametrize("text", ["a: &a [1, *a]\n", "x: 1\na: &a {b: [2, *a]}\n"])
def test_an_anchor_that_holds_its_own_alias_is_a_loop(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_yaml(text, "f")
    (problem,) = caught.value.problems
    assert "holds an alias to itself" in problem.message
    assert problem.where.line == text.count("\n")


@given(
    st.lists(
        st.sampled_from(["a:", " b", ": ", "- ", "#x", '"', "'", "[", "]", "{", "}", "\t", "\n"])
        | st.text(max_size=4),
        max_size=30,
    ).map("".join)
)
def test_any_syntax_error_is_located_inside_the_text(text: str) -> None:
    try:
        parse_yaml(text, "f")
    except InputError as caught:
        lines = text.splitlines() or [""]
        for problem in caught.problems:
            assert 1 <= problem.where.line <= len(lines) + 1
            assert problem.where.col >= 1 and problem.message and problem.hint


def test_control_characters_are_located() -> None:
    with pytest.raises(InputError) as caught:
        parse_yaml("a: 1\ntext: ab\x1fc\n", "f")
    (problem,) = caught.value.problems
    assert (str(problem.where), problem.message) == (
        "f:2:9",
        "an invisible character (U+001F) that YAML does not allow",
    )


def test_tags_are_refused_rather_than_emptying_a_text() -> None:
    with pytest.raises(InputError) as caught:
        parse_yaml("text: !important news\n", "f")
    assert str(caught.value.problems[0].where) == "f:1:7"
    assert "'!'" in caught.value.problems[0].message
    assert parse_yaml("text: ! plain\nn: !!str 1\n", "f").data == {"text": "plain", "n": "1"}


def test_an_unreadable_file_is_located(tmp_path: Path) -> None:
    """Permissions cannot make a file unreadable to root, as CI runs: a folder where a file is
    read fails the same way (an OSError)."""
    with pytest.raises(InputError) as caught:
        read_yaml(tmp_path)
    (problem,) = caught.value.problems
    assert problem.message == "this is a folder, not a file: only regular files are read"
    assert str(problem.where) == f"{tmp_path}:1:1"


@pytest.mark.slow
def test_validate_takes_a_plan_of_more_values_than_the_alias_limit(tmp_path: Path) -> None:
    """Issue 7 point 19: 40,500 posts (202,500 values, no alias) are not an alias bomb."""
    import subprocess
    import sys

    posts = "".join(
        f"  - {{id: p{i}, at: '2030-01-01 10:00', text: 'post {i}', link: none}}\n"
        for i in range(40_500)
    )
    plan = tmp_path / "big.yaml"
    header = "campaign: big\ntitle: Big\ntimezone: UTC\nchannels: [mastodon-main]\nmin_gap: 0s\n"
    plan.write_text(f"{header}posts:\n{posts}")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "clarion"), "validate", str(plan)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert "alias" not in done.stdout
    assert done.stdout.endswith("0 errors, 0 warnings; 40,500 deliveries on 1 channel\n")
