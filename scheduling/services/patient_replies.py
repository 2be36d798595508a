"""What patients answer: an SMS reply (C or Y confirms, STOP opts out) and the email unsubscribe link.

A phone may be shared by several patients (a family): C confirms only when exactly one visit waits for
confirmation; otherwise the answer lists them as C1, C2, ... in order of time, and "C2" confirms the second.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from backend.errors import ApplicationError
from scheduling.models import Appointment, AppointmentStatus, Patient, Reminder, ReminderChannel, ReminderStatus
from scheduling.services.transitions import appointment_transition

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
    patients = list(Patient.objects.filter(phone=from_number.strip()).select_related("group"))
    if not patients:
        return ""
    clinic = " / ".join(sorted({patient.group.name for patient in patients}))  # every answer says who writes
    if word in STOP_WORDS:
        for patient in patients:
            opt_out(patient=patient, channel=ReminderChannel.SMS)
        return f"{clinic}: you will get no more text messages from us. Reply START or call us to receive them again."
    if word == "START":
        Patient.objects.filter(pk__in=[p.pk for p in patients]).update(sms_consent=True)
        return f"{clinic}: you will get text reminders again."
    choice = _numbered_confirmation(word)
    if word in CONFIRM_WORDS or choice is not None:
        return f"{clinic}: {_confirm_by_sms(patients, choice)}"
    return ""


def _numbered_confirmation(word: str) -> int | None:
    """``C2`` (the second pending visit of a shared phone) as 2; None for anything else."""
    if len(word) > 1 and word[0] == "C" and word[1:].isdigit():
        return int(word[1:])
    return None


def _describe(appointment: Appointment) -> str:
    """A visit as an SMS names it: whose (first name), where and when in the clinic's time; no clinical words."""
    local = appointment.start.astimezone(appointment.location.zone)
    return f"{appointment.patient.first_name} at {appointment.location.name} on {local:%a %d %b at %H:%M}"


def _confirm_by_sms(patients: list[Patient], choice: int | None) -> str:
    """Confirm the one visit waiting for confirmation; with several (a phone shared by a family), ask which."""
    pending = list(
        Appointment.objects.filter(patient__in=patients, status=AppointmentStatus.SCHEDULED, start__gt=timezone.now())
        .select_related("location", "patient")
        .order_by("start", "pk")
    )
    if not pending:
        return "We found no visit waiting for confirmation. Please call the clinic."
    if choice is None and len(pending) > 1:
        options = "; ".join(f"C{number} for {_describe(visit)}" for number, visit in enumerate(pending, start=1))
        return f"Several visits are waiting for confirmation. Reply {options}."
    if choice is not None and not 1 <= choice <= len(pending):
        return f"There is no visit number {choice} waiting for confirmation. Reply C to see the list."
    visit = pending[(choice or 1) - 1]
    try:
        appointment_transition(actor=None, appointment=visit, action="confirm")
    except ApplicationError:
        return (
            f"We could not confirm the visit of {_describe(visit)}. Please call {visit.location.phone or 'the clinic'}."
        )
    return f"Thank you: the visit of {_describe(visit)} is confirmed."
