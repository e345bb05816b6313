"""Prepared statements for the few reads and the one write every page runs.

`Model.objects.raw()` works out again, on every call, how to turn a row into an object: the
model's column order and each column's converters. For a forty-column row that costs ten
times the statement itself. `fetch` works it out once per model and connection, then only
runs the statement and builds the objects with `Model.from_db`, as the ORM does.

A statement reads the model's columns first, in the order `columns()` writes them, then
any extra column, which is set on the object under its name.

The statement itself runs on the driver's own cursor, with the placeholders the driver
expects, as Django's cursor would run it, without the wrappers Django puts around each call
(placeholder rewriting, thread checks, execute hooks). Whenever something listens to the
queries (a debug setting, `assertNumQueries`, an execute wrapper), it goes through Django's
cursor instead, so that every statement is seen and counted. `write_transaction` does the
same for a write made outside any transaction: the journal's append.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX
from django.db.models import Model

M = TypeVar("M", bound=Model)
R = TypeVar("R", bound=NamedTuple)

Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


@dataclass(frozen=True)
class _Plan:
    attnames: tuple[str, ...]
    # (position in the row, converters, the column expression they expect)
    converters: tuple[tuple[int, tuple[Converter, ...], Any], ...]


# Kept on the connection itself: a plan's converters are bound to that connection's
# operations, and go away with it; likewise each statement in the driver's placeholders.
_PLANS = "relais_prepared_plans"
_NATIVE = "relais_prepared_statements"


def _fields(model: type[Model], only: Sequence[str]) -> list[Any]:
    fields = model._meta.concrete_fields
    if not only:
        return list(fields)
    unknown = set(only) - {f.attname for f in fields}
    if unknown:
        raise ValueError(f"{model.__name__} n'a pas de colonne {', '.join(sorted(unknown))}.")
    if model._meta.pk.attname not in only:
        raise ValueError(f"La lecture de {model.__name__} doit inclure sa clé primaire.")
    return [f for f in fields if f.attname in only]


def columns(model: type[Model], alias: str, only: Sequence[str] = ()) -> str:
    """The select list of the model's columns (or of the `only` ones, by attribute name,
    the primary key included), in the order `fetch` reads them, qualified by the table
    alias. Quoted for the default database, the only one Relais uses."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in _fields(model, only))


def _plan(connection: BaseDatabaseWrapper, model: type[Model], only: tuple[str, ...]) -> _Plan:
    by_model: dict[tuple[type[Model], tuple[str, ...]], _Plan] = connection.__dict__.setdefault(
        _PLANS, {}
    )
    plan = by_model.get((model, only))
    if plan is None:
        fields = _fields(model, only)
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                converters.append((index, tuple(found), column))
        plan = _Plan(tuple(f.attname for f in fields), tuple(converters))
        by_model[(model, only)] = plan
    return plan


def _native(connection: BaseDatabaseWrapper, sql: str) -> str:
    """The statement with the driver's own placeholders: sqlite3 wants `?` where Django
    writes `%s`."""
    statements: dict[str, str] = connection.__dict__.setdefault(_NATIVE, {})
    native = statements.get(sql)
    if native is None:
        native = statements[sql] = FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
    return native


def rows(connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run a read and return its rows, with the checks Django's cursor makes before a
    statement: a connection found unusable is reopened, a broken transaction refused, and
    the driver's errors become Django's."""
    found: list[tuple[Any, ...]]
    if connection.queries_logged or connection.execute_wrappers:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        return found
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        if connection.vendor == "sqlite":
            # The driver's plain cursor: Django's own would rewrite the placeholders again.
            cursor, sql = connection.connection.cursor(), _native(connection, sql)
        else:
            cursor = connection.create_cursor()
        try:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        finally:
            cursor.close()
    return found


def _converted(connection: BaseDatabaseWrapper, plan: _Plan, row: tuple[Any, ...]) -> list[Any]:
    """The row's model columns, each turned into its Python value as the ORM turns it."""
    values = list(row[: len(plan.attnames)])
    for index, converters, column in plan.converters:
        for convert in converters:
            values[index] = convert(values[index], column, connection)
    return values


def fetch(
    model: type[M],
    sql: str,
    params: Sequence[Any],
    *,
    only: Sequence[str] = (),
    extra: Sequence[str] = (),
    using: BaseDatabaseWrapper | None = None,
) -> list[M]:
    connection = using or connections[DEFAULT_DB_ALIAS]
    plan = _plan(connection, model, tuple(only))
    width = len(plan.attnames)
    objects = []
    for row in rows(connection, sql, params):
        instance = model.from_db(connection.alias, plan.attnames, _converted(connection, plan, row))
        for name, value in zip(extra, row[width:], strict=True):
            setattr(instance, name, value)
        objects.append(instance)
    return objects


def records(
    model: type[Model], record: type[R], sql: str, params: Sequence[Any], *, only: Sequence[str]
) -> list[R]:
    """A few columns of many rows, for a page that only shows them: each row becomes a
    `record` (a NamedTuple whose fields are the `only` columns, in the model's order), its
    values converted as the ORM converts them, without building a model instance."""
    connection = connections[DEFAULT_DB_ALIAS]
    plan = _plan(connection, model, tuple(only))
    if tuple(record._fields) != plan.attnames:
        raise ValueError(
            f"{record.__name__} doit avoir les champs {', '.join(plan.attnames)}, dans cet ordre."
        )
    return [
        record._make(_converted(connection, plan, row)) for row in rows(connection, sql, params)
    ]


Run = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


@contextmanager
def write_transaction(connection: BaseDatabaseWrapper) -> Iterator[Run]:
    """A transaction for a few prepared statements: committed at the end of the block,
    rolled back if the block raises. Yields a function that runs one statement and returns
    its rows.

    Inside an enclosing `transaction.atomic()`, the statements join it. Outside, under
    SQLite and when nothing listens to the queries, the transaction is the driver's own
    (BEGIN IMMEDIATE … COMMIT on its plain cursor), as `rows` reads: Django's transaction
    and cursor machinery costs more than the statements themselves, and the journal is
    written this way on every page that shows a file. Nothing but the yielded function may
    touch the database inside the block: Django does not know of the driver's transaction.
    """
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    if (
        connection.vendor != "sqlite"
        or connection.in_atomic_block
        or not connection.get_autocommit()
        or connection.queries_logged
        or connection.execute_wrappers
    ):
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:

            def run_in_django(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
                cursor.execute(sql, params)
                found: list[tuple[Any, ...]] = cursor.fetchall() if cursor.description else []
                return found

            yield run_in_django
        return
    driver = connection.connection
    with connection.wrap_database_errors, closing(driver.cursor()) as driver_cursor:

        def run(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
            driver_cursor.execute(_native(connection, sql), params)
            found: list[tuple[Any, ...]] = driver_cursor.fetchall()
            return found

        driver_cursor.execute("BEGIN IMMEDIATE")
        try:
            yield run
            driver_cursor.execute("COMMIT")
        except BaseException:
            driver.rollback()
            raise
