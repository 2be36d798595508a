"""Gapless numbers: the next value of a location's series for a year, from a counter row.

The counter moves with ``UPDATE ... RETURNING`` in the caller's transaction: the
row stays locked until that transaction ends, so numbers are handed out one at
a time, and a rollback gives the number back. A unique constraint on
(location, year, seq) is the backstop.
"""

from __future__ import annotations

from django.db import connection

from billing.models import NumberCounter


def next_number(*, location_id: int, series: str, year: int) -> int:
    table = NumberCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (location_id, series, year, last_value) VALUES (%s, %s, %s, 0) "  # noqa: S608
            "ON CONFLICT (location_id, series, year) DO NOTHING",
            [location_id, series, year],
        )
        cursor.execute(
            f"UPDATE {table} SET last_value = last_value + 1 "  # noqa: S608 - table name from the model
            "WHERE location_id = %s AND series = %s AND year = %s RETURNING last_value",
            [location_id, series, year],
        )
        row = cursor.fetchone()
    assert row is not None  # noqa: S101 - the row exists: inserted above or before
    return int(row[0])


def format_number(prefix: str, year: int, seq: int) -> str:
    return f"{prefix}-{year}-{seq:05d}"
