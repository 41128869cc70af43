"""Large regular expressions compiled once per installation instead of once per process.

Python's `re.compile` parses and compiles a pattern in Python code; only the last step, building
the matcher from the compiled program (a list of integers), is in C. The X and Mastodon
patterns (tens of kB of top-level-domain lists and Unicode classes) take about 0.13 s to
compile, a quarter of `clarion validate` on a large plan. `compile_cached` keeps each compiled
program beside the package's bytecode (`__pycache__`, written under the same rules: not when
Python is told not to write bytecode, silently not when the folder is read-only) and builds the
matcher from it on later runs: a pattern equal to the one `re.compile` returns (same pattern,
flags and program). The file is keyed by Python's exact version and the pattern's text: any
mismatch, or anything unreadable, and the pattern is compiled again.

A pattern whose text itself takes time to build (Mastodon's URL pattern holds a trie of the
top-level domains, 5 ms to write) goes through `compile_built`: its text is stored with its
program, keyed by the source files of the modules it is built from, and built only when one of
them changes.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import sys
from collections.abc import Callable
from importlib import import_module
from importlib.util import cache_from_source
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["compile_built", "compile_cached"]

_Program = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]
"""What `re._compiler.compile` hands to `_sre.compile` besides the pattern: all flags, the
program, the number of groups, and the group names both ways."""

_FOLDER = Path(cache_from_source(__file__)).parent

_sre: Any
_parser: Any
_compiler: Any
try:  # CPython's engine (the `re` module's own internals, stable within a Python version)
    _sre = import_module("_sre")
    _parser = import_module("re._parser")
    _compiler = import_module("re._compiler")
except ImportError:  # pragma: no cover - other Pythons compile every time
    _sre = None


def compile_cached(name: str, pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile(pattern, flags)`, from the program stored under `name` when it is there."""
    if _sre is None or sys.implementation.name != "cpython":  # pragma: no cover
        return re.compile(pattern, flags)
    key = _key(pattern, flags)
    path = _FOLDER / f"{name}.{sys.implementation.cache_tag}.sre"
    try:
        stored_key, stored = marshal.loads(path.read_bytes())
        if stored_key == key:
            return _build(pattern, stored)
    except Exception:  # missing, stale or damaged: compile it again
        pass
    program = _program(pattern, flags)
    compiled = _build(pattern, program)
    if not sys.dont_write_bytecode:
        _store(path, (key, program))
    return compiled


def compile_built(
    name: str, build: Callable[[], str], flags: int, sources: tuple[ModuleType, ...]
) -> re.Pattern[str]:
    """`compile_cached(name, build(), flags)`, where `build` writes the pattern from the code
    and data of the modules `sources`: the text and program stored under `name` are used while
    those modules' files are as they were when it was stored."""
    if _sre is None or sys.implementation.name != "cpython":  # pragma: no cover
        return re.compile(build(), flags)
    try:
        written = "\0".join(Path(str(module.__file__)).read_text("utf-8") for module in sources)
    except (OSError, TypeError, UnicodeDecodeError):  # pragma: no cover - no source to key by
        return compile_cached(name, build(), flags)
    key = _key(written, flags)
    path = _FOLDER / f"{name}.{sys.implementation.cache_tag}.sre"
    try:
        stored_key, pattern, stored = marshal.loads(path.read_bytes())
        if stored_key == key:
            return _build(pattern, stored)
    except Exception:  # missing, stale or damaged: build and compile it again
        pass
    pattern = build()
    program = _program(pattern, flags)
    compiled = _build(pattern, program)
    if not sys.dont_write_bytecode:
        _store(path, (key, pattern, program))
    return compiled


def _key(pattern: str, flags: int) -> str:
    text = f"{sys.version}\0{_sre.MAGIC}\0{_sre.CODESIZE}\0{flags}\0{pattern}"
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _program(pattern: str, flags: int) -> _Program:
    parsed = _parser.parse(pattern, flags)
    code = [int(op) for op in _compiler._code(parsed, flags)]  # plain ints, not named opcodes
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for group, index in groupindex.items():
        indexgroup[index] = group
    all_flags = int(flags | parsed.state.flags)
    return all_flags, code, parsed.state.groups - 1, groupindex, tuple(indexgroup)


def _build(pattern: str, program: _Program) -> re.Pattern[str]:
    flags, code, groups, groupindex, indexgroup = program
    compiled: re.Pattern[str] = _sre.compile(pattern, flags, code, groups, groupindex, indexgroup)
    return compiled


def _store(path: Path, record: tuple[str, _Program] | tuple[str, str, _Program]) -> None:
    import tempfile  # here: once per installation

    try:
        path.parent.mkdir(exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(marshal.dumps(record))
            os.chmod(temporary, 0o644)  # readable by every user, as bytecode is
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        pass  # a read-only installation compiles the pattern in each process, as Python would
