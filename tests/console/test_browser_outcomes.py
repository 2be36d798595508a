"""The treatment loop in real headless Chromium: a patient's check-in form with an answer that needs a
clinician, and the clinician acknowledging the alert at the top of the patient's record."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from outcomes.links import form_token
from outcomes.models import AlertStatus, Measure, MeasureSchedule, SafetyAlert
from outcomes.services.safety import safety_alert_acknowledge
from scheduling.booking.protocol import SeriesProtocol
from scheduling.models import SeriesTemplate
from tests.console.conftest import TODAY, ConsoleClinic, screenshot, sign_in
from tests.scheduling.conftest import book_series

pytestmark = pytest.mark.browser


def test_a_patient_answers_item_9_sees_the_crisis_line_and_a_clinician_acknowledges_the_alert(
    chromium: Any, live_server: Any, browser_clinic: ConsoleClinic
) -> None:
    c = browser_clinic
    safety_alert_acknowledge(actor=c.clinic.clinician, alert=c.alert, note="Seen")  # the fixture's own alert
    Measure.objects.filter(pk=c.alert.measure_id).update(taken_at=c.alert.measure.taken_at - dt.timedelta(days=10))
    template = SeriesTemplate.objects.create(group=c.clinic.group, name="Induction", service_type=c.clinic.infusion,
                                             count=2)  # fmt: skip
    MeasureSchedule.objects.create(template=template, instrument_code="phq-9", before_visits=[1])
    protocol = SeriesProtocol(count=2, first_date=TODAY, local_time=dt.time(14), weekdays=(0, 3))
    book_series(actor=c.clinic.reception, patient=c.clinic.patient, location=c.clinic.location, template=template,
                service_type=c.clinic.infusion, protocol=protocol)  # fmt: skip

    # the patient opens the link from their reminder: no sign-in
    page = chromium.new_context(viewport={"width": 900, "height": 1000}).new_page()
    page.goto(f"{live_server.url}/console/forms/{form_token(c.clinic.patient)}/")
    form = page.get_by_role("form", name="Check-in form")
    for number in range(1, 10):
        form.get_by_role("group", name=re.compile(f"^{number}\\. ")).get_by_label("Several days").check()
    screenshot(page, "check-in-form")
    form.get_by_role("button", name="Send").click()

    guidance = page.get_by_role("alert")
    expect(guidance.get_by_role("heading", name="Please read this now")).to_be_visible()
    expect(guidance).to_contain_text("988")
    screenshot(page, "check-in-form-guidance")
    alert = SafetyAlert.objects.get(status=AlertStatus.OPEN)

    # the clinician finds it at the top of the patient's record and acknowledges it
    clinician = sign_in(chromium, live_server, c.clinic.clinician)
    clinician.goto(f"{live_server.url}/console/patients/{c.clinic.patient.public_id}/")
    banner = clinician.get_by_role("alert").filter(has_text="Safety alert, open since")
    expect(banner).to_be_visible()
    expect(clinician.get_by_role("region", name="Outcomes")).to_contain_text("PHQ-9")
    screenshot(clinician, "patient-safety-alert")
    banner.get_by_label("What was done").fill("Called the patient; safe, plan agreed")
    banner.get_by_role("button", name="Acknowledge").click()
    expect(clinician.get_by_text("Safety alert, open since")).to_have_count(0)
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by, alert.note) == (
        AlertStatus.ACKNOWLEDGED, c.clinic.clinician, "Called the patient; safe, plan agreed",
    )  # fmt: skip
