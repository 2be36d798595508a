"""Model permissions for the role groups, so staff users can work in the Django admin.

Admins get every permission of the clinic apps; reception manages patients and
works the appointment list; clinicians read patients and record clearance;
accountants read. Access to the admin also needs a user's "staff status".
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

READ = ("view",)
GRANTS = {
    "reception": {
        "patient": ("view", "add", "change"),
        "appointment": ("view", "change"),
        "series": ("view",),
        "seriestemplate": ("view",),
        "location": READ, "resource": READ, "staffmember": READ, "servicetype": READ, "closure": READ,
        "openingrule": READ, "shift": READ,
    },
    "clinician": {
        "patient": READ, "clearance": ("view", "add"), "appointment": ("view", "change"), "series": READ,
        "location": READ, "resource": READ, "staffmember": READ, "servicetype": READ,
    },
    "accountant": {"patient": READ, "appointment": READ, "series": READ, "location": READ, "servicetype": READ},
}


def grant(apps, schema_editor):
    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, verbosity=0, apps=apps)
        config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    admin = group_model.objects.get_or_create(name="admin")[0]
    admin.permissions.add(*permission_model.objects.filter(content_type__app_label__in=["scheduling", "backend"]))
    for role, models in GRANTS.items():
        group = group_model.objects.get_or_create(name=role)[0]
        for model, actions in models.items():
            codenames = [f"{action}_{model}" for action in actions]
            group.permissions.add(
                *permission_model.objects.filter(content_type__app_label="scheduling", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_series"), ("backend", "0003_idempotencyrecord")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
