"""Hand-written SQL for hot paths, named from the models' metadata and loaded back into model instances.

A few statements run on nearly every request (the token check, a booking's
input lookups, its clearance). The ORM composes and compiles the same SQL
each time, which costs more than the query itself; these are written once
instead. Names come from ``_meta`` (quoted), values are always parameters,
and rows become ordinary model instances, so nothing downstream can tell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)


def table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(model: type[Model], field: str) -> str:
    found: Any = model._meta.get_field(field)
    return connection.ops.quote_name(found.column)


def select_list(model: type[Model], alias: str) -> str:
    """Every concrete column of ``model`` as ``alias."column"``, in field order (what ``from_row`` reads)."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def width(model: type[Model]) -> int:
    return len(model._meta.concrete_fields)


def from_row(model: type[M], values: Sequence[Any]) -> M:
    """The instance the ORM would load from ``select_list``'s columns (field converters applied)."""
    fields: Sequence[Any] = model._meta.concrete_fields
    converted = list(values)
    for index, field in enumerate(fields):
        for convert in field.get_db_converters(connection):
            converted[index] = convert(converted[index], field, connection)
    return model.from_db(connection.alias, [field.attname for field in fields], converted)
