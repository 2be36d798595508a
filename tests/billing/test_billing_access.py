"""Patients read only their own money records; other patients' are 404 with no data."""

from __future__ import annotations

from backend.roles import Role
from tests.billing.conftest import issued_invoice, pay
from tests.factories import UserFactory
from tests.scheduling.conftest import Clinic


def _patient_client(clinic: Clinic, patient: object) -> object:
    user = UserFactory(roles=[Role.PATIENT])
    patient.user = user  # type: ignore[attr-defined]
    patient.save()  # type: ignore[attr-defined]
    return clinic.client(user)


def test_a_patient_sees_their_issued_invoices_and_payments_and_nobody_elses(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    mine = issued_invoice(clinic)
    theirs = issued_invoice(clinic, patient=clinic.patient2)
    payment = pay(clinic.client(clinic.reception), theirs, "10.00").json()
    client = _patient_client(clinic, clinic.patient)

    listing = client.get("/api/v1/invoices/")  # type: ignore[attr-defined]
    other = client.get(f"/api/v1/invoices/{theirs.public_id}/")  # type: ignore[attr-defined]
    other_pdf = client.get(f"/api/v1/invoices/{theirs.public_id}/pdf/")  # type: ignore[attr-defined]
    other_receipt = client.get(f"/api/v1/payments/{payment['id']}/receipt/")  # type: ignore[attr-defined]
    other_superbill = client.get(  # type: ignore[attr-defined]
        f"/api/v1/patients/{clinic.patient2.public_id}/superbill/?from=2026-10-01&to=2026-10-31"
    )

    assert [row["id"] for row in listing.json()["results"]] == [str(mine.public_id)]
    for response in (other, other_pdf, other_receipt, other_superbill):
        assert response.status_code == 404
        assert str(theirs.public_id) not in response.content.decode()
        assert "Jamie" not in response.content.decode()


def test_a_patient_cannot_pay_issue_or_refund(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)
    client = _patient_client(clinic, clinic.patient)

    assert pay(client, invoice, "10.00").status_code == 403  # type: ignore[arg-type]
    assert client.post(f"/api/v1/invoices/{invoice.public_id}/issue/").status_code == 403  # type: ignore[attr-defined]


def test_staff_of_another_clinic_group_see_none_of_its_invoices(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)
    outsider = UserFactory(roles=[Role.ACCOUNTANT])

    response = clinic.client(outsider).get(f"/api/v1/invoices/{invoice.public_id}/")

    assert response.status_code == 404
    assert clinic.client(outsider).get("/api/v1/invoices/").json()["count"] == 0
