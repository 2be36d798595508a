"""Reminder rows: created, moved and cancelled in the same transaction as the booking change.

The worker delivers them (worker/reminders.py); nothing here talks to a broker,
so a booking that rolls back leaves no reminder, and a booking committed while
the broker is down still gets its reminders once the dispatcher runs again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.utils import timezone

from backend.models import User
from scheduling.models import (
    Appointment,
    Reminder,
    ReminderChannel,
    ReminderKind,
    ReminderStatus,
    SeriesChange,
)

OPEN_STATUSES = (ReminderStatus.PENDING, ReminderStatus.QUEUED)
DEFAULT_CHANNELS = (ReminderChannel.EMAIL, ReminderChannel.SMS)


def _channels(appointment: Appointment) -> tuple[str, ...]:
    return tuple(appointment.service_type.reminder_channels) or DEFAULT_CHANNELS


def _offsets(appointment: Appointment) -> list[int]:
    return list(appointment.service_type.reminder_offsets_hours) or list(appointment.location.reminder_offsets_hours)


def schedule_visit_reminders(appointments: Iterable[Appointment]) -> list[Reminder]:
    """Create the reminders of newly booked (or moved) visits."""
    return Reminder.objects.bulk_create(visit_reminder_rows(appointments))


def visit_reminder_rows(appointments: Iterable[Appointment]) -> list[Reminder]:
    """The reminders of newly booked (or moved) visits, unsaved.

    A reminder whose time has already passed is due at once when it is at most
    the location's grace late (a booking for tomorrow still gets its 24-hour
    reminder now), and is recorded as skipped otherwise: never hours late.
    """
    now = timezone.now()
    rows = []
    for appointment in appointments:
        grace = timedelta(minutes=appointment.location.late_reminder_grace_minutes)
        for offset in sorted(set(_offsets(appointment)), reverse=True):
            due = appointment.start - timedelta(hours=offset)
            status = ReminderStatus.PENDING
            note = ""
            if due < now:
                if now - due <= grace and now < appointment.start:
                    due = now
                else:
                    status, note = ReminderStatus.SKIPPED, "Its time had passed when the visit was booked."
            for channel in _channels(appointment):
                rows.append(
                    Reminder(
                        kind=ReminderKind.VISIT,
                        appointment=appointment,
                        patient_id=appointment.patient_id,
                        channel=channel,
                        offset_hours=offset,
                        visit_start=appointment.start,
                        due_at=due,
                        status=status,
                        last_error=note,
                    )
                )
    return rows


def cancel_visit_reminders(appointments: Iterable[Appointment], *, reason: str = "The visit was cancelled.") -> int:
    """Cancel the reminders not yet handed to a provider; a queued one is then never sent."""
    return Reminder.objects.filter(
        appointment__in=[appointment.pk for appointment in appointments], status__in=OPEN_STATUSES
    ).update(status=ReminderStatus.CANCELLED, last_error=reason, updated_at=timezone.now())


def move_visit_reminders(appointment: Appointment) -> list[Reminder]:
    """The visit moved: cancel its open reminders and plan them again from the new start.

    Reminders already sent, failed or skipped stay as they were: they announced the old time. A visit moved
    back to a time it was already reminded of is not reminded of it twice.
    """
    cancel_visit_reminders([appointment], reason="The visit moved.")
    done = set(
        Reminder.objects.filter(appointment=appointment, visit_start=appointment.start, kind=ReminderKind.VISIT)
        .exclude(status=ReminderStatus.CANCELLED)
        .values_list("channel", "offset_hours")
    )
    rows = [row for row in visit_reminder_rows([appointment]) if (row.channel, row.offset_hours) not in done]
    return Reminder.objects.bulk_create(rows)


def series_change_record(
    *,
    series_id: int,
    patient_id: int,
    kind: str,
    appointments: Iterable[Appointment],
    actor: User | None,
    details: dict[str, Any] | None = None,
) -> SeriesChange:
    """Record a series change and its one summary message per channel, due now."""
    change, summaries = series_change_rows(patient_id=patient_id, kind=kind, actor=actor, details=details)
    change.series_id, change.appointment_ids = series_id, [appointment.pk for appointment in appointments]
    change.save(force_insert=True)
    Reminder.objects.bulk_create(summaries)
    return change


def series_change_rows(
    *, patient_id: int, kind: str, actor: User | None, details: dict[str, Any] | None = None
) -> tuple[SeriesChange, list[Reminder]]:
    """A series change and its summary messages, unsaved; the caller sets its series and ``appointment_ids``."""
    change = SeriesChange(kind=kind, appointment_ids=[], details=details or {}, actor=actor)
    now = timezone.now()
    summaries = [
        Reminder(kind=ReminderKind.SERIES_SUMMARY, series_change=change, patient_id=patient_id, channel=channel,
                 due_at=now)
        for channel in DEFAULT_CHANNELS
    ]  # fmt: skip
    return change, summaries


def staff_notices_record(*, patient_id: int, recipients: Iterable[str], about: UUID) -> list[Reminder]:
    """One email per address to clinic staff about something in a patient's record (a safety alert), due now.

    Delivered by the same outbox as the patient's reminders: once each, whatever the number of workers.
    """
    now = timezone.now()
    rows = [
        Reminder(kind=ReminderKind.STAFF_NOTICE, patient_id=patient_id, channel=ReminderChannel.EMAIL,
                 recipient=address, subject_id=about, due_at=now)
        for address in sorted(set(recipients))
    ]  # fmt: skip
    return Reminder.objects.bulk_create(rows)


def reminder_retry(*, reminder_id: int) -> bool:
    """An operator's retry of a failed row (admin action): back to pending, due now."""
    return bool(
        Reminder.objects.filter(pk=reminder_id, status=ReminderStatus.FAILED).update(
            status=ReminderStatus.PENDING, due_at=timezone.now(), attempts=0, updated_at=timezone.now()
        )
    )
