"""Every read and write of patient data through the API and the admin is in an append-only audit trail."""

from __future__ import annotations

import dataclasses
from uuid import UUID

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client

from backend import audit
from backend.models import AuditEvent
from tests.billing.conftest import MONDAY, add_fee_schedule, issued_invoice
from tests.factories import UserFactory
from tests.scheduling.conftest import Clinic, ny


def book(clinic: Clinic) -> str:
    response = clinic.client(clinic.reception).post("/api/v1/appointments/", {
        "patient": str(clinic.patient.public_id), "service_type": str(clinic.infusion.public_id),
        "location": str(clinic.location.public_id), "start": ny(MONDAY, 9).isoformat(),
    }, format="json")  # fmt: skip
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def test_api_reads_and_writes_of_patient_records_are_recorded_with_who_what_and_where(clinic: Clinic) -> None:
    appointment = book(clinic)
    clinic.client(clinic.clinician).get(f"/api/v1/appointments/{appointment}/")
    clinic.client(clinic.reception).get("/api/v1/appointments/", {"patient": str(clinic.patient.public_id)})
    clinic.client(clinic.reception).post(f"/api/v1/appointments/{appointment}/cancel/", {"reason": "ill"},
                                         format="json")  # fmt: skip

    events = list(AuditEvent.objects.filter(object_type="appointment").order_by("id"))
    assert [(event.actor, event.action, event.object_id) for event in events] == [
        (clinic.reception, "create", appointment),
        (clinic.clinician, "read", appointment),
        (clinic.reception, "read", ""),
        (clinic.reception, "cancel", appointment),
    ]
    assert {event.patient_id for event in events} == {clinic.patient.public_id}
    assert events[1].roles == "clinician"
    assert events[1].ip == "127.0.0.1"
    assert events[3].details == {"status": 200, "path": f"/api/v1/appointments/{appointment}/cancel/"}


def test_refused_attempts_are_recorded_too_and_set_up_reads_are_not(clinic: Clinic) -> None:
    appointment = book(clinic)

    clinic.client(clinic.clinician).post(f"/api/v1/appointments/{appointment}/cancel/", {}, format="json")
    clinic.client(clinic.reception).get("/api/v1/resources/")

    refused = AuditEvent.objects.get(actor=clinic.clinician)
    assert (refused.action, refused.details["status"], refused.patient_id) == ("cancel", 403, clinic.patient.public_id)
    assert not AuditEvent.objects.filter(details__path="/api/v1/resources/").exists()


def test_money_records_name_their_patient(clinic: Clinic) -> None:
    add_fee_schedule(clinic)
    invoice = issued_invoice(clinic)

    clinic.client(clinic.accountant).get(f"/api/v1/invoices/{invoice.public_id}/")

    event = AuditEvent.objects.get(object_type="invoice")
    assert (event.actor, event.action, event.patient_id) == (clinic.accountant, "read", clinic.patient.public_id)


def test_a_created_record_is_logged_with_the_patient_its_answer_names_without_a_lookup(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up: list[str] = []
    route = audit.AUDITED_ROUTES["appointment"]
    assert route is not None
    assert route.patient_of is not None
    find = route.patient_of

    def counting(object_id: str) -> UUID | None:
        looked_up.append(object_id)
        return find(object_id)

    monkeypatch.setitem(audit.AUDITED_ROUTES, "appointment", dataclasses.replace(route, patient_of=counting))

    appointment = book(clinic)
    clinic.client(clinic.clinician).get(f"/api/v1/appointments/{appointment}/")

    events = AuditEvent.objects.filter(object_type="appointment").order_by("id")
    assert [(event.action, event.patient_id) for event in events] == [
        ("create", clinic.patient.public_id),
        ("read", clinic.patient.public_id),
    ]
    assert looked_up == [appointment]  # the read looked its patient up; the create did not need to


def test_admin_pages_on_patient_records_are_recorded(clinic: Clinic) -> None:
    browser = Client()
    browser.force_login(UserFactory(is_staff=True, is_superuser=True))

    assert browser.get(f"/admin/scheduling/patient/{clinic.patient.pk}/change/").status_code == 200

    event = AuditEvent.objects.get(object_type="patient")
    assert (event.action, event.object_id, event.patient_id) == ("admin read", str(clinic.patient.pk),
                                                                 clinic.patient.public_id)  # fmt: skip


def test_the_access_log_lists_who_saw_a_patient_newest_first_for_admins(clinic: Clinic) -> None:
    appointment = book(clinic)
    clinic.client(clinic.clinician).get(f"/api/v1/appointments/{appointment}/")
    clinic.client(clinic.reception).get(f"/api/v1/patients/{clinic.patient.public_id}/")

    log = clinic.client(clinic.admin).get(f"/api/v1/patients/{clinic.patient.public_id}/access-log/")

    assert log.status_code == 200
    rows = log.json()["results"]
    assert [(row["username"], row["action"], row["object_type"]) for row in rows] == [
        (clinic.reception.username, "read", "patient"),
        (clinic.clinician.username, "read", "appointment"),
        (clinic.reception.username, "create", "appointment"),
    ]
    assert rows[0]["status"] == 200
    assert clinic.client(clinic.reception).get(f"/api/v1/patients/{clinic.patient.public_id}/access-log/"
                                               ).status_code == 403  # fmt: skip
    assert AuditEvent.objects.filter(action="read access-log", actor=clinic.admin).exists()


@pytest.mark.parametrize("statement", ["UPDATE backend_auditevent SET action = 'nothing'",
                                       "DELETE FROM backend_auditevent"])  # fmt: skip
def test_the_database_refuses_to_change_or_delete_audit_rows(clinic: Clinic, statement: str) -> None:
    book(clinic)

    with pytest.raises(IntegrityError, match="audit_immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)

    assert AuditEvent.objects.filter(action="create").count() == 1
