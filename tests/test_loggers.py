"""Every module logs under a `clarion.<part>` name, and each name is in the table of
docs/configuration.md that tells an operator what it says: a logger named by `__name__`
(`scheduler.reload`) would sit outside `clarion` and outside the table."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("campaigns", "connectors", "scheduler")
TABLE_ROW = re.compile(r"^\| `(clarion\.[a-z.]+)` \|", re.MULTILINE)


def _get_logger(node: ast.stmt) -> ast.Call | None:
    """The `logging.getLogger(...)` call a top-level assignment makes, if it makes one."""
    value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
    if not isinstance(value, ast.Call):
        return None
    func = value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return value if name == "getLogger" else None


def module_loggers() -> Iterator[tuple[str, ast.expr | None]]:
    """(file:line, the name given) for each logger a module keeps at its top level."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                call = _get_logger(node)
                if call is not None:
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    yield where, call.args[0] if call.args else None


def logger_names() -> dict[str, str]:
    """Each module logger's name, with where it is made (the first place)."""
    names: dict[str, str] = {}
    for where, arg in module_loggers():
        assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), (
            f"{where}: name the logger 'clarion.<part>', as a string"
        )
        names.setdefault(arg.value, where)
    return names


def documented() -> list[str]:
    return TABLE_ROW.findall((ROOT / "docs" / "configuration.md").read_text(encoding="utf-8"))


def test_the_modules_have_loggers() -> None:
    assert {"clarion.daemon", "clarion.deliveries", "clarion.dispatch"} <= set(logger_names())


def test_every_module_logger_is_named_clarion_something() -> None:
    outside = {n: w for n, w in logger_names().items() if not n.startswith("clarion.")}
    assert outside == {}


def test_every_logger_is_in_the_operators_table_and_the_table_holds_no_other() -> None:
    table = documented()
    assert len(table) == len(set(table)), "a logger has two rows"
    missing = {n: w for n, w in logger_names().items() if n not in table}
    assert missing == {}, "add a row for each to the loggers' table in docs/configuration.md"
    assert set(table) == set(logger_names()), "the table names a logger no module has"
