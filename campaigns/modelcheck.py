"""Check a YAML document against a pydantic model; report each mistake at its place.

pydantic finds wrong types, missing and unknown keys; this module turns its errors into
`file:line:col` problems in a campaign manager's words, with "did you mean" for misspelt keys
and where a key written in the wrong place belongs.
A validator raises HintedError to give the problem a hint of its own.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from campaigns.problems import HintedError, Problem
from campaigns.wording import closest
from campaigns.yamlsource import Document, PathKey

M = TypeVar("M", bound=BaseModel)

_KIND_WORDS = {
    "str": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "list": "a list",
    "dict": "a mapping (key: value lines)",
    "NoneType": "nothing",
}


@dataclass(frozen=True, slots=True)
class Guidance:
    """What a file's model can tell beyond pydantic's errors."""

    root: type[BaseModel] | None = None
    """The model of the whole file, to say where a key written in the wrong place belongs."""
    shapes: Mapping[str, str] = field(default_factory=dict)
    """A hint by field name (`media`; `media[]` for one of its items) for a value of the wrong
    kind, such as a text where a list of media is expected."""
    short_names: bool = False
    """Name a value by its key alone (`'title'`, `item 2 of 'hashtags'`), for readers who find
    it by its line, rather than by its path (`'defaults.hashtags[1]'`)."""


def check_model(
    model: type[M],
    doc: Document,
    context: dict[str, Any] | None = None,
    guidance: Guidance | None = None,
) -> tuple[M | None, list[Problem]]:
    try:
        return model.model_validate(doc.data, context=context), []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        return None, _problems(model, doc, errors, guidance or Guidance(root=model))


_TYPE_ERRORS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
    "list_type": "a list",
    "literal_error": "",
}


def _problems(
    model: type[BaseModel], doc: Document, errors: list[Any], guidance: Guidance
) -> list[Problem]:
    """One problem per place: when a value could take several shapes (text, or one text per
    language; 'none', an address or a mapping), say what it may be once, and prefer what went
    wrong inside the shape the value has: the error found deepest, or a validator's message."""
    located = [(_data_path(doc, tuple(err["loc"])), err) for err in errors]
    paths = {path for path, _ in located}
    explained = {path for path, err in located if err["type"] == "value_error"}
    misspelt = {
        (path[:-1], close)
        for path, err in located
        if err["type"] == "extra_forbidden" and path
        for close in difflib.get_close_matches(str(path[-1]), _allowed_keys(model, err["loc"][:-1]))
    }
    shapes: dict[PathKey, list[Any]] = {}
    problems: list[Problem] = []
    for path, err in located:
        if err["type"] == "missing" and (path[:-1], err["loc"][-1]) in misspelt:
            continue  # said once, as "unknown key 'tittle'; did you mean 'title'?"
        if err["type"] not in _TYPE_ERRORS:
            problems.append(_problem(model, doc, path, err, guidance))
            continue
        deeper = any(other[: len(path)] == path and len(other) > len(path) for other in paths)
        if not deeper and path not in explained:
            shapes.setdefault(path, []).append(err)
    wanted: dict[PathKey, list[str]] = {}
    for path, found in shapes.items():
        if len(found) == 1 and found[0]["type"] == "literal_error":
            problems.append(_problem(model, doc, path, found[0], guidance))
            continue
        kinds = wanted.setdefault(path, [])
        for err in found:
            kind = _TYPE_ERRORS[err["type"]] or str(err["ctx"]["expected"])
            if kind not in kinds:
                kinds.append(kind)
    for path, kinds in wanted.items():
        value = _value_at(doc.data, path)
        name = _field((*doc.path, *path), guidance)
        message = f"{name} should be {' or '.join(kinds)}, not {_kind(value)}"
        hint = _shape_hint((*doc.path, *path), guidance)
        if value is None:
            message = f"{name} is empty"
            hint = "write a value here" + (
                "; a '#' starts a comment in YAML, so put a hashtag or a text that starts "
                "with '#' in quotes, such as \"#SayNo\""
                if "text" in kinds
                else ""
            )
        elif hint is None and "text" in kinds and isinstance(value, int | float | bool):
            hint = "put it in quotes"
        elif hint is None and "a list" in kinds:
            hint = "write it as [a, b] or as lines starting with '- '"
        problems.append(Problem("error", message, doc.source.value(path), hint))
    return problems


def _shape_hint(path: PathKey, guidance: Guidance) -> str | None:
    names = [part for part in path if isinstance(part, str)]
    if not names:
        return None
    item = isinstance(path[-1], int)
    return guidance.shapes.get(f"{names[-1]}[]" if item else names[-1])


def _value_at(data: Any, path: PathKey) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _field(path: PathKey, guidance: Guidance) -> str:
    """How a message names the value at `path`."""
    if not path:
        return "this file"
    if not guidance.short_names:
        text = ""
        for part in path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
        return f"'{text}'"
    names = [part for part in path if isinstance(part, str)]
    if isinstance(path[-1], int):
        return f"item {path[-1] + 1} of '{names[-1]}'" if names else f"item {path[-1] + 1}"
    return f"'{path[-1]}'"


