"""Fields the server owns (number, totals, status, patient, ids) cannot be written through PATCH or PUT."""

from __future__ import annotations

from decimal import Decimal

from billing.models import Invoice
from billing.services.invoices import LineSpec, invoice_create
from scheduling.models import Appointment
from tests.billing.conftest import MONDAY, add_fee_schedule, issued_invoice
from tests.scheduling.conftest import Clinic, ny

FORGED = {"number": "INV-FORGED", "status": "paid", "subtotal": "0.01", "tax_total": "0.00", "total": "0.01",
          "paid": "999.00", "balance": "0.00", "issued_at": "2020-01-01T00:00:00Z",
          "id": "00000000-0000-4000-8000-000000000000"}  # fmt: skip


def test_patching_a_draft_cannot_set_its_number_totals_status_or_patient(clinic: Clinic) -> None:
    line = LineSpec("Consultation", Decimal(1), Decimal("120.00"), code="99204")
    draft = invoice_create(actor=clinic.accountant, patient=clinic.patient, location=clinic.location, lines=[line])
    accountant = clinic.client(clinic.accountant)

    response = accountant.patch(f"/api/v1/invoices/{draft.public_id}/",
                                {**FORGED, "patient": str(clinic.patient2.public_id), "notes": "checked"},
                                format="json")  # fmt: skip

    assert response.status_code in (200, 400), response.content
    stored = Invoice.objects.get(pk=draft.pk)
    assert (stored.number, stored.status, stored.total, stored.patient_id, stored.public_id) == (
        None, "draft", Decimal("120.00"), clinic.patient.pk, draft.public_id
    )  # fmt: skip
    if response.status_code == 200:
        assert (response.json()["total"], response.json()["status"]) == ("120.00", "draft")


def test_an_issued_invoice_refuses_any_patch(clinic: Clinic) -> None:
    add_fee_schedule(clinic)
    invoice = issued_invoice(clinic)

    response = clinic.client(clinic.accountant).patch(f"/api/v1/invoices/{invoice.public_id}/", FORGED, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "invoice_immutable")
    assert Invoice.objects.get(pk=invoice.pk).total == invoice.total


def test_an_appointment_patch_moves_it_and_nothing_else(clinic: Clinic) -> None:
    reception = clinic.client(clinic.reception)
    created = reception.post("/api/v1/appointments/", {
        "patient": str(clinic.patient.public_id), "service_type": str(clinic.infusion.public_id),
        "location": str(clinic.location.public_id), "start": ny(MONDAY, 9).isoformat(),
    }, format="json").json()  # fmt: skip

    reception.patch(f"/api/v1/appointments/{created['id']}/", {
        "patient": str(clinic.patient2.public_id), "status": "completed", "cancelled_late": True,
        "id": "00000000-0000-4000-8000-000000000000",
    }, format="json")  # fmt: skip

    stored = Appointment.objects.get(public_id=created["id"])
    assert (stored.patient_id, stored.status, stored.cancelled_late) == (clinic.patient.pk, "scheduled", False)
