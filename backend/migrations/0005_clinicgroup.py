"""Clinic groups move from scheduling to backend (backend.access scopes every read by them).

The table and its membership table keep their names; only Django's state moves here.
scheduling/migrations/0008 moves the content type (so permissions granted on it stay granted).
"""

import uuid

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("backend", "0004_audit_event")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ClinicGroup",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("public_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ("name", models.CharField(max_length=200)),
                        ("members", models.ManyToManyField(blank=True, related_name="clinic_groups", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={"db_table": "scheduling_clinicgroup"},
                ),
            ],
            database_operations=[],
        ),
    ]
