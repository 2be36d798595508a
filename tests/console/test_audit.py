"""The console's pages are in the audit trail like the API: every patient a page showed, every change a form
made, a change and its event in one transaction."""

from __future__ import annotations

import pytest
import time_machine
from django.db import OperationalError

from backend.models import AuditEvent
from console import access
from tests.console.conftest import TODAY, ConsoleClinic, signed_in
from tests.scheduling.conftest import ny


def test_the_day_board_records_every_patient_it_showed(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    html = signed_in(c.clinic.reception).get("/console/day/").content.decode()

    assert c.clinic.patient.last_name in html
    (event,) = AuditEvent.about(c.clinic.patient.public_id).filter(object_type__startswith="console")
    assert (event.actor, event.action, event.object_type) == (c.clinic.reception, "console read", "console day")
    assert event.details["path"] == "/console/day/"


def test_a_patients_page_is_in_their_access_log_and_not_in_others(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    signed_in(c.clinic.clinician).get(f"/console/patients/{c.clinic.patient.public_id}/")

    events = AuditEvent.about(c.clinic.patient.public_id).filter(object_type="console patient")
    assert [event.object_id for event in events] == [str(c.clinic.patient.public_id)]
    assert not AuditEvent.about(c.clinic.patient2.public_id).filter(object_type="console patient").exists()


def test_a_page_without_patients_records_nothing(console_clinic: ConsoleClinic) -> None:
    response = signed_in(console_clinic.clinic.accountant).get("/console/billing/reports/revenue/")

    assert response.status_code == 200
    assert not AuditEvent.objects.filter(object_type__startswith="console").exists()  # the report's own event only


def test_a_console_change_whose_audit_event_cannot_be_written_is_undone(
    console_clinic: ConsoleClinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = console_clinic

    def lost(**_: object) -> None:
        raise OperationalError("the audit insert failed")

    monkeypatch.setattr(access, "audit_record", lost)
    with time_machine.travel(ny(TODAY, 8, 30), tick=False):
        response = signed_in(c.clinic.reception).post(f"/console/visits/{c.visit.public_id}/confirm/")

    assert response.status_code == 503
    c.visit.refresh_from_db()
    assert c.visit.status == "scheduled"


def test_a_console_change_is_recorded_with_its_patient(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    with time_machine.travel(ny(TODAY, 8, 30), tick=False):
        signed_in(c.clinic.reception).post(f"/console/visits/{c.visit.public_id}/confirm/")

    c.visit.refresh_from_db()
    assert c.visit.status == "confirmed"
    change = AuditEvent.objects.get(action="console change")
    assert change.object_id == str(c.visit.public_id)
    assert c.clinic.patient.public_id in (change.patients or [])
