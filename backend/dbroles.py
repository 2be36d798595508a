"""The application's database role: it owns nothing, reads and writes the clinic's tables, and may only
add to and read the audit trail.

Two roles share the database. The owner (the role that runs ``migrate``) creates and changes tables; the
application role (``DATABASE_APP_ROLE``) is what the web server, the worker and beat connect as. With
``DATABASE_APP_ROLE`` set, every ``migrate`` ends by granting it what it needs (``grant_app_role``,
connected to ``post_migrate``), so tables added by later migrations are covered. The application role
cannot ``UPDATE``, ``DELETE`` or ``TRUNCATE`` audit events, disable their trigger, or switch replication
mode: it is no superuser and owns no table. docs/deployment.md shows the same SQL for a managed server.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from psycopg import sql

AUDIT_TABLE = "backend_auditevent"


def grant_statements(role: str) -> list[sql.Composed]:
    """What the application role may do, as statements the owner runs (idempotent)."""
    name = sql.Identifier(role)
    return [
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(name),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(name),
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {} FROM {}").format(
            sql.Identifier(AUDIT_TABLE), name
        ),
    ]


def create_role_statement(role: str, password: str) -> sql.Composed:
    return sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT").format(
        sql.Identifier(role), sql.Literal(password)
    )


def grant_app_role(connection: Any, role: str) -> None:
    with connection.cursor() as cursor:
        for statement in grant_statements(role):
            cursor.execute(statement.as_string(cursor.connection))


def grant_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """``post_migrate`` receiver: re-grant the application role once per ``migrate`` (on the backend app)."""
    role = settings.DATABASE_APP_ROLE
    if role and sender.label == "backend":
        from django.db import connections

        grant_app_role(connections[using], role)
