"""Check-in forms: the patient's behind a signed link, a clinician's entry at check-in, the alert and the
suggestion on the patient's page; the messages that carry the form link name nothing clinical."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.test import Client

from backend.models import AuditEvent
from outcomes.links import form_token
from outcomes.models import AlertStatus, MeasureSchedule, MeasureSource, SafetyAlert, SuggestionStatus
from outcomes.services.invites import follow_up_invites_sweep
from scheduling.models import Reminder, ReminderKind, Series, SeriesTemplate
from tests.console.conftest import ConsoleClinic, signed_in
from tests.scheduling.conftest import Clinic, ny
from tests.worker.test_content_and_links import DENY
from worker.reminder_content import render

pytestmark = pytest.mark.usefixtures("instruments")


@pytest.fixture
def instruments(db: None) -> None:
    from django.apps import apps

    from outcomes.standard import load_standard_instruments

    load_standard_instruments(apps)


def induction(clinic: Clinic, follow_up_weeks: list[int] | None = None) -> Series:
    """Six visits from Monday 2026-10-05 at 09:00, Mondays to Thursdays, PHQ-9 before visits 1, 4 and 6."""
    template = SeriesTemplate.objects.create(
        group=clinic.group, location=clinic.location, name="Induction", service_type=clinic.infusion, count=6,
        weekdays=[0, 1, 2, 3], local_time=dt.time(9), min_gap_hours=24,
    )  # fmt: skip
    MeasureSchedule.objects.create(template=template, instrument_code="phq-9", before_visits=[1, 4, 6],
                                   follow_up_weeks=follow_up_weeks or [])  # fmt: skip
    payload = {"patient": str(clinic.patient.public_id), "location": str(clinic.location.public_id),
               "template": str(template.public_id), "first_date": "2026-10-05"}  # fmt: skip
    response = clinic.client(clinic.reception).post("/api/v1/series/", payload, format="json")
    assert response.status_code == 201, response.content
    return Series.objects.get(public_id=response.json()["id"])


def answers(item9: int = 0) -> dict[str, str]:
    return {f"item_{number}": "1" for number in range(1, 9)} | {"item_9": str(item9)}


def test_the_patient_answers_through_the_link_and_sees_the_crisis_guidance_at_once(
    clinic: Clinic, frozen_now: time_machine.Traveller
) -> None:
    series = induction(clinic)
    frozen_now.move_to(ny(dt.date(2026, 10, 3), 18))  # visit 1's form window is open
    url = f"/console/forms/{form_token(clinic.patient)}/"
    page = Client().get(url)
    assert page.status_code == 200
    assert "Little interest or pleasure in doing things" in page.content.decode()
    instrument = re.search(r'name="instrument" value="([0-9a-f-]+)"', page.content.decode())
    assert instrument is not None
    sent = Client().post(url, {"instrument": instrument[1], **answers(item9=2)})
    assert sent.status_code == 200
    text = sent.content.decode()
    assert "Please read this now" in text
    assert "988" in text
    assert text.index("Please read this now") < text.index("Thank you")
    alert = SafetyAlert.objects.get()
    first_visit = series.appointments.order_by("start").first()
    assert (alert.measure.source, alert.measure.appointment, alert.measure.total) == (
        MeasureSource.PATIENT, first_visit, 10,
    )  # fmt: skip
    event = AuditEvent.objects.get(action="check-in form")
    assert (event.patient_id, event.details["via"]) == (clinic.patient.public_id, "link")
    after = Client().get(url).content.decode()
    assert "Little interest" not in after  # answered: nothing is due now
    assert "There is no form for you to fill in right now" in after


def test_a_missing_answer_an_expired_or_tampered_link_change_nothing(
    clinic: Clinic, frozen_now: time_machine.Traveller
) -> None:
    induction(clinic)
    frozen_now.move_to(ny(dt.date(2026, 10, 3), 18))
    token = form_token(clinic.patient)
    url = f"/console/forms/{token}/"
    instrument = re.search(r'name="instrument" value="([0-9a-f-]+)"', Client().get(url).content.decode())
    assert instrument is not None
    partial = {key: value for key, value in answers().items() if key != "item_4"}
    missing = Client().post(url, {"instrument": instrument[1], **partial})
    assert missing.status_code == 400
    assert "question 4 has no answer" in missing.content.decode()
    assert Client().get(f"/console/forms/{token[:-2]}xx/").status_code == 400
    frozen_now.shift(dt.timedelta(days=8))
    expired = Client().post(url, {"instrument": instrument[1], **answers()})
    assert expired.status_code == 400
    assert "expired" in expired.content.decode()
    assert not SafetyAlert.objects.exists()
    assert not clinic.patient.measures.exists()


def test_a_clinician_enters_the_answers_at_check_in_and_reception_may_not(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    url = f"/console/visits/{c.visit.public_id}/forms/?instrument=gad-7"
    page = signed_in(c.clinic.clinician).get(url)
    assert page.status_code == 200
    instrument = re.search(r'name="instrument" value="([0-9a-f-]+)"', page.content.decode())
    assert instrument is not None
    form = {"instrument": instrument[1], **{f"item_{n}": "2" for n in range(1, 8)}}
    done = signed_in(c.clinic.clinician).post(url, form)
    assert done.status_code == 200
    assert "GAD-7 (Generalized Anxiety Disorder scale): 14 (moderate)" in done.content.decode()
    measure = c.clinic.patient.measures.get(instrument__code="gad-7")
    assert (measure.appointment, measure.source, measure.entered_by) == (c.visit, MeasureSource.STAFF,
                                                                        c.clinic.clinician)  # fmt: skip
    assert signed_in(c.clinic.reception).get(url).status_code == 403
    assert signed_in(c.clinic.reception).post(url, form).status_code == 403


def test_the_open_alert_heads_the_patients_page_for_clinicians_until_acknowledged(
    console_clinic: ConsoleClinic,
) -> None:
    c = console_clinic
    page = f"/console/patients/{c.clinic.patient.public_id}/"
    assert "Safety alert, open since" in signed_in(c.clinic.clinician).get(page).content.decode()
    assert "Safety alert" not in signed_in(c.clinic.reception).get(page).content.decode()
    assert "Outcomes" not in signed_in(c.clinic.reception).get(page).content.decode()
    assert "Letters to the referring provider" in signed_in(c.clinic.clinician).get(page).content.decode()
    assert "Letters to the referring provider" not in signed_in(c.clinic.reception).get(page).content.decode()
    done = signed_in(c.clinic.clinician).post(f"/console/safety-alerts/{c.alert.public_id}/acknowledge/",
                                              {"note": "Called, safe"})  # fmt: skip
    assert done.status_code == 302
    c.alert.refresh_from_db()
    assert (c.alert.status, c.alert.note, c.alert.acknowledged_by) == (AlertStatus.ACKNOWLEDGED, "Called, safe",
                                                                       c.clinic.clinician)  # fmt: skip
    assert "Safety alert, open since" not in signed_in(c.clinic.clinician).get(page).content.decode()


def test_reception_books_the_suggested_booster_from_the_patients_page(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    page = signed_in(c.clinic.reception).get(f"/console/patients/{c.clinic.patient2.public_id}/")
    assert "Booster suggested" in page.content.decode()
    booked = signed_in(c.clinic.reception).post(f"/console/suggestions/{c.suggestion.public_id}/book/",
                                                {"first_date": "2026-10-20", "time": "11:00"})  # fmt: skip
    assert booked.status_code == 302, booked.content[:500]
    c.suggestion.refresh_from_db()
    assert c.suggestion.status == SuggestionStatus.BOOKED
    assert c.suggestion.appointment is not None
    assert c.suggestion.appointment.series == c.series


def _prose(message: Any) -> list[str]:
    return [re.sub(r"https?://[^\s\"'<>]+", "", part) for part in (message.subject or "", message.text,
                                                                     message.html or "")]  # fmt: skip


def test_the_visit_reminder_carries_the_form_link_while_the_form_is_unanswered(
    clinic: Clinic, frozen_now: time_machine.Traveller
) -> None:
    clinic.infusion.reminder_offsets_hours = [48]
    clinic.infusion.save()
    series = induction(clinic)
    first = series.appointments.order_by("start").first()
    assert first is not None
    email = Reminder.objects.get(appointment=first, channel="email", kind=ReminderKind.VISIT)
    frozen_now.move_to(ny(dt.date(2026, 10, 3), 9))
    message = render(email)
    assert "/console/forms/" in message.text
    assert "short check-in form" in message.text
    for part in _prose(message):
        assert not DENY.search(part), part
    sms = render(Reminder.objects.get(appointment=first, channel="sms", kind=ReminderKind.VISIT))
    assert "/console/forms/" in sms.text
    second = Reminder.objects.get(appointment=series.appointments.order_by("start")[1], channel="email")
    assert "/console/forms/" not in render(second).text  # no form before visit 2


def test_follow_up_invitations_go_out_once_when_the_window_opens(
    clinic: Clinic, frozen_now: time_machine.Traveller
) -> None:
    induction(clinic, follow_up_weeks=[2])
    frozen_now.move_to(ny(dt.date(2026, 10, 20), 12))  # the last visit is 2026-10-13: the form is due 10-27
    assert follow_up_invites_sweep() == 0
    frozen_now.move_to(ny(dt.date(2026, 10, 24), 12))  # window open (three days before)
    assert follow_up_invites_sweep() == 2  # email and SMS
    assert follow_up_invites_sweep() == 0
    invites = Reminder.objects.filter(kind=ReminderKind.FORM_INVITE)
    assert invites.count() == 2
    for invite in invites:
        message = render(invite)
        assert "/console/forms/" in message.text
        for part in _prose(message):
            assert not DENY.search(part), part
