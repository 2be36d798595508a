"""A safety alert with two real workers, two dispatchers and a real SMTP server: one alert, one email to the
on-call address within the dispatcher's period, and never a second alert for the same measure."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.apps import apps
from django.db import IntegrityError, connections
from pytest_django import Settings as DjangoSettings

from outcomes.models import LocationSafety, Measure, SafetyAlert
from outcomes.services.safety import safety_alert_raise
from outcomes.standard import load_standard_instruments
from scheduling.models import Reminder, ReminderKind, ReminderStatus
from tests.integration.test_reminder_delivery import (  # noqa: F401 - fixtures
    Dispatchers,
    outbox_settings,
    sink_dir,
    stored_message_ids,
    worker_for,
)
from tests.processes import RedisServer, wait_for
from tests.scheduling.conftest import make_clinic

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ON_CALL = "oncall@clinic.example"


def test_an_item_9_answer_with_two_workers_running_emails_the_on_call_address_once(
    outbox_settings: DjangoSettings,  # noqa: F811
    private_redis: RedisServer,
    sink_dir: tuple[Path, int],  # noqa: F811
    tmp_path: Path,
) -> None:
    mail, port = sink_dir
    load_standard_instruments(apps)
    clinic = make_clinic()
    LocationSafety.objects.create(location=clinic.location, on_call_email=ON_CALL)
    workers = [worker_for(private_redis, port, tmp_path / f"worker{n}.log") for n in (1, 2)]
    try:
        with Dispatchers(private_redis.url, count=2):
            url = f"/api/v1/patients/{clinic.patient.public_id}/measures/"
            answers = {"instrument": "phq-9", "answers": [1, 0, 0, 0, 0, 0, 0, 0, 1]}
            response = clinic.client(clinic.clinician).post(url, answers, format="json")
            assert response.status_code == 201
            assert "988" in response.json()["crisis_guidance"]
            notice = Reminder.objects.get(kind=ReminderKind.STAFF_NOTICE)
            wait_for(lambda: Reminder.objects.get(pk=notice.pk).status == ReminderStatus.SENT, timeout=90)
    finally:
        for worker in workers:
            worker.stop()
    assert SafetyAlert.objects.count() == 1
    assert stored_message_ids(mail) == [f"<{notice.public_id}@clinic.invalid>"]
    stored = next(mail.glob("*.eml")).read_text()
    assert f"To: {ON_CALL}" in stored
    assert clinic.patient.last_name not in stored

    alert = SafetyAlert.objects.get()
    acknowledged = clinic.client(clinic.clinician).post(
        f"/api/v1/safety-alerts/{alert.public_id}/acknowledge/", {"note": "Reached by phone."}, format="json"
    )
    assert acknowledged.status_code == 200
    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.note, alert.acknowledged_at is not None) == (
        clinic.clinician, "Reached by phone.", True,
    )  # fmt: skip


def test_parallel_attempts_to_raise_an_alert_for_one_measure_make_one(db: None) -> None:
    load_standard_instruments(apps)
    clinic = make_clinic()
    instrument = apps.get_model("outcomes", "Instrument").objects.get(code="phq-9", version=1)
    measure = Measure.objects.create(patient=clinic.patient, instrument=instrument, answers=[3] * 9, total=27,
                                     severity="severe", flags=["self_harm"], taken_at="2026-10-01T12:00Z",
                                     source="staff")  # fmt: skip
    start, refused, raised = threading.Barrier(6), [], []

    def attempt() -> None:
        try:
            start.wait()
            raised.append(safety_alert_raise(Measure.objects.get(pk=measure.pk), ["item 9"]))
        except IntegrityError:
            refused.append(True)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert (len(raised), len(refused)) == (1, 5)
    assert SafetyAlert.objects.filter(measure=measure).count() == 1
    assert Reminder.objects.filter(kind=ReminderKind.STAFF_NOTICE).count() == len(SafetyAlert.objects.get().notified)
