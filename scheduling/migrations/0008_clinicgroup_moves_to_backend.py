"""Clinic groups now live in backend (backend/migrations/0005_clinicgroup.py): state only, no table changes."""

import django.db.models.deletion
from django.db import migrations, models


def group(related_name, on_delete=django.db.models.deletion.PROTECT):
    return models.ForeignKey(on_delete=on_delete, related_name=related_name, to="backend.clinicgroup")


def move_content_type(apps, schema_editor):
    """The content type, and so its permissions and their grants, follow the model to backend."""
    content_type = apps.get_model("contenttypes", "ContentType")
    old = content_type.objects.filter(app_label="scheduling", model="clinicgroup").first()
    new = content_type.objects.filter(app_label="backend", model="clinicgroup").first()
    if old is None:
        return
    if new is not None:  # created meanwhile by another app's permission grant: the old one, with its grants, wins
        new.delete()
    old.app_label = "backend"
    old.save(update_fields=["app_label"])


def move_content_type_back(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="backend", model="clinicgroup").update(app_label="scheduling")


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0007_transition_clock"),
        ("backend", "0005_clinicgroup"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name="location", name="group", field=group("locations")),
                migrations.AlterField(model_name="patient", name="group", field=group("patients")),
                migrations.AlterField(model_name="servicetype", name="group", field=group("service_types")),
                migrations.AlterField(model_name="staffmember", name="group", field=group("staff")),
                migrations.AlterField(
                    model_name="seriestemplate", name="group",
                    field=group("series_templates", django.db.models.deletion.CASCADE),
                ),
                migrations.DeleteModel(name="ClinicGroup"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
