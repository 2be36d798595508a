"""Migrations that a release can run while the previous release's processes still write."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection, migrations
from django.db.migrations.loader import MigrationLoader
from django.db.models import NOT_PROVIDED, Field

PROJECT_APPS = ("backend", "scheduling", "billing", "outcomes", "console", "worker")
# Columns added before the rule, by releases every installation has already run; a default in the database only
# matters while the release that adds its column rolls out.
ADDED_BEFORE_THE_RULE = {
    ("billing", "feescheduleitem", "public_id"),
    ("scheduling", "location", "late_reminder_grace_minutes"),
    ("scheduling", "location", "reminder_offsets_hours"),
    ("scheduling", "location", "sms_quiet_end"),
    ("scheduling", "location", "sms_quiet_start"),
    ("scheduling", "servicetype", "reminder_channels"),
    ("scheduling", "location", "setup_version"),
    ("scheduling", "location", "check_in_opens_minutes"),
    ("scheduling", "location", "no_show_grace_minutes"),
}


def added_columns() -> list[tuple[str, str, Field]]:
    """Every NOT NULL column a migration adds to a table an earlier migration created, as the models define it now."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = []
    for (app, _name), migration in sorted(loader.disk_migrations.items()):
        if app not in PROJECT_APPS:
            continue
        created_here = {op.name.lower() for op in migration.operations if isinstance(op, migrations.CreateModel)}
        for operation in migration.operations:
            if not isinstance(operation, migrations.AddField) or operation.model_name in created_here:
                continue
            field = apps.get_model(app, operation.model_name)._meta.get_field(operation.name)
            if isinstance(field, Field) and field.concrete and not field.null:
                found.append((app, operation.model_name, field))
    return found


def test_every_not_null_column_added_to_an_existing_table_has_a_default_in_the_database() -> None:
    missing = [
        f"{app}.{model}.{field.name}"
        for app, model, field in added_columns()
        if field.db_default is NOT_PROVIDED and (app, model, field.name) not in ADDED_BEFORE_THE_RULE
    ]
    assert not missing, f"give these db_default (docs/deployment.md): {missing}"


@pytest.mark.django_db
def test_the_database_fills_those_columns_for_an_insert_that_does_not_name_them() -> None:
    columns = [(field.model._meta.db_table, field.column) for _app, _model, field in added_columns()
               if field.db_default is not NOT_PROVIDED]  # fmt: skip
    assert ("scheduling_appointment", "calendar_sequence") in columns
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND column_default IS NOT NULL"
        )
        with_default = set(cursor.fetchall())
    assert [column for column in columns if column not in with_default] == []
