"""Fee-schedule items get an opaque public id, as every record the API addresses: added empty, filled one by
one (a callable default would give every existing row the same value), then made unique and required."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):  # noqa: ANN001, ARG001 - a migration's RunPython signature
    items = apps.get_model("billing", "FeeScheduleItem")
    for item in items.objects.filter(public_id__isnull=True).only("pk"):
        items.objects.filter(pk=item.pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("billing", "0008_superbill_fields")]

    operations = [
        migrations.AddField(model_name="feescheduleitem", name="public_id", field=models.UUIDField(null=True)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="feescheduleitem",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
