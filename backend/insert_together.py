"""New rows of several tables written in one round trip, pointing at each other.

A series booking writes five tables (the series, its visits, their staff, the
change record and its reminders); ``create`` and ``bulk_create`` cost one
statement each, and the ORM's work to build it. Here the rows' primary keys
are drawn from their tables' sequences first (one query for all tables), so a
visit can name its series before either is written, and then every row goes
in with one statement of data-modifying CTEs.

Each column gets what ``save()`` would write: the field's ``pre_save``
(``auto_now`` and friends) then ``get_db_prep_save``, with the field's own
placeholder (arrays carry their type). Constraints apply as for any insert: a
violation raises ``IntegrityError`` and nothing of the statement is written.
No signals are sent, as with ``bulk_create``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field, ForeignKey, Model


def draw_primary_keys(*batches: Sequence[Model]) -> None:
    """Give every new object its primary key from its table's sequence (identity or serial): one query.

    Call it first when values depend on the keys (a change record listing its visits' ids).
    """
    filled = [list(batch) for batch in batches if batch]
    if not filled:
        return
    for batch in filled:
        _check(batch, drawn=False)
    draws = ", ".join("ARRAY(SELECT nextval(%s::regclass) FROM generate_series(1, %s))" for _ in filled)
    params: list[Any] = []
    for batch in filled:
        meta = batch[0]._meta
        params += [_sequence(meta.db_table, meta.pk.column), len(batch)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {draws}", params)
        keys = cursor.fetchone()
    for batch, batch_keys in zip(filled, keys, strict=True):
        for obj, key in zip(batch, batch_keys, strict=True):
            obj.pk = key


@cache
def _sequence(table: str, column: str) -> str:
    """The sequence behind an identity or serial column (looked up once per process)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [connection.ops.quote_name(table), column])
        name: str = cursor.fetchone()[0]
    return name


def insert_together(*batches: Sequence[Model]) -> None:
    """Insert every object of every batch (one model per batch, parents before children) in one statement.

    Keys are drawn first unless ``draw_primary_keys`` already gave them. A foreign key to
    an object of another batch is filled in from it, as ``save()`` does for a saved parent.
    """
    filled = [list(batch) for batch in batches if batch]
    draw_primary_keys(*(batch for batch in filled if batch[0].pk is None))
    for batch in filled:
        _check(batch, drawn=True)
        for obj in batch:
            _link_parents(obj)
    sql, params = _statement(filled)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    for batch in filled:
        for obj in batch:
            obj._state.adding = False
            obj._state.db = connection.alias


def _link_parents(obj: Model) -> None:
    """Copy each parent's key into the child's foreign key, as ``save()`` does; refuse a parent without one."""
    for field in obj._meta.concrete_fields:
        if not isinstance(field, ForeignKey) or not field.is_cached(obj) or getattr(obj, field.attname) is not None:
            continue
        parent = field.get_cached_value(obj)
        if parent is not None:
            key = getattr(parent, field.target_field.attname)
            if key is None:
                raise ValueError(f"{obj!r}: its {field.name} is not saved and not in the rows inserted together.")
            setattr(obj, field.attname, key)
            field.set_cached_value(obj, parent)  # setting the key dropped it: keep the parent in hand


def _check(batch: list[Model], *, drawn: bool) -> None:
    model = type(batch[0])
    meta = model._meta
    if meta.auto_field is None or meta.parents:
        raise ValueError(f"{model.__name__}: insert_together needs an automatic primary key and no parent model.")
    for obj in batch:
        if type(obj) is not model or not obj._state.adding or (obj.pk is not None) != drawn:
            state = "with" if drawn else "without"
            raise ValueError(f"A batch holds new {model.__name__} objects {state} drawn keys only; got {obj!r}.")


def _statement(batches: list[list[Model]]) -> tuple[str, list[Any]]:
    quote = connection.ops.quote_name
    inserts: list[str] = []
    params: list[Any] = []
    for number, batch in enumerate(batches):
        meta = batch[0]._meta
        fields: list[Field[Any, Any]] = list(meta.local_concrete_fields)
        rows = []
        for obj in batch:
            placeholders = []
            for field in fields:
                value = field.get_db_prep_save(field.pre_save(obj, True), connection)
                placeholders.append(_placeholder(field, value))
                params.append(value)
            rows.append(f"({', '.join(placeholders)})")
        table, columns = quote(meta.db_table), ", ".join(quote(field.column) for field in fields)
        inserts.append(f"insert_{number} AS (INSERT INTO {table} ({columns}) VALUES {', '.join(rows)})")  # noqa: S608
    return f"WITH {', '.join(inserts)} SELECT 1", params


def _placeholder(field: Any, value: Any) -> str:
    if hasattr(value, "resolve_expression"):
        raise ValueError(f"{field}: insert_together writes plain values, not expressions.")
    get_placeholder = getattr(field, "get_placeholder", None)
    placeholder: str = get_placeholder(value, None, connection) if get_placeholder else "%s"
    return placeholder
