"""Table and column names from the models' metadata, quoted, for the few statements written in SQL.

SQL is kept for what encodes a database guarantee or a set operation (who is busy,
the reminder outbox's claims, numbering, reports, exports); those statements name
tables and columns through these two helpers, never by hand.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Model


def table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(model: type[Model], field: str) -> str:
    found: Any = model._meta.get_field(field)
    return connection.ops.quote_name(found.column)
