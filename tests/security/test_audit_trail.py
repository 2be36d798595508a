"""Every read and write of patient data through the API and the admin is in an append-only audit trail."""

from __future__ import annotations

import dataclasses
from uuid import UUID

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from django.test import Client
from rest_framework.test import APIClient

from backend import audit
from backend.models import AuditEvent
from billing.models import ExportJob
from billing.services.exports import export_downloaded
from scheduling.api.appointments import AppointmentOutput
from scheduling.models import Appointment
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


def _booking(clinic: Clinic) -> dict[str, str]:
    return {"patient": str(clinic.patient.public_id), "service_type": str(clinic.infusion.public_id),
            "location": str(clinic.location.public_id), "start": ny(MONDAY, 9).isoformat()}  # fmt: skip


def test_a_change_whose_audit_event_cannot_be_written_is_undone(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lost(**_: object) -> None:
        raise OperationalError("the audit insert failed")

    monkeypatch.setattr(audit, "audit_record", lost)
    response = clinic.client(clinic.reception).post("/api/v1/appointments/", _booking(clinic), format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert not Appointment.objects.filter(patient=clinic.patient).exists()  # booked, then undone with it


def test_a_request_that_fails_after_its_change_leaves_neither_change_nor_event(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the answer could not be written")

    monkeypatch.setattr(AppointmentOutput, "to_representation", broken)  # after the booking was made
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(clinic.reception)
    response = client.post("/api/v1/appointments/", _booking(clinic), format="json")

    assert response.status_code == 500
    assert not Appointment.objects.filter(patient=clinic.patient).exists()
    assert not AuditEvent.objects.filter(object_type="appointment").exists()


def test_a_patients_access_log_lists_every_list_read_that_carried_their_data(clinic: Clinic) -> None:
    book(clinic)
    issued_invoice(clinic, patient=clinic.patient2)
    reception, accountant = clinic.client(clinic.reception), clinic.client(clinic.accountant)
    answers = [
        reception.get("/api/v1/appointments/"),
        reception.get("/api/v1/patients/"),
        reception.get("/api/v1/patients/", {"search": clinic.patient2.last_name}),
        accountant.get("/api/v1/invoices/"),
        accountant.get("/api/v1/payments/"),
        reception.get("/api/v1/series/"),
    ]
    assert all(answer.status_code == 200 for answer in answers)
    for patient in (clinic.patient, clinic.patient2):
        carried = [answer for answer in answers if str(patient.public_id) in answer.content.decode()]
        logged = AuditEvent.about(patient.public_id).filter(action="read", object_id="")
        assert len(carried) == logged.count() >= 1, patient
    log = clinic.client(clinic.admin).get(f"/api/v1/patients/{clinic.patient.public_id}/access-log/").json()
    assert len([row for row in log["results"] if row["action"] == "read" and not row["object_id"]]) == len(
        [answer for answer in answers if str(clinic.patient.public_id) in answer.content.decode()]
    )


def test_a_report_that_lists_a_patient_is_in_their_access_log(clinic: Clinic) -> None:
    issued_invoice(clinic)  # unpaid: the patient is in receivables
    aging = clinic.client(clinic.accountant).get("/api/v1/reports/ar-aging/")
    revenue = clinic.client(clinic.accountant).get(
        "/api/v1/reports/revenue/", {"from": "2026-10-01", "to": "2026-10-31"}
    )

    assert str(clinic.patient.public_id) in aging.content.decode()
    assert str(clinic.patient.public_id) not in revenue.content.decode()
    reports = AuditEvent.about(clinic.patient.public_id).filter(action="report")
    assert list(reports.values_list("object_type", flat=True)) == ["ar_aging"]


def test_an_admin_list_page_records_the_patients_it_showed(clinic: Clinic) -> None:
    book(clinic)
    browser = Client()
    browser.force_login(UserFactory(is_staff=True, is_superuser=True))

    assert browser.get("/admin/scheduling/appointment/").status_code == 200
    assert browser.get("/admin/scheduling/patient/").status_code == 200

    for patient, pages in ((clinic.patient, {"appointment", "patient"}), (clinic.patient2, {"patient"})):
        listed = AuditEvent.about(patient.public_id).filter(action="admin read", object_id="")
        assert set(listed.values_list("object_type", flat=True)) == pages, patient


def test_exports_record_every_patient_their_rows_name(clinic: Clinic) -> None:
    issued = issued_invoice(clinic).issued_at
    assert issued is not None
    day = str(issued.date())
    streamed = clinic.client(clinic.accountant).get("/api/v1/exports/stream/", {
        "kind": "invoices", "format": "csv", "from": day, "to": day,
    })  # fmt: skip
    assert streamed.status_code == 200
    job = ExportJob.objects.create(kind="invoice_lines", format="csv", date_from=issued.date(),
                                   date_to=issued.date(), requested_by=clinic.accountant)  # fmt: skip
    export_downloaded(actor=clinic.accountant, job=job, ip=None)

    events = AuditEvent.about(clinic.patient.public_id).filter(object_type="export")
    assert sorted(events.values_list("action", flat=True)) == ["download", "export"]
    assert not AuditEvent.about(clinic.patient2.public_id).filter(object_type="export").exists()
