"""Delivery in batches: one task takes several rows, and each row keeps its own exactly-once state."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st
from pytest_django import Settings as DjangoSettings

from scheduling.models import Reminder, ReminderStatus
from scheduling.services.appointments import appointment_book
from scheduling.services.transitions import appointment_transition
from tests.processes import free_port
from tests.scheduling.conftest import Clinic, ny
from tests.worker.conftest import Sink
from worker import reminders as reminders_module
from worker.channels import email
from worker.channels.base import TransientDeliveryError
from worker.reminders import DELIVERY_SPREAD, delivery_batches, reminders_deliver, reminders_dispatch
from worker.tasks.reminders import reminder_deliver_task

MONDAY = dt.date(2026, 10, 5)


def queued_email_reminders(clinic: Clinic, count: int) -> list[Reminder]:
    """``count`` visits on Monday, each with its 24-hour email reminder queued."""
    reminders = []
    for index in range(count):
        patient = clinic.patient if index % 2 == 0 else clinic.patient2
        appointment = appointment_book(actor=None, patient=patient, service_type=clinic.consult,
                                       location=clinic.location, start=ny(MONDAY, 8 + index))  # fmt: skip
        reminders.append(appointment.reminders.get(offset_hours=24, channel="email"))
    Reminder.objects.filter(pk__in=[r.pk for r in reminders]).update(status=ReminderStatus.QUEUED)
    return reminders


def test_a_batch_sends_each_queued_row_once_and_passes_over_the_rest(clinic: Clinic, smtp_sink: Sink) -> None:
    first, taken, cancelled, fourth = queued_email_reminders(clinic, 4)
    Reminder.objects.filter(pk=taken.pk).update(status=ReminderStatus.SENDING)  # another task has it
    assert cancelled.appointment is not None
    appointment_transition(actor=None, appointment=cancelled.appointment, action="cancel", reason="Unwell")
    ids = [first.pk, taken.pk, cancelled.pk, fourth.pk, 987_654_321]  # the last one no longer exists

    outcomes = reminders_deliver(ids, worker="w1")
    again = reminders_deliver(ids, worker="w2")

    assert outcomes == {first.pk: "sent", taken.pk: "not-claimed", cancelled.pk: "not-claimed", fourth.pk: "sent",
                        987_654_321: "not-claimed"}  # fmt: skip
    assert set(again.values()) == {"not-claimed"}
    assert sorted(smtp_sink.received()) == sorted(f"<{r.public_id}@clinic.invalid>" for r in (first, fourth))
    for reminder in (first, fourth):
        reminder.refresh_from_db()
        assert (reminder.status, reminder.attempts, reminder.last_error) == ("sent", 1, "")
        assert list(reminder.attempt_log.values_list("outcome", "worker")) == [("sent", "w1")]
    assert not Reminder.objects.get(pk=taken.pk).attempt_log.exists()


def test_a_transient_failure_requeues_its_row_and_the_retry_sends_only_what_is_left(
    clinic: Clinic, smtp_sink: Sink, settings: DjangoSettings
) -> None:
    reminders = queued_email_reminders(clinic, 3)
    ids = [r.pk for r in reminders]
    assert reminders_deliver(ids[:1]) == {ids[0]: "sent"}
    settings.EMAIL_PORT = free_port()  # the SMTP server goes away
    email._reset()

    with pytest.raises(TransientDeliveryError):
        reminders_deliver(ids)

    rows = {r.pk: r for r in Reminder.objects.filter(pk__in=ids)}
    assert [(rows[pk].status, rows[pk].attempts) for pk in ids] == [("sent", 1), ("queued", 1), ("queued", 0)]
    assert "SMTP unavailable" in rows[ids[1]].last_error
    assert list(rows[ids[1]].attempt_log.values_list("outcome", flat=True)) == ["retry"]

    settings.EMAIL_PORT = smtp_sink.port  # it is back: the task's retry runs the same batch
    email._reset()
    assert reminders_deliver(ids) == {ids[0]: "not-claimed", ids[1]: "sent", ids[2]: "sent"}
    assert sorted(smtp_sink.received()) == sorted(f"<{r.public_id}@clinic.invalid>" for r in reminders)


def test_a_row_that_keeps_failing_is_recorded_failed_on_its_last_attempt(
    clinic: Clinic, settings: DjangoSettings
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing ever listens
    settings.REMINDER_MAX_ATTEMPTS = 3
    email._reset()
    (reminder,) = queued_email_reminders(clinic, 1)

    for _ in range(2):
        with pytest.raises(TransientDeliveryError):
            reminders_deliver([reminder.pk])
    outcome = reminders_deliver([reminder.pk])

    reminder.refresh_from_db()
    assert (outcome, reminder.status, reminder.attempts) == ({reminder.pk: "failed"}, "failed", 3)
    assert reminder.last_error.startswith("gave up after retries: SMTP unavailable")
    assert list(reminder.attempt_log.values_list("outcome", flat=True)) == ["retry", "retry", "failed"]
    email._reset()


def test_a_row_that_breaks_its_worker_every_time_is_failed_after_its_last_attempt_not_retried_for_ever(
    clinic: Clinic, settings: DjangoSettings, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    """Not a delivery error but a bug: rendering raises, the row is left sending, and the sweep takes it again."""
    settings.REMINDER_MAX_ATTEMPTS, settings.REMINDER_SENDING_TIMEOUT = 3, 60
    (reminder,) = queued_email_reminders(clinic, 1)
    Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.PENDING, due_at=ny(MONDAY, 6))
    Reminder.objects.exclude(pk=reminder.pk).update(status=ReminderStatus.CANCELLED)  # only this one is due

    def broken(_reminder: Reminder, **_given: object) -> None:
        raise RuntimeError("template bug")

    monkeypatch.setattr(reminders_module, "render", broken)
    claimed: list[list[int]] = []
    moment = ny(MONDAY, 7)
    for _ in range(5):
        with time_machine.travel(moment, tick=False):
            before = len(claimed)
            with django_capture_on_commit_callbacks(execute=True):
                reminders_dispatch(enqueue=claimed.append)
            for ids in claimed[before:]:
                with pytest.raises(RuntimeError, match="template bug"):
                    reminders_deliver(ids)
        moment += dt.timedelta(minutes=2)  # past the sending timeout

    reminder.refresh_from_db()
    assert claimed == [[reminder.pk]] * 3  # three attempts, then no more claims
    assert (reminder.status, reminder.attempts) == ("failed", 3)
    assert reminder.last_error.startswith("gave up: still sending after 3 attempts")


def test_the_task_takes_a_batch_and_still_takes_a_single_id_enqueued_before_batches(
    clinic: Clinic, smtp_sink: Sink
) -> None:
    one, two, three = queued_email_reminders(clinic, 3)

    assert reminder_deliver_task.run([one.pk, two.pk]) == {"sent": 2}
    assert reminder_deliver_task.run(three.pk) == {"sent": 1}
    assert len(smtp_sink.received()) == 3


@given(count=st.integers(min_value=0, max_value=2_000), batch=st.integers(min_value=1, max_value=200))
def test_batches_cover_every_row_once_stay_within_the_limit_and_spread_small_claims(count: int, batch: int) -> None:
    from django.test import override_settings

    ids = list(range(1, count + 1))
    with override_settings(REMINDER_DELIVERY_BATCH=batch):
        batches = delivery_batches(ids)

    assert [pk for chunk in batches for pk in chunk] == ids
    assert all(1 <= len(chunk) <= batch for chunk in batches)
    # Every worker process gets a share: as many tasks as the spread allows, up to one per row.
    assert len(batches) >= min(count, DELIVERY_SPREAD)
