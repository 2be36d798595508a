"""New rows of several tables written in one round trip, pointing at each other.

A series booking writes five tables (the series, its visits, their staff, the
change record and its reminders); ``create`` and ``bulk_create`` cost one
statement each, and the ORM's work to build it. Here the rows' primary keys
are drawn from their tables' sequences first (one query for all tables), so a
visit can name its series before either is written, and then every row goes
in with one statement of data-modifying CTEs.

Each column gets what ``save()`` would write: the field's ``pre_save``
(``auto_now`` and friends) then ``get_db_prep_save``; a table's rows travel as
one JSON parameter that PostgreSQL reads into the table's row type.
Constraints apply as for any insert: a violation raises ``IntegrityError``
and nothing of the statement is written. No signals are sent, as with
``bulk_create``. ``insert_one`` writes a single row whose key the table
generates (``INSERT ... RETURNING``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface
from typing import Any
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, ForeignKey, Model
from psycopg.types.json import Jsonb

from backend import sql


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


def insert_one(obj: Model) -> None:
    """One new row whose key the table generates, in one statement without ``save()``'s machinery
    (an audit event per request); parents must be saved already."""
    _check([obj], drawn=False)
    _link_parents(obj)
    meta = obj._meta
    fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
    table, columns, key = sql.table(type(obj)), _columns(fields), connection.ops.quote_name(meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608 - model metadata
            f"FROM jsonb_populate_record(NULL::{table}, %s::jsonb) RETURNING {key}",
            [json.dumps(_row(obj, fields, connections[DEFAULT_DB_ALIAS]))],
        )
        obj.pk = cursor.fetchone()[0]
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
    """Each batch's rows travel as one JSON array, read back into the table's row type by PostgreSQL.

    One parameter per table instead of one per value: the driver need not parse a statement with
    hundreds of placeholders and quote every value, and the statement's text depends only on the tables.
    """
    inserts: list[str] = []
    params: list[Any] = []
    database = connections[DEFAULT_DB_ALIAS]  # the connection itself: the proxy costs a lookup per use
    for number, batch in enumerate(batches):
        fields: list[Field[Any, Any]] = list(batch[0]._meta.local_concrete_fields)
        params.append(json.dumps([_row(obj, fields, database) for obj in batch]))
        table, columns = sql.table(type(batch[0])), _columns(fields)
        inserts.append(
            f"insert_{number} AS (INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608 - model metadata
            f"FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb))"
        )
    return f"WITH {', '.join(inserts)} SELECT 1", params


def _columns(fields: Sequence[Field[Any, Any]]) -> str:
    return ", ".join(connection.ops.quote_name(field.column) for field in fields)


def _row(obj: Model, fields: Sequence[Field[Any, Any]], database: Any) -> dict[str, Any]:
    """What ``save()`` would write for ``obj`` (``pre_save``, then ``get_db_prep_save``), by column, as JSON values."""
    return {
        field.column: _plain(field, field.get_db_prep_save(field.pre_save(obj, True), database)) for field in fields
    }


def _plain(field: Any, value: Any) -> Any:
    """A value ready for the database as JSON that PostgreSQL reads back into the column's type."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, UUID | Decimal | IPv4Address | IPv6Address | IPv4Interface | IPv6Interface):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(field, item) for item in value]
    if isinstance(value, Jsonb):  # a JSONField, already encoded with the field's encoder
        return json.loads(value.dumps(value.obj)) if value.dumps else value.obj
    raise ValueError(f"{field}: insert_together cannot write a {type(value).__name__}.")
