"""The application's database role (backend/dbroles.py) reads and writes the clinic's tables but cannot
rewrite, erase or unprotect the audit trail: every way around the append-only trigger fails for it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection

from backend.dbroles import create_role_statement, grant_app_role

pytestmark = pytest.mark.django_db(transaction=True)  # the role connects separately: grants must be committed


@pytest.fixture
def app_role() -> Iterator[dict[str, Any]]:
    role, password = f"clinic_app_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    with connection.cursor() as cursor:
        cursor.execute(create_role_statement(role, password).as_string(cursor.connection))
    grant_app_role(connection, role)
    connection.ensure_connection()
    info = connection.connection.info  # where the suite's own connection went (socket or TCP)
    params = {"dbname": info.dbname, "user": role, "password": password, "host": info.host, "port": info.port}
    try:
        yield params
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


def as_app(params: dict[str, Any], statement: str) -> None:
    with psycopg.connect(**params, autocommit=True) as app:
        app.execute(statement)


def test_the_app_role_adds_to_and_reads_the_audit_trail_and_writes_the_clinics_tables(
    app_role: dict[str, Any],
) -> None:
    as_app(app_role, "INSERT INTO backend_auditevent (at, actor_username, roles, action, object_type, object_id,"
                     " details) VALUES (now(), 'app', '', 'read', 'patient', '', '{}')")  # fmt: skip
    as_app(app_role, "SELECT count(*) FROM backend_auditevent")
    as_app(app_role, "UPDATE scheduling_patient SET first_name = first_name WHERE false")
    as_app(app_role, "DELETE FROM backend_idempotencyrecord WHERE false")
    as_app(app_role, "SELECT nextval(pg_get_serial_sequence('backend_auditevent', 'id'))")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE backend_auditevent SET action = 'x'",
        "DELETE FROM backend_auditevent",
        "TRUNCATE backend_auditevent",
        "ALTER TABLE backend_auditevent DISABLE TRIGGER backend_audit_append_only",
        "SET session_replication_role = replica",
        "DROP TABLE backend_auditevent",
        "CREATE TABLE shadow (id int)",
    ],
)
def test_the_app_role_cannot_rewrite_erase_or_unprotect_the_audit_trail(
    app_role: dict[str, Any], statement: str
) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_app(app_role, statement)