def _data_path(doc: Document, loc: Sequence[str | int]) -> PathKey:
    """The part of pydantic's location that names real keys in the document.

    pydantic inserts the name of the union member it tried ("str", "list[...]", a function
    name); those are dropped by following the data itself.
    """
    path: list[str | int] = []
    node = doc.data
    for part in loc:
        if (
            isinstance(part, str)
            and _is_union_tag(part)
            and not (isinstance(node, dict) and part in node)
        ):
            continue
        present = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if present:
            node = node[part]
            path.append(part)
        elif isinstance(node, dict | list):
            path.append(part)
            break
    return tuple(path)


def _is_union_tag(part: str) -> bool:
    """pydantic names the member of a union it tried: a type ("str", "list[...]"), a validator
    ("function-after[...]"), a literal ("literal['none']") or a model class ("LinkSpec")."""
    return (
        any(c in part for c in "[]()")
        or part in _KIND_WORDS
        or part.startswith("function-")
        or (part[:1].isupper() and part.isidentifier())
    )


def _kind(value: Any) -> str:
    return _KIND_WORDS.get(type(value).__name__, type(value).__name__)


def _problem(
    model: type[BaseModel], doc: Document, path: PathKey, err: Any, guidance: Guidance
) -> Problem:
    loc: tuple[str | int, ...] = tuple(err["loc"])
    kind: str = err["type"]
    where = doc.source.value(path)
    hint: str | None = None
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else str(loc[-1])
        where = doc.source.key(path)
        allowed = _allowed_keys(model, list(loc[:-1]))
        message = f"unknown key '{key}'"
        close = closest(key, allowed)
        homes = _homes(guidance.root or model).get(key, [])
        if close:
            hint = f"did you mean '{close}'?"
            if homes:
                hint += f" ('{key}' belongs {' or '.join(homes)})"
        elif homes:
            hint = f"'{key}' belongs {' or '.join(homes)}, not here"
        elif allowed:
            hint = "allowed here: " + ", ".join(sorted(allowed))
    elif kind == "missing":
        missing = str(loc[-1])
        message = f"'{missing}' is missing"
        where = doc.source.value(path[:-1] if path and path[-1] == missing else path)
        hint = f"add a line '{missing}: ...' here"
    elif kind == "literal_error":
        expected = str(err["ctx"]["expected"])
        message = f"{_field((*doc.path, *path), guidance)} should be {expected}"
        choices = re.findall(r"'([^']*)'", expected)
        close = closest(str(err.get("input")), choices)
        if close:
            hint = f"did you mean '{close}'?"
    elif kind == "value_error" and "ctx" in err:
        message, hint = HintedError.parts(err["ctx"]["error"])
    elif kind == "value_error":
        message = err["msg"]
    else:
        message = f"{_field((*doc.path, *path), guidance)}: {err['msg'][0].lower()}{err['msg'][1:]}"
    return Problem("error", message, where, hint)


def _allowed_keys(model: type[BaseModel], loc: list[str | int]) -> list[str]:
    """Keys a model accepts at `loc`, following fields, lists, dicts and unions."""
    current: Any = model
    for part in loc:
        if isinstance(part, str) and _is_union_tag(part):
            continue
        current = _step(current, part)
        if current is None:
            return []
    models = [m for m in _members(current) if isinstance(m, type) and issubclass(m, BaseModel)]
    keys: list[str] = []
    for m in models:
        for name, info in m.model_fields.items():
            keys.append(info.alias or name)
    return keys


def _members(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return [m for arg in typing.get_args(tp) for m in _members(arg)]
    if origin is typing.Annotated:
        return _members(typing.get_args(tp)[0])
    return [tp]


def _step(tp: Any, part: str | int) -> Any:
    for member in _members(tp):
        origin = typing.get_origin(member)
        args = typing.get_args(member)
        if isinstance(member, type) and issubclass(member, BaseModel) and isinstance(part, str):
            for name, info in member.model_fields.items():
                if part in (name, info.alias):
                    return info.annotation
        elif origin in (list, tuple, Sequence) and isinstance(part, int) and args:
            return args[0]
        elif origin is dict and args:
            return args[1]
    return None


@cache
def _homes(root: type[BaseModel]) -> dict[str, list[str]]:
    """Every key a file may hold, and where: "under 'defaults:'", "at the top of the file"."""
    found: dict[str, list[str]] = {}
    seen: set[type[BaseModel]] = set()
    queue: list[tuple[type[BaseModel], str]] = [(root, "at the top of the file (not indented)")]
    while queue:
        model, where = queue.pop(0)
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            key = info.alias or name
            if where not in found.setdefault(key, []):
                found[key].append(where)
            origin = typing.get_origin(info.annotation)
            inside = [a for a in typing.get_args(info.annotation) if a is not type(None)]
            if origin in (typing.Union, types.UnionType) and len(inside) == 1:
                origin = typing.get_origin(inside[0])
            label = "in each item of" if origin is list else "under"
            label = "in each entry of" if origin is dict else label
            for inner in _models_in(info.annotation):
                queue.append((inner, f"{label} '{key}:'"))
    return found


def _models_in(tp: Any) -> list[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    return [m for arg in typing.get_args(tp) for m in _models_in(arg)]
