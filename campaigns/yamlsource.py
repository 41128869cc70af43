"""YAML that remembers where every value came from.

PyYAML composes the node tree (with libyaml when present); we build plain Python values from
it ourselves so that each value keeps its `file:line:col`. Scalars follow the YAML 1.2 core
schema: only `true`/`false` are booleans (so the language code `no` stays a string), `10:30`
is text rather than a base-60 number, and dates and times stay text for our own parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from campaigns.problems import InputError, Location, Problem, Problems
from campaigns.textfile import UnreadableText, read_text
from campaigns.yamlerrors import explain

PathKey = tuple[str | int, ...]

try:
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """A loader whose implicit types are YAML 1.2 core, not YAML 1.1."""

    yaml_implicit_resolvers: ClassVar[dict[str | None, list[tuple[str, re.Pattern[str]]]]] = {}


_CORE_RESOLVERS = [
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
]
for _tag, _pattern, _first in _CORE_RESOLVERS:
    _Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))

_MAX_NODES = 200_000
"""Guards against alias bombs: anchors and aliases may add at most this many values to a
document. Values written out in the file are not counted: their number is bounded by the
file's size, and a plan of 100,000 posts is not a bomb."""


@dataclass(slots=True)
class SourceMap:
    """Locations of values and of the keys that name them, by path from the root."""

    file: str
    values: dict[PathKey, Location] = field(default_factory=dict)
    keys: dict[PathKey, Location] = field(default_factory=dict)

    def value(self, path: PathKey) -> Location:
        """Where the value at `path` starts, or its nearest located ancestor."""
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return Location(self.file, 1, 1)

    def key(self, path: PathKey) -> Location:
        """Where the key naming `path` stands (for unknown or misspelt keys)."""
        return self.keys.get(path) or self.value(path)


@dataclass(slots=True)
class Document:
    file: str
    data: Any
    source: SourceMap
    path: PathKey = ()
    """Where `data` stands in its file, when it is a part of it (one post, say)."""


def _location(file: str, mark: yaml.Mark) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, file: str, problems: Problems) -> None:
        self.file = file
        self.problems = problems
        self.source = SourceMap(file)
        self.count = 0
        self.seen: set[int] = set()
        """Nodes built once: building one again means an alias repeats it."""
        self.open: set[int] = set()
        """Nodes being built (the current one and its ancestors)."""

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        if id(node) in self.seen:  # reached again, through an alias or a merge
            if id(node) in self.open:
                raise _Loop(node)
            self.count += 1
            if self.count > _MAX_NODES:
                raise _TooLarge(node)
        else:
            self.seen.add(id(node))
        self.open.add(id(node))
        try:
            return self._build(node, path)
        finally:
            self.open.discard(id(node))

    def _build(self, node: yaml.Node, path: PathKey) -> Any:
        self.source.values.setdefault(path, _location(self.file, node.start_mark))
        if node.tag.startswith("!") and node.tag != "!":
            self.problems.error(
                _location(self.file, node.start_mark),
                "a value cannot start with '!' unless it is in quotes ('!' marks a YAML tag)",
                f'put the whole text in double quotes, such as "{node.tag} ..."',
            )
            return None
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.MappingNode)
        return self._mapping(node, path)

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                for source in self._merge_sources(value_node):
                    for k, v in self._mapping(source, path).items():
                        merged.setdefault(k, v)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.error(
                    _location(self.file, key_node.start_mark),
                    "a key must be a plain word, not a list or a mapping",
                )
                continue
            key = self._scalar(key_node)
            where = _location(self.file, key_node.start_mark)
            if key in result:
                first = self.source.keys[(*path, key)]
                hint = "remove or rename one of them: YAML would silently keep only the last"
                if path and isinstance(path[-1], int):
                    hint += "; if this line starts a new item of the list, begin it with '- '"
                self.problems.error(
                    where,
                    f"'{key}' appears twice in the same mapping (first at line {first.line})",
                    hint,
                )
                continue
            self.source.keys[(*path, key)] = where
            result[key] = self.build(value_node, (*path, key))
        for k, v in merged.items():
            result.setdefault(k, v)
        return result

    def _merge_sources(self, node: yaml.Node) -> Iterator[yaml.MappingNode]:
        if isinstance(node, yaml.MappingNode):
            yield node
        elif isinstance(node, yaml.SequenceNode) and all(
            isinstance(n, yaml.MappingNode) for n in node.value
        ):
            yield from node.value
        else:
            self.problems.error(
                _location(self.file, node.start_mark),
                "'<<' must name a mapping (an anchor such as *defaults) or a list of them",
            )

    def _scalar(self, node: yaml.Node) -> Any:
        value: str = node.value
        tag = node.tag
        problem = text_problem(value)
        if problem is not None:
            message, hint = problem
            self.problems.error(_location(self.file, node.start_mark), message, hint)
            return None
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return value.lower() == "true"
        if tag == "tag:yaml.org,2002:int":
            try:
                return int(value, 0) if value[:2] in ("0o", "0x") else int(value)
            except ValueError:
                return value
        if tag == "tag:yaml.org,2002:float":
            try:
                return float(value.replace(".inf", "inf").replace(".Inf", "inf"))
            except ValueError:
                return value
        return value


