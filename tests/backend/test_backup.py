"""make backup / make restore: a populated database round-trips with every row and every invoice total."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import time_machine
from django.apps import apps
from django.db import connection

from backend.backup import backup, restore
from tests.billing.conftest import add_fee_schedule
from tests.billing.exports_ledger import build_ledger
from tests.processes import current_database_url
from tests.scheduling.conftest import Clinic

pytestmark = pytest.mark.django_db(transaction=True)
TABLES = sorted(model._meta.db_table for model in apps.get_models() if model._meta.managed)
SNAPSHOT = "SELECT " + ", ".join(f"(SELECT count(*) FROM {table})" for table in TABLES)  # noqa: S608
TOTALS = "SELECT coalesce(sum(total), 0), coalesce(sum(subtotal), 0), count(number) FROM billing_invoice"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


@pytest.fixture
def spare_database() -> Iterator[str]:
    """An empty database on the same server, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restore"
    admin = with_database(current_database_url(), "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield with_database(current_database_url(), name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def snapshot(url: str) -> tuple[tuple[int, ...], tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        counts = conn.execute(SNAPSHOT).fetchone()
        totals = conn.execute(TOTALS).fetchone()
    assert counts is not None
    assert totals is not None
    return tuple(counts), tuple(totals)


def test_a_backup_restores_every_row_and_every_total_and_restoring_again_replaces_what_changed(
    clinic: Clinic, frozen_now: time_machine.Traveller, spare_database: str, tmp_path: Path
) -> None:
    add_fee_schedule(clinic)
    build_ledger(clinic, frozen_now)
    original = snapshot(current_database_url())
    assert original[1][0] != 0  # there is money in it

    archive = backup(tmp_path, database_url=current_database_url())
    restore(archive, database_url=spare_database)

    assert snapshot(spare_database) == original
    with psycopg.connect(spare_database, autocommit=True) as conn:
        conn.execute("INSERT INTO scheduling_clinicgroup (public_id, name) VALUES (gen_random_uuid(), 'later')")
        conn.execute("INSERT INTO backend_auditevent (at, actor_username, roles, action, object_type, object_id, "
                     "details) VALUES (now(), '', '', 'read', 'patient', '', '{}')")  # fmt: skip
        with pytest.raises(psycopg.errors.RestrictViolation, match="audit_immutable"):
            conn.execute("DELETE FROM backend_auditevent")  # the triggers came back too
    restore(archive, database_url=spare_database)
    assert snapshot(spare_database) == original


def test_restoring_a_missing_file_says_so_and_changes_nothing(spare_database: str, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="No backup"):
        restore(tmp_path / "nope.dump", database_url=spare_database)
