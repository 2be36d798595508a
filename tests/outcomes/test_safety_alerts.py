"""Safety alerts: crisis guidance at once, one alert per measure, one email per on-call address through the
outbox, open until a clinician acknowledges it."""

from __future__ import annotations

import pytest
from django.core import mail

from outcomes.models import AlertStatus, LocationSafety, Measure, SafetyAlert
from scheduling.models import Reminder, ReminderKind, ReminderStatus
from tests.factories import UserFactory
from tests.outcomes.conftest import phq9
from tests.scheduling.conftest import Clinic
from worker.reminder_content import render
from worker.reminders import reminders_deliver

pytestmark = pytest.mark.usefixtures("instruments")


def answer(clinic: Clinic, item9: int) -> dict[str, object]:
    url = f"/api/v1/patients/{clinic.patient.public_id}/measures/"
    response = clinic.client(clinic.clinician).post(url, {"instrument": "phq-9", "answers": phq9(item9)}, format="json")
    assert response.status_code == 201, response.content
    body: dict[str, object] = response.json()
    return body


def test_item_9_above_zero_shows_crisis_guidance_and_raises_one_alert_with_one_notice(clinic: Clinic) -> None:
    guidance = "Call 988 now, or 911. Boston clinic on call: +1 617 555 0100."
    LocationSafety.objects.create(location=clinic.location, on_call_email="oncall@clinic.example",
                                  crisis_guidance=guidance)  # fmt: skip
    clinic.patient.appointments.create(
        service_type=clinic.infusion, location=clinic.location, resource=clinic.chairs[0],
        start="2026-10-05T14:00Z", end="2026-10-05T15:00Z", hold_until="2026-10-05T16:00Z",
    )  # fmt: skip
    body = answer(clinic, item9=1)
    assert body["flags"] == ["self_harm"]
    assert body["crisis_guidance"] == guidance
    alert = SafetyAlert.objects.get()
    assert (alert.measure.public_id.hex, alert.location, alert.status) == (
        str(body["id"]).replace("-", ""), clinic.location, AlertStatus.OPEN,
    )  # fmt: skip
    assert alert.rules == ["Thoughts of being better off dead or of self-harm (PHQ-9 item 9)"]
    notice = Reminder.objects.get(kind=ReminderKind.STAFF_NOTICE)
    assert (notice.recipient, notice.subject_id, notice.status, notice.channel) == (
        "oncall@clinic.example", alert.public_id, ReminderStatus.PENDING, "email",
    )  # fmt: skip
    assert answer(clinic, item9=0)["crisis_guidance"] is None
    assert SafetyAlert.objects.count() == 1
    assert Reminder.objects.filter(kind=ReminderKind.STAFF_NOTICE).count() == 1


def test_without_an_on_call_address_every_clinician_of_the_group_is_told(clinic: Clinic) -> None:
    second = UserFactory(roles=["clinician"], email="second@clinic.example")
    clinic.group.members.add(second)
    UserFactory(roles=["clinician"], email="elsewhere@clinic.example")  # another clinic's clinician
    body = answer(clinic, item9=3)
    assert "988" in str(body["crisis_guidance"])  # the default guidance
    notices = Reminder.objects.filter(kind=ReminderKind.STAFF_NOTICE).order_by("recipient")
    assert [notice.recipient for notice in notices] == sorted([clinic.clinician.email, "second@clinic.example"])
    assert SafetyAlert.objects.get().notified == sorted([clinic.clinician.email, "second@clinic.example"])


def test_the_notice_email_names_no_patient_and_links_the_record(clinic: Clinic) -> None:
    answer(clinic, item9=2)
    notice = Reminder.objects.get(kind=ReminderKind.STAFF_NOTICE)
    message = render(notice)
    assert message.to == clinic.clinician.email
    assert clinic.patient.first_name not in message.text
    assert clinic.patient.last_name not in message.text
    assert clinic.patient.first_name not in (message.subject or "")
    assert f"/console/patients/{clinic.patient.public_id}/" in message.text
    assert "Patient: A." in message.text
    assert "PHQ-9" in message.text


def test_a_staff_notice_is_delivered_once_whatever_the_patients_consent(clinic: Clinic) -> None:
    clinic.patient.email_consent = False
    clinic.patient.save()
    answer(clinic, item9=1)
    notice = Reminder.objects.get(kind=ReminderKind.STAFF_NOTICE)
    Reminder.objects.filter(pk=notice.pk).update(status=ReminderStatus.QUEUED)
    assert reminders_deliver([notice.pk]) == {notice.pk: ReminderStatus.SENT}
    assert reminders_deliver([notice.pk]) == {notice.pk: "not-claimed"}
    assert [message.to for message in mail.outbox] == [[clinic.clinician.email]]


def test_a_clinician_acknowledges_an_alert_once_and_it_leaves_the_open_list(clinic: Clinic) -> None:
    answer(clinic, item9=1)
    alert = SafetyAlert.objects.get()
    client = clinic.client(clinic.clinician)
    opened = client.get("/api/v1/safety-alerts/?status=open").json()["results"]
    assert [(item["id"], item["patient"], item["instrument"]) for item in opened] == [
        (str(alert.public_id), str(clinic.patient.public_id), "phq-9")
    ]
    done = client.post(f"/api/v1/safety-alerts/{alert.public_id}/acknowledge/", {"note": "Called; safe, plan agreed."},
                       format="json")  # fmt: skip
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["acknowledged_by"], done.json()["note"]) == (
        "acknowledged", clinic.clinician.username, "Called; safe, plan agreed.",
    )  # fmt: skip
    again = clinic.client(clinic.admin).post(f"/api/v1/safety-alerts/{alert.public_id}/acknowledge/", {},
                                             format="json")  # fmt: skip
    assert again.status_code == 409
    assert client.get("/api/v1/safety-alerts/?status=open").json()["results"] == []
    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.note) == (clinic.clinician, "Called; safe, plan agreed.")
    assert client.get("/api/v1/safety-alerts/?status=closed").status_code == 400


def test_reception_and_accountants_see_no_alerts(clinic: Clinic) -> None:
    answer(clinic, item9=1)
    alert = SafetyAlert.objects.get()
    for user in (clinic.reception, clinic.accountant):
        assert clinic.client(user).get("/api/v1/safety-alerts/").status_code == 403
        assert clinic.client(user).post(f"/api/v1/safety-alerts/{alert.public_id}/acknowledge/").status_code == 403
    assert Measure.objects.get().safety_alert.status == AlertStatus.OPEN
