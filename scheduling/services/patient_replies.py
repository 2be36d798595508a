"""What patients answer: an SMS reply (C or Y confirms, STOP opts out) and the email unsubscribe link."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from backend.errors import ApplicationError
from scheduling.models import Appointment, AppointmentStatus, Patient, Reminder, ReminderChannel, ReminderStatus
from scheduling.services.appointments import appointment_transition

CONFIRM_WORDS = {"C", "Y", "YES", "CONFIRM"}
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}  # carriers' standard opt-out words


def opt_out(*, patient: Patient, channel: str) -> None:
    """Honour an opt-out from now on: consent off, and nothing pending on that channel is sent."""
    with transaction.atomic():
        field = "sms_consent" if channel == ReminderChannel.SMS else "email_consent"
        Patient.objects.filter(pk=patient.pk).update(**{field: False})
        Reminder.objects.filter(
            patient=patient, channel=channel, status__in=[ReminderStatus.PENDING, ReminderStatus.QUEUED]
        ).update(status=ReminderStatus.SKIPPED, last_error="The patient opted out.", updated_at=timezone.now())


def sms_reply(*, from_number: str, body: str) -> str:
    """Apply an inbound SMS; return the text to answer with."""
    word = body.strip().upper()
    patients = list(Patient.objects.filter(phone=from_number.strip()))
    if not patients:
        return ""
    if word in STOP_WORDS:
        for patient in patients:
            opt_out(patient=patient, channel=ReminderChannel.SMS)
        return "You will get no more text messages from us. Reply START or call the clinic to receive them again."
    if word == "START":
        Patient.objects.filter(pk__in=[p.pk for p in patients]).update(sms_consent=True)
        return "You will get text reminders again."
    if word in CONFIRM_WORDS:
        upcoming = (
            Appointment.objects.filter(
                patient__in=patients, status=AppointmentStatus.SCHEDULED, start__gt=timezone.now()
            )
            .select_related("location")
            .order_by("start")
            .first()
        )
        if upcoming is None:
            return "We found no visit waiting for confirmation. Please call the clinic."
        try:
            appointment_transition(actor=None, appointment=upcoming, action="confirm")
        except ApplicationError:
            return "We could not confirm that visit. Please call the clinic."
        local = upcoming.start.astimezone(upcoming.location.zone)
        return f"Thank you: your visit on {local:%a %d %b at %H:%M} is confirmed."
    return ""