MAX_TEXT = 100_000
"""The longest single value (a post's text, say): above every platform's own limit (Facebook's
63,206 characters is the highest), and low enough that checking a post stays quick."""
MAX_PLACEHOLDERS = 100
"""The most `{name}` placeholders in one value; a post needs one `{link}` at most."""
_PLACEHOLDER = re.compile(r"\{\w+\}")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters other than tab and line break, and the bidirectional embeddings,
overrides and isolates. They can only come from escapes in double quotes (YAML refuses them
written raw): terminal escapes would reach the terminal of whoever previews the plan, and a
right-to-left override turns the rest of a post around on the platform. The marks U+200E,
U+200F and U+061C that right-to-left writing uses stay allowed."""


def printable(text: str) -> str:
    """`text` with each control character shown as an escape (`\\x1b`), so that writing it
    to a terminal can neither move the cursor nor retitle the window."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def text_problem(value: str) -> tuple[str, str] | None:
    """What makes `value` unfit for a campaign or config file, as (message, hint)."""
    if len(value) > MAX_TEXT:
        return (
            f"this value is {len(value):,} characters long; at most {MAX_TEXT:,} are allowed",
            "no platform takes a post this long; check for text pasted more than once",
        )
    control = _CONTROL.search(value)
    if control is not None:
        code = ord(control.group())
        bidi = code >= 0x202A
        kind = "a bidirectional text control" if bidi else "a control character"
        return (
            f"{kind} (U+{code:04X}) at character {control.start() + 1} of this value",
            "remove it: only line breaks and tabs may be written as escapes"
            + ("; to set the direction of a word use the marks \\u200E or \\u200F" if bidi else ""),
        )
    if len(_PLACEHOLDER.findall(value)) > MAX_PLACEHOLDERS:
        return (
            f"this value holds more than {MAX_PLACEHOLDERS} placeholders such as {{link}}",
            "a post needs {link} once at most",
        )
    return None


class _TooLarge(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


class _Loop(_TooLarge):
    """An alias inside the value of its own anchor."""


def parse_yaml(text: str, file: str) -> Document:
    """Parse one YAML document; raises InputError listing every problem found."""
    problems = Problems()
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        raise InputError([explain(exc, text, file)]) from None
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        where = Location(file, before.count("\n") + 1, len(before) - before.rfind("\n"))
        character = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise InputError(
            [
                Problem(
                    "error",
                    f"an invisible character (U+{character:04X}) that YAML does not allow",
                    where,
                    "delete it and type the text around it again: such characters often come "
                    "from copying text out of another application",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem("error", f"YAML: {exc}", Location(file, 1, 1))]) from None
    if len(nodes) > 1:
        second = nodes[1]
        raise InputError(
            [
                Problem(
                    "error",
                    "this file holds more than one YAML document ('---')",
                    _location(file, second.start_mark),
                    "put each campaign in a file of its own",
                )
            ]
        )
    if not nodes or nodes[0] is None:
        return Document(file, None, SourceMap(file))
    builder = _Builder(file, problems)
    try:
        data = builder.build(nodes[0], ())
    except _Loop as exc:
        problems.error(
            _location(file, exc.node.start_mark),
            "this anchor (&name) holds an alias to itself (*name), so it never ends",
            "an alias can only repeat a value whose anchor is complete: remove the alias "
            "from inside the value it names",
        )
        raise InputError(problems.sorted()) from None
    except _TooLarge as exc:
        problems.error(
            _location(file, exc.node.start_mark),
            f"the aliases in this file (*name) repeat its anchored values (&name) more than "
            f"{_MAX_NODES:,} times",
            "aliases that refer to anchors holding aliases multiply: write those values out, "
            "or use fewer levels of aliases",
        )
        raise InputError(problems.sorted()) from None
    except RecursionError:
        raise InputError(
            [Problem("error", "this file is nested too deeply", Location(file, 1, 1))]
        ) from None
    if problems.has_errors():
        raise InputError(problems.sorted())
    return Document(file, data, builder.source)


MAX_FILE_SIZE = 4 * 1024**2
"""The largest campaign or config file read: the example campaign, 80 posts a year in eight
languages, is 24 kB."""


def read_yaml(path: Path, display: str | None = None) -> Document:
    """Read a YAML file; unreadable, oversized or undecodable files are located errors too."""
    name = display or str(path)
    try:
        text = read_text(path, MAX_FILE_SIZE)
    except UnreadableText as exc:
        where = Location(name, exc.line, exc.col)
        raise InputError([Problem("error", exc.message, where, exc.hint)]) from None
    return parse_yaml(text, name)
