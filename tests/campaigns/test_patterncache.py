from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest

from campaigns import _mastodon_text, _twitter_text, patterncache
from campaigns import _twitter_text_data as data
from campaigns.patterncache import compile_built, compile_cached


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(patterncache, "_FOLDER", tmp_path)
    monkeypatch.setattr("sys.dont_write_bytecode", False)
    return tmp_path


PATTERNS = [
    (data.EXTRACT_URL, 0),
    (data.VALID_HASHTAG, 0),
    (data.TWEMOJI, 0),
    (_mastodon_text._url_pattern(), re.IGNORECASE),
    (r"(?P<word>\w+)(?:-(\d+))?", re.IGNORECASE | re.VERBOSE),
]


@pytest.mark.parametrize(("pattern", "flags"), PATTERNS)
def test_a_stored_pattern_is_the_one_re_compiles(folder: Path, pattern: str, flags: int) -> None:
    expected = re.compile(pattern, flags)
    first = compile_cached("p", pattern, flags)
    assert list(folder.glob("p.*.sre"))
    again = compile_cached("p", pattern, flags)
    for compiled in (first, again):
        assert compiled == expected  # same pattern, flags and program
        assert (compiled.groups, compiled.groupindex) == (expected.groups, expected.groupindex)


def test_a_changed_pattern_is_compiled_again_and_stored(folder: Path) -> None:
    compile_cached("p", "a+", 0)
    assert compile_cached("p", "b+", 0) == re.compile("b+")
    assert compile_cached("p", "b+", re.IGNORECASE) == re.compile("b+", re.IGNORECASE)
    (stored,) = folder.glob("p.*.sre")
    stored.write_bytes(b"damaged")
    assert compile_cached("p", "b+", 0) == re.compile("b+")


def test_nothing_is_written_when_python_writes_no_bytecode(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.dont_write_bytecode", True)
    assert compile_cached("p", "a+", 0) == re.compile("a+")
    assert not list(folder.iterdir())


def test_a_read_only_folder_is_no_error(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(patterncache, "_FOLDER", tmp_path / "file" / "below")
    (tmp_path / "file").write_text("not a folder")
    assert compile_cached("p", "a+", 0) == re.compile("a+")


def test_the_text_modules_compile_through_the_cache(folder: Path) -> None:
    for compiled in (_twitter_text._url_patterns, _twitter_text._hashtag_patterns):
        compiled.cache_clear()
    _mastodon_text._patterns.cache_clear()
    _twitter_text.extract_hashtags("#a https://example.org/#b")
    _mastodon_text.url_spans("https://example.org")
    assert {p.name.split(".")[0] for p in folder.glob("*.sre")} == {
        "x-url",
        "x-hashtag",
        "mastodon-url",
    }


def test_a_built_pattern_is_built_only_while_its_modules_change(
    folder: Path, tmp_path: Path
) -> None:
    source = tmp_path / "tlds.py"
    source.write_text("TLDS = ('org', 'com')\n", encoding="utf-8")
    module = ModuleType("tlds")
    module.__file__ = str(source)
    built: list[str] = []

    def build() -> str:
        built.append(source.read_text(encoding="utf-8"))
        return "example\\.(?:org|com)" if "com" in built[-1] else "example\\.org"

    expected = re.compile("example\\.(?:org|com)", re.IGNORECASE)
    for _ in range(2):
        compiled = compile_built("b", build, re.IGNORECASE, (module,))
        assert compiled == expected
        assert (compiled.groups, compiled.groupindex) == (expected.groups, expected.groupindex)
    assert len(built) == 1  # the second time, read: neither built nor compiled
    source.write_text("TLDS = ('org',)\n", encoding="utf-8")
    assert compile_built("b", build, re.IGNORECASE, (module,)) == re.compile(
        "example\\.org", re.IGNORECASE
    )
    assert len(built) == 2
    (stored,) = folder.glob("b.*.sre")
    stored.write_bytes(b"damaged")
    assert compile_built("b", build, re.IGNORECASE, (module,)).pattern == "example\\.org"


def test_mastodon_s_url_pattern_read_back_is_the_one_it_builds(folder: Path) -> None:
    for _ in range(2):
        _mastodon_text._patterns.cache_clear()
        compiled = _mastodon_text._patterns().url
        assert compiled == re.compile(_mastodon_text._url_pattern(), re.IGNORECASE)
