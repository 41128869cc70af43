"""docs/design.md and the code keep each other true: every rule the code cites is written
there, under the number cited, and every file it names as enforcing or testing a rule exists."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DESIGN = ROOT / "docs" / "design.md"
CODE = ("campaigns", "connectors", "scheduler", "tests", "bench")

RULE = re.compile(r"^### Rule (\d+): ", re.MULTILINE)
CITED = re.compile(r"docs/design\.md\s+rules?\s+(\d+(?:(?:,\s*|\s+and\s+)\d+)*)")
NUMBERED = re.compile(r"\b(?:DESIGN\s+)?[Rr]ules?\s+\d")
NAMED = re.compile(r"`((?:campaigns|connectors|scheduler|tests|bench|docs)/[\w./-]+)`")


def sources() -> Iterator[Path]:
    """The Python files of the project, this one aside (its patterns would cite themselves)."""
    yield ROOT / "tasks.py"
    for top in CODE:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "node_modules" not in path.parts and path != Path(__file__).resolve():
                yield path


def citations() -> Iterator[tuple[str, re.Match[str]]]:
    """(file:line, match) for each "docs/design.md rule N" in the code."""
    for path in sources():
        text = path.read_text(encoding="utf-8")
        for found in CITED.finditer(text):
            line = text.count("\n", 0, found.start()) + 1
            yield f"{path.relative_to(ROOT)}:{line}", found


def test_the_rules_are_numbered_from_one_in_order() -> None:
    numbers = [int(n) for n in RULE.findall(DESIGN.read_text(encoding="utf-8"))]
    assert numbers == list(range(1, len(numbers) + 1)) and numbers


def test_every_rule_the_code_cites_is_written_in_design_md() -> None:
    written = set(RULE.findall(DESIGN.read_text(encoding="utf-8")))
    missing = [
        f"{where}: rule {number}"
        for where, found in citations()
        for number in re.findall(r"\d+", found.group(1))
        if number not in written
    ]
    assert not missing, "cited, but docs/design.md has no such rule:\n" + "\n".join(missing)


def test_a_rule_is_cited_with_the_page_it_is_written_on() -> None:
    """ "rule 4" alone, or "DESIGN rule 4", names no file a reader can open."""
    bare = []
    for path in sources():
        text = path.read_text(encoding="utf-8")
        cited = [found.span() for found in CITED.finditer(text)]
        for found in NUMBERED.finditer(text):
            if not any(start <= found.start() < end for start, end in cited):
                line = text.count("\n", 0, found.start()) + 1
                bare.append(f"{path.relative_to(ROOT)}:{line}: {found.group()!r}")
    assert not bare, "cite rules as 'docs/design.md rule N':\n" + "\n".join(bare)


def test_every_file_design_md_names_exists() -> None:
    named = NAMED.findall(DESIGN.read_text(encoding="utf-8"))
    gone = sorted({name for name in named if not (ROOT / name).exists()})
    assert named and not gone, (
        "docs/design.md names files that are not there (moved or renamed? update the page):\n"
        + "\n".join(gone)
    )
