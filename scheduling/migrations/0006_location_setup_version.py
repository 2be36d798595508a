"""Location.setup_version: a new random value whenever what a calendar loads about a location changes.

Booking keeps the location's opening hours, closures, resources, staff and
shifts in memory per version (scheduling/booking/location_setup.py); these
triggers are what makes a change, from the API, the admin or plain SQL,
visible at once. Row triggers on every table that feeds the setup.
"""

import uuid

from django.db import migrations, models

LOCATION_TABLES = (
    "scheduling_openingrule",
    "scheduling_closure",
    "scheduling_resource",
    "scheduling_shift",
    "scheduling_staffmember_locations",
)

FUNCTIONS = """
CREATE FUNCTION scheduling_location_setup_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE scheduling_location SET setup_version = gen_random_uuid() WHERE id = OLD.location_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE scheduling_location SET setup_version = gen_random_uuid() WHERE id = NEW.location_id;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION scheduling_staff_setup_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE scheduling_location SET setup_version = gen_random_uuid()
     WHERE id IN (SELECT location_id FROM scheduling_staffmember_locations WHERE staffmember_id = NEW.id);
    RETURN NULL;
END $$;

CREATE TRIGGER scheduling_staff_setup_changed AFTER UPDATE ON scheduling_staffmember
    FOR EACH ROW EXECUTE FUNCTION scheduling_staff_setup_changed();
"""

DROP_FUNCTIONS = """
DROP TRIGGER scheduling_staff_setup_changed ON scheduling_staffmember;
DROP FUNCTION scheduling_staff_setup_changed();
DROP FUNCTION scheduling_location_setup_changed();
"""


def _location_trigger(table: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        f"CREATE TRIGGER {table}_setup_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION scheduling_location_setup_changed();",
        f"DROP TRIGGER {table}_setup_changed ON {table};",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0005_reminder_index_covers_sending"),
    ]

    operations = [
        migrations.AddField(
            model_name="location",
            name="setup_version",
            field=models.UUIDField(
                default=uuid.uuid4,
                editable=False,
                help_text="Changes whenever the opening hours, closures, resources, staff or shifts of the location "
                "change (database triggers); booking reuses what it loaded for the same version.",
            ),
        ),
        migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS),
        *(_location_trigger(table) for table in LOCATION_TABLES),
    ]
