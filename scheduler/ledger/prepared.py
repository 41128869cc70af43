"""SQLite: the dispatch path's statements compiled once and run on the driver's own connection.

Every delivery in a burst runs the same few statements (the finish, the claim of the next,
their history lines), one after another on the group commit's leader (`groupcommit`), the one
writer that every channel waits on. Through SQLAlchemy's `Connection.execute`, most of each
statement's time was SQLAlchemy's, not SQLite's: building the parameters (each `now` converted
once per place it appears), an execution context, events and a result object. Here a statement
is compiled once for the engine's dialect; each run converts each named parameter once, with
the same converters SQLAlchemy uses (the ledger's own `UtcDateTime`, JSON), executes the SQL on
the sqlite3 connection under the SQLAlchemy connection, in its transaction, and converts the
columns it returns the same way. A driver error is raised as SQLAlchemy's `DBAPIError`, as
`Connection.execute` would, so the ledger reports it the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.expression import ClauseElement, Select

Convert = Callable[[Any], Any] | None


class Prepared:
    """A statement compiled once for SQLite (qmark parameters), run without SQLAlchemy's
    execution machinery."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        if dialect.paramstyle != "qmark" or compiled.positiontup is None:
            raise ValueError(f"not a qmark dialect: {dialect.name}")
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a statement rendered anew at each execution cannot be prepared")
        self.sql = compiled.string
        self._dialect = dialect
        converters: dict[str, Convert] = {}
        fixed: dict[str, Any] = {}
        for name, bind in compiled.binds.items():
            converters[name] = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if not bind.required:
                fixed[name] = bind.effective_value
        self._order = [(name, converters[name]) for name in compiled.positiontup]
        self._fixed = fixed
        self._names = {name for name, _ in self._order} - set(fixed)
        returned: Sequence[Any] = ()
        if isinstance(statement, Select):
            returned = list(statement.selected_columns)
        elif isinstance(statement, UpdateBase) and statement._returning:
            returned = list(statement.exported_columns)
        self.columns = [column.name for column in returned]
        self._results: list[Convert] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in returned
        ]

    def parameters(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional parameters, each named parameter converted once."""
        converted: dict[str, Any] = {}
        for name, convert in self._order:
            if name in converted:
                continue
            value = params[name] if name in params else self._fixed[name]
            converted[name] = value if convert is None else convert(value)
        return tuple(converted[name] for name, _ in self._order)

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> Any:
        """The sqlite3 cursor, executed in `connection`'s transaction. The engine's cursor
        events (`before_cursor_execute`, `after_cursor_execute`) fire as for any statement,
        so whatever watches the ledger's statements sees these too."""
        driver = connection.connection.driver_connection
        assert driver is not None
        values = self.parameters(params)
        cursor = driver.cursor()
        events = connection.dispatch
        if events.before_cursor_execute:
            events.before_cursor_execute(connection, cursor, self.sql, values, None, False)
        try:
            cursor.execute(self.sql, values)
        except self._dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                self.sql, values, exc, self._dialect.loaded_dbapi.Error, dialect=self._dialect
            ) from exc
        if events.after_cursor_execute:
            events.after_cursor_execute(connection, cursor, self.sql, values, None, False)
        return cursor

    def first(self, connection: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row it returns, by column name, converted; None if none."""
        rows = self.all(connection, params)
        return rows[0] if rows else None

    def all(self, connection: Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The rows it returns, by column name, converted."""
        return [
            {
                name: value if convert is None or value is None else convert(value)
                for name, convert, value in zip(self.columns, self._results, found, strict=True)
            }
            for found in self.execute(connection, params).fetchall()
        ]
