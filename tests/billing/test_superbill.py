"""The superbill an insurer accepts: clinical lines only, net of credit notes, paid as applied to those lines,
package sessions as the services delivered, every line with its date, code, pointer and provider NPI."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import time_machine

from billing.documents import superbill_payload
from billing.models import BillingPolicy, Document, DocumentKind, Package
from billing.services.credit_notes import CreditLineSpec, credit_note_issue
from billing.services.invoices import LineSpec, invoice_create, invoice_create_for_appointments, invoice_issue
from billing.services.payments import deposit_record, payment_record
from scheduling.booking.protocol import SeriesProtocol
from scheduling.models import Appointment
from scheduling.services.transitions import appointment_transition
from tests.billing.conftest import MONDAY, completed_visit, issued_invoice
from tests.scheduling.conftest import Clinic, book_series

OCTOBER = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))


def staffed_without_npi(clinic: Clinic) -> None:
    """Nurses carry no NPI; the location names its supervising physician."""
    for nurse in (clinic.nurse, clinic.nurse2):
        nurse.npi = ""
        nurse.save()
    clinic.physician.npi, clinic.physician.credentials = "1245319599", "MD"
    clinic.physician.save()
    BillingPolicy.objects.filter(location=clinic.location).update(supervising_provider=clinic.physician)


def test_paid_is_what_was_applied_to_the_listed_lines_and_every_line_is_claimable(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    staffed_without_npi(clinic)
    actor = clinic.accountant
    clinic.patient.address = "12 Elm St, Somerville, MA 02143"
    clinic.patient.save()
    deposit_record(actor=actor, patient=clinic.patient, location=clinic.location, amount=Decimal("100.00"),
                   method="card")  # fmt: skip
    first = issued_invoice(clinic)  # 450.00; the deposit is applied at issue
    payment_record(actor=actor, invoice=first, amount=Decimal("200.00"), method="card")
    second = invoice_issue(actor=actor, invoice=invoice_create(actor=actor, patient=clinic.patient,
                           location=clinic.location, lines=[
        LineSpec("Ketamine HCl", Decimal(2), Decimal("50.00"), code="J3490", service_date=MONDAY + dt.timedelta(1)),
        LineSpec("Water bottle", Decimal(1), Decimal("5.00"), tax_rate=Decimal("0.2")),
    ]))  # fmt: skip
    drug = second.lines.get(code="J3490")
    credit_note_issue(actor=actor, invoice=second, reason="One vial unused", lines=[CreditLineSpec(drug, Decimal(1))])
    payment_record(actor=actor, invoice=second, amount=Decimal("30.00"), method="cash")
    package = Package.objects.create(location=clinic.location, service_type=clinic.infusion, name="Six",
                                     sessions=6, price=Decimal("2400.00"), currency="USD", code="PKG6")  # fmt: skip
    sold = clinic.client(clinic.reception).post("/api/v1/package-sales/", {
        "package": str(package.public_id), "patient": str(clinic.patient.public_id)}, format="json")  # fmt: skip
    assert sold.status_code == 201, sold.json()
    completed_visit(clinic, MONDAY + dt.timedelta(days=2))  # drawn from the package

    payload = superbill_payload(patient=clinic.patient, start=OCTOBER[0], end=OCTOBER[1])
    assert payload is not None
    services = payload["services"]
    assert [(s["date"], s["code"], s["units"], s["charge"], s["paid"], s["by_package"]) for s in services] == [
        ("2026-10-05", "96365", "1", "300.00", "300.00", False),
        ("2026-10-05", "99214", "1", "100.00", "0.00", False),
        ("2026-10-05", "J3490", "1", "50.00", "0.00", False),
        ("2026-10-06", "J3490", "1", "50.00", "30.00", False),  # two units, one credited
        ("2026-10-07", "96365", "1", "300.00", "300.00", True),
        ("2026-10-07", "99214", "1", "100.00", "100.00", True),
        ("2026-10-07", "J3490", "1", "50.00", "50.00", True),
    ]  # the water bottle and its tax are not on it
    assert payload["total_paid"] == "780.00" == f"{100 + 200 + 30 + 450}.00"  # applied to exactly these lines
    assert payload["total_charges"] == "950.00"
    for service in services:
        assert service["date"]
        assert service["code"]
        assert service["pointer"] == "A"
        assert service["place_of_service"] == "11"
        assert service["provider"] == {"name": clinic.physician.name, "credentials": "MD", "npi": "1245319599"}
    assert payload["diagnoses"] == [{"pointer": "A", "code": "F43.10"}]
    assert payload["patient"]["address"] == "12 Elm St, Somerville, MA 02143"


def test_a_superbill_per_series_lists_only_that_series_visits(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    series = book_series(
        protocol=SeriesProtocol(count=2, first_date=MONDAY, local_time=dt.time(13), weekdays=(0, 2)),
        actor=clinic.reception, patient=clinic.patient, service_type=clinic.infusion, location=clinic.location,
    )  # fmt: skip
    for booked in series.appointments.order_by("start"):
        with time_machine.travel(booked.start, tick=False):
            for action in ("check_in", "start", "complete"):
                appointment_transition(actor=clinic.clinician, appointment=booked, action=action)
    actor = clinic.accountant
    visits = list(Appointment.objects.filter(series=series))  # as they are now: completed
    invoice_issue(actor=actor, invoice=invoice_create_for_appointments(
        actor=actor, patient=clinic.patient, location=clinic.location, appointments=visits))  # fmt: skip
    issued_invoice(clinic, MONDAY + dt.timedelta(days=1))  # a single visit, outside the series

    url = f"/api/v1/patients/{clinic.patient.public_id}/superbill/?series={series.public_id}"
    response = clinic.client(clinic.reception).get(url)
    assert response.status_code == 202, response.json()
    document = Document.objects.get(kind=DocumentKind.SUPERBILL)
    assert (document.period_start, document.period_end) == (MONDAY, MONDAY + dt.timedelta(days=2))
    assert {s["date"] for s in document.payload["services"]} == {"2026-10-05", "2026-10-07"}
    assert document.payload["series"] == str(series.public_id)
    other = clinic.client(clinic.reception).get(
        f"/api/v1/patients/{clinic.patient2.public_id}/superbill/?series={series.public_id}"
    )
    assert other.status_code == 400
    assert "series" in other.json()["errors"]
