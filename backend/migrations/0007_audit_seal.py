"""Seal the audit trail: each event gets an HMAC of its content and of the previous event's seal.

Events recorded before this migration are sealed here, in id order, with the append-only trigger
paused for the update (the migration runs as the table's owner).
"""

import django.utils.timezone
from django.db import migrations, models

from backend.audit_chain import audit_key, seal


def seal_existing(apps, schema_editor):
    event_model = apps.get_model("backend", "AuditEvent")
    key, previous = audit_key(), ""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("ALTER TABLE backend_auditevent DISABLE TRIGGER backend_audit_append_only")
    for event in event_model.objects.order_by("id").iterator(chunk_size=2000):
        event.previous_seal = previous
        event.seal = previous = seal(previous, event, key)
        event_model.objects.filter(pk=event.pk).update(previous_seal=event.previous_seal, seal=event.seal)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("ALTER TABLE backend_auditevent ENABLE TRIGGER backend_audit_append_only")


class Migration(migrations.Migration):

    dependencies = [
        ('backend', '0006_password_changed_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditevent',
            name='previous_seal',
            field=models.CharField(blank=True, db_default='', help_text="The previous event's seal.", max_length=64),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='seal',
            field=models.CharField(blank=True, db_default='', help_text='HMAC of this event and the link.', max_length=64),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='at',
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop),
    ]
