from django.db import migrations

from outcomes.standard import load_standard_instruments


def load(apps, schema_editor):
    load_standard_instruments(apps)


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
