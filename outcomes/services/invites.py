"""Follow-up form invitations: when a follow-up's window opens, the patient gets one message per channel
through the reminder outbox (consent and quiet hours apply there), once (a unique key per follow-up).

Forms due before a visit need no message of their own: the visit's reminder carries the form link
(worker/reminder_content.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from outcomes.due import DueStatus, patient_due_measures
from scheduling.models import Patient, Reminder, ReminderChannel, ReminderKind

SWEEP_HORIZON = timedelta(days=400)  # series whose last visit is older than this have no follow-up left to invite


def follow_up_invites_sweep(now: datetime | None = None) -> int:
    """Write the invitations of follow-ups whose window is open and unanswered; returns how many were new."""
    now = now or timezone.now()
    patients = Patient.objects.filter(
        series__template__measure_schedules__follow_up_weeks__len__gt=0,
        series__cancelled_at__isnull=True,
        series__appointments__start__gte=now - SWEEP_HORIZON,
    ).distinct()
    rows = []
    for patient in patients.iterator(chunk_size=200):
        due_now = {
            (item.series.pk, item.due_at): item
            for item in patient_due_measures(patient, now)
            if item.weeks_after is not None and item.status == DueStatus.DUE
        }
        for item in due_now.values():
            last_visit = list(item.series.appointments.all())[-1]  # the follow-up counts from it
            rows += [
                Reminder(kind=ReminderKind.FORM_INVITE, appointment=last_visit, patient=patient, channel=channel,
                         visit_start=item.due_at, due_at=now)
                for channel in (ReminderChannel.EMAIL, ReminderChannel.SMS)
            ]  # fmt: skip
    sent = set(
        Reminder.objects.filter(
            kind=ReminderKind.FORM_INVITE, appointment__in=[row.appointment_id for row in rows]
        ).values_list("appointment_id", "channel", "visit_start")
    )
    new = [row for row in rows if (row.appointment_id, row.channel, row.visit_start) not in sent]
    Reminder.objects.bulk_create(new, ignore_conflicts=True)  # a concurrent sweep's rows win; none twice
    return len(new)
