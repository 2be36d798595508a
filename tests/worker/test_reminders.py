"""Reminders in-process: rows follow the bookings; delivery is idempotent, consent- and quiet-hours-aware."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connections, transaction
from pytest_django import Settings as DjangoSettings

from scheduling.models import Appointment, Reminder, ReminderStatus
from scheduling.services.appointments import appointment_book, appointment_reschedule
from scheduling.services.transitions import appointment_transition
from tests.scheduling.conftest import Clinic, ny
from tests.worker.conftest import Sink
from worker.reminders import next_allowed_sms_time, reminder_deliver, reminders_dispatch

MONDAY = dt.date(2026, 10, 5)


def book(clinic: Clinic, start: dt.datetime) -> Appointment:
    return appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion, location=clinic.location,
                            start=start)  # fmt: skip


def states(appointment: Appointment) -> list[tuple[str, int | None, str, str]]:
    zone = appointment.location.zone
    return [
        (r.channel, r.offset_hours, r.due_at.astimezone(zone).strftime("%m-%d %H:%M"), r.status)
        for r in appointment.reminders.order_by("-offset_hours", "channel", "id")
    ]


def test_booking_creates_one_reminder_per_offset_and_channel(clinic: Clinic) -> None:
    appointment = book(clinic, ny(MONDAY, 9))

    assert states(appointment) == [
        ("email", 72, "10-02 09:00", "pending"), ("sms", 72, "10-02 09:00", "pending"),
        ("email", 24, "10-04 09:00", "pending"), ("sms", 24, "10-04 09:00", "pending"),
        ("email", 2, "10-05 07:00", "pending"), ("sms", 2, "10-05 07:00", "pending"),
    ]  # fmt: skip


def test_a_reminder_already_due_at_booking_goes_at_once_or_is_skipped_never_hours_late(clinic: Clinic) -> None:
    with time_machine.travel(ny(MONDAY, 9, 30), tick=False):
        appointment = book(clinic, ny(dt.date(2026, 10, 6), 9))  # 23.5 hours ahead

    rows = {(r.offset_hours, r.channel): (r.status, r.due_at) for r in appointment.reminders.all()}
    assert rows[(24, "email")] == ("pending", ny(MONDAY, 9, 30))  # 30 minutes late: sent at once
    assert rows[(72, "email")][0] == "skipped"  # two days late: pointless, skipped
    assert rows[(2, "email")] == ("pending", ny(dt.date(2026, 10, 6), 7))


def test_rescheduling_moves_pending_reminders(clinic: Clinic) -> None:
    appointment = book(clinic, ny(MONDAY, 9))

    appointment_reschedule(actor=None, appointment=appointment, start=ny(dt.date(2026, 10, 6), 13))

    live = appointment.reminders.exclude(status="cancelled")
    assert sorted(r.due_at.astimezone(clinic.location.zone).strftime("%m-%d %H:%M") for r in live) == [
        "10-03 13:00", "10-03 13:00", "10-05 13:00", "10-05 13:00", "10-06 11:00", "10-06 11:00",
    ]  # fmt: skip
    assert appointment.reminders.filter(status="cancelled").count() == 6


def test_cancelling_cancels_reminders_even_ones_already_queued(clinic: Clinic) -> None:
    appointment = book(clinic, ny(MONDAY, 9))
    appointment.reminders.filter(offset_hours=72).update(status=ReminderStatus.QUEUED)
    queued = list(appointment.reminders.filter(offset_hours=72).values_list("pk", flat=True))

    appointment_transition(actor=None, appointment=appointment, action="cancel", reason="Unwell")

    assert set(appointment.reminders.values_list("status", flat=True)) == {"cancelled"}
    assert [reminder_deliver(reminder_id=pk) for pk in queued] == ["not-claimed", "not-claimed"]


def test_a_booking_that_rolls_back_leaves_no_reminder(clinic: Clinic) -> None:
    class Abort(Exception):
        pass

    def book_then_fail() -> None:
        with transaction.atomic():
            book(clinic, ny(MONDAY, 9))
            raise Abort

    with pytest.raises(Abort):
        book_then_fail()

    assert not Reminder.objects.exists()
    assert not Appointment.objects.exists()


def test_the_dispatcher_claims_due_rows_once_and_enqueues_after_commit(
    clinic: Clinic, django_capture_on_commit_callbacks: Any
) -> None:
    book(clinic, ny(MONDAY, 9))
    enqueued: list[int] = []

    with time_machine.travel(ny(dt.date(2026, 10, 4), 9, 1), tick=False):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            first = reminders_dispatch(enqueue=enqueued.extend)
        assert enqueued == []  # nothing reaches the broker before the claim commits
        for callback in callbacks:
            callback()
        again = reminders_dispatch(enqueue=enqueued.extend)

    assert (first, again) == (4, 0)  # the 72 h and 24 h reminders, both channels
    assert len(enqueued) == len(set(enqueued)) == 4
    assert Reminder.objects.filter(status="queued").count() == 4


def test_rows_left_queued_are_swept_again(
    clinic: Clinic, settings: DjangoSettings, django_capture_on_commit_callbacks: Any
) -> None:
    book(clinic, ny(MONDAY, 9))
    settings.REMINDER_QUEUED_TIMEOUT = 60
    lost: list[int] = []

    swept: list[int] = []
    with django_capture_on_commit_callbacks(execute=True):
        with time_machine.travel(ny(dt.date(2026, 10, 2), 9, 1), tick=False):
            reminders_dispatch(enqueue=lost.extend)  # say the broker lost these messages
        with time_machine.travel(ny(dt.date(2026, 10, 2), 9, 3), tick=False):
            reminders_dispatch(enqueue=swept.extend)

    assert lost

    assert sorted(swept) == sorted(lost)


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_never_enqueue_a_row_twice(frozen_now: object) -> None:
    from tests.scheduling.conftest import make_clinic

    clinic = make_clinic()
    for day in range(5, 9):
        for hour in (8, 10, 12):
            for patient in (clinic.patient, clinic.patient2):
                appointment_book(actor=None, patient=patient, service_type=clinic.consult, location=clinic.location,
                                 start=ny(dt.date(2026, 10, day), hour + (patient == clinic.patient2)))  # fmt: skip
    Reminder.objects.update(due_at=ny(dt.date(2026, 10, 1), 0))
    enqueued: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)

    def record(batch: list[int]) -> None:
        with lock:
            enqueued.extend(batch)

    def dispatcher() -> None:
        barrier.wait()
        try:
            with time_machine.travel(ny(dt.date(2026, 10, 1), 9), tick=False):
                reminders_dispatch(enqueue=record)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(enqueued) == Reminder.objects.count() == 8 * 3 * 6
    assert len(set(enqueued)) == len(enqueued)


# --- delivery -------------------------------------------------------------------------------------


def _due(clinic: Clinic, channel: str = "email") -> Reminder:
    appointment = book(clinic, ny(MONDAY, 9))
    reminder = appointment.reminders.get(offset_hours=24, channel=channel)
    Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.QUEUED)
    return reminder


def test_delivery_sends_once_to_the_smtp_server_and_records_the_message_id(clinic: Clinic, smtp_sink: Sink) -> None:
    reminder = _due(clinic)

    first = reminder_deliver(reminder_id=reminder.pk, worker="w1")
    second = reminder_deliver(reminder_id=reminder.pk, worker="w2")

    assert (first, second) == ("sent", "not-claimed")
    reminder.refresh_from_db()
    assert reminder.provider_id == f"<{reminder.public_id}@clinic.invalid>"
    assert reminder.sent_at is not None
    assert len(smtp_sink.received()) == 1
    mail = smtp_sink.messages()[0]
    assert "Subject: Reminder: your visit at Boston on Mon 05 Oct" in mail
    assert "Monday 05 October 2026 at 09:00 (America/New_York)" in mail
    assert "your time zone" not in mail  # the patient lives in the clinic's zone
    assert "/r/confirm/" in mail
    assert "/r/cancel/" in mail
    assert list(reminder.attempt_log.values_list("outcome", flat=True)) == ["sent"]


def test_no_consent_means_no_message(clinic: Clinic, smtp_sink: Sink) -> None:
    clinic.patient.email_consent = False
    clinic.patient.save()
    reminder = _due(clinic)

    assert reminder_deliver(reminder_id=reminder.pk) == "skipped"
    assert smtp_sink.received() == []


def test_an_unreachable_smtp_server_is_retried_later_not_lost(clinic: Clinic, settings: DjangoSettings) -> None:
    from tests.processes import free_port
    from worker.channels import email
    from worker.channels.base import TransientDeliveryError

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
    email._reset()
    reminder = _due(clinic)

    with pytest.raises(TransientDeliveryError):
        reminder_deliver(reminder_id=reminder.pk)

    reminder.refresh_from_db()
    assert reminder.status == "queued"
    assert "SMTP unavailable" in reminder.last_error
    email._reset()


def test_sms_in_quiet_hours_is_deferred_to_the_morning_in_the_patients_zone(
    clinic: Clinic, settings: DjangoSettings, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path
    clinic.patient.timezone = "America/Los_Angeles"
    clinic.patient.save()
    reminder = _due(clinic, "sms")

    # 23:30 in New York is 20:30 in Los Angeles: not quiet there, so it is sent.
    with time_machine.travel(ny(dt.date(2026, 10, 3), 23, 30), tick=False):
        assert reminder_deliver(reminder_id=reminder.pk) == "sent"
    other = clinic.patient2
    other.timezone = "America/New_York"
    other.save()
    late = appointment_book(actor=None, patient=other, service_type=clinic.infusion, location=clinic.location,
                            start=ny(MONDAY, 11))  # fmt: skip
    sms = late.reminders.get(offset_hours=24, channel="sms")
    Reminder.objects.filter(pk=sms.pk).update(status=ReminderStatus.QUEUED)
    with time_machine.travel(ny(dt.date(2026, 10, 3), 23, 30), tick=False):
        assert reminder_deliver(reminder_id=sms.pk) == "deferred"
    sms.refresh_from_db()
    assert (sms.status, sms.due_at) == ("pending", ny(dt.date(2026, 10, 4), 8))


@pytest.mark.parametrize(
    ("local", "expected"),
    [("22:00", "08:00 next"), ("03:00", "08:00 same"), ("12:00", None), ("07:59", "08:00 same"), ("08:00", None)],
)
def test_quiet_hours_window(local: str, expected: str | None) -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/London")
    hour, minute = map(int, local.split(":"))
    now = dt.datetime(2026, 10, 5, hour, minute, tzinfo=zone)

    resume = next_allowed_sms_time(now, "Europe/London", dt.time(21), dt.time(8))

    if expected is None:
        assert resume is None
    else:
        assert resume is not None
        day = dt.date(2026, 10, 6) if expected.endswith("next") else dt.date(2026, 10, 5)
        assert resume.astimezone(zone) == dt.datetime.combine(day, dt.time(8), tzinfo=zone)


def test_reminders_endpoint_shows_each_reminders_state(clinic: Clinic) -> None:
    appointment = book(clinic, ny(MONDAY, 9))

    response = clinic.client(clinic.reception).get(f"/api/v1/appointments/{appointment.public_id}/reminders/")

    assert response.status_code == 200
    assert [(r["channel"], r["due_at"], r["status"]) for r in response.json()][:2] == [
        ("email", "2026-10-02T09:00:00-04:00", "pending"), ("sms", "2026-10-02T09:00:00-04:00", "pending"),
    ]  # fmt: skip
    assert set(response.json()[0]) >= {"channel", "due_at", "status", "sent_at"}


def test_the_dispatchers_claim_reads_the_open_rows_index_not_the_whole_outbox(clinic: Clinic) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    book(clinic, ny(MONDAY, 9))
    with CaptureQueriesContext(connection) as queries:
        reminders_dispatch(enqueue=lambda batch: None, now=ny(dt.date(2026, 10, 1), 9))
    claim = next(q["sql"] for q in queries.captured_queries if "SKIP LOCKED" in q["sql"])

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # on a tiny table the planner would rather scan it
        cursor.execute(f"EXPLAIN {claim}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # Sent rows pile up for years; the claim (due, left queued, stuck sending) must not read them.
    assert "reminder_due_open" in plan, plan
    assert "Seq Scan" not in plan, plan
