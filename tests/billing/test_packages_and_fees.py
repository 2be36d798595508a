"""Packages (sold, drawn down by completed visits, unused sessions refunded pro rata) and policy fees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import time_machine

from billing.models import Invoice, InvoiceKind, Package, PackageSale, PackageSession, Refund
from billing.selectors import invoice_amounts, patient_credit
from scheduling.booking.protocol import SeriesProtocol
from scheduling.services.appointments import appointment_book
from scheduling.services.series import series_cancel
from scheduling.services.transitions import appointment_transition
from tests.billing.conftest import MONDAY, completed_visit, pay
from tests.scheduling.conftest import Clinic, book_series, ny


def _package(clinic: Clinic) -> Package:
    return Package.objects.create(
        location=clinic.location, service_type=clinic.infusion, name="Induction series", sessions=6,
        price=Decimal("2400.00"), currency="USD", code="PKG6",
    )  # fmt: skip


def test_reception_sells_a_package_completed_visits_draw_sessions_and_are_not_billed_again(
    billing_clinic: Clinic,
) -> None:
    clinic = billing_clinic
    package = _package(clinic)
    reception = clinic.client(clinic.reception)

    sold = reception.post("/api/v1/package-sales/", {"package": str(package.public_id),
                          "patient": str(clinic.patient.public_id)}, format="json")  # fmt: skip

    assert sold.status_code == 201, sold.json()
    assert (sold.json()["invoice_number"], sold.json()["remaining"]) == ("INV-2026-00001", 6)
    assert pay(reception, sold.json()["invoice"], "2400.00").status_code == 201
    visits = [completed_visit(clinic, MONDAY + dt.timedelta(days=offset)) for offset in (0, 2)]

    detail = reception.get(f"/api/v1/package-sales/{sold.json()['id']}/").json()
    assert (detail["used"], detail["remaining"], detail["unused_value"]) == (2, 4, "1600.00")
    again = clinic.client(clinic.accountant).post("/api/v1/invoices/", {
        "patient": str(clinic.patient.public_id), "location": str(clinic.location.public_id),
        "appointments": [str(visits[0].public_id)],
    }, format="json")  # fmt: skip
    assert again.status_code == 422
    assert "package" in again.json()["detail"]


def test_closing_a_package_refunds_unused_sessions_pro_rata(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    package = _package(clinic)
    reception = clinic.client(clinic.reception)
    sale = reception.post("/api/v1/package-sales/", {"package": str(package.public_id),
                          "patient": str(clinic.patient.public_id)}, format="json").json()  # fmt: skip
    pay(reception, sale["invoice"], "2400.00")
    for offset in (0, 2, 4):
        completed_visit(clinic, MONDAY + dt.timedelta(days=offset))

    closed = clinic.client(clinic.accountant).post(f"/api/v1/package-sales/{sale['id']}/close/",
                                                    {"reason": "Patient moved away"}, format="json")  # fmt: skip

    assert closed.status_code == 200, closed.json()
    assert closed.json()["status"] == "closed"
    invoice = Invoice.objects.get(public_id=sale["invoice"])
    amounts = invoice_amounts(invoice.pk)
    assert (amounts.credited, amounts.paid, amounts.balance) == (Decimal("1200.00"), Decimal("1200.00"), 0)
    assert [refund.amount for refund in Refund.objects.all()] == [Decimal("1200.00")]
    assert patient_credit(patient_id=clinic.patient.pk, currency="USD") == 0
    assert clinic.client(clinic.reception).post(f"/api/v1/package-sales/{sale['id']}/close/").status_code == 403


def test_a_used_up_package_stops_drawing_sessions(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    package = _package(clinic)
    package.sessions = 1
    package.save()
    clinic.client(clinic.reception).post("/api/v1/package-sales/", {"package": str(package.public_id),
                                         "patient": str(clinic.patient.public_id)}, format="json")  # fmt: skip

    completed_visit(clinic, MONDAY)
    completed_visit(clinic, MONDAY + dt.timedelta(days=2))

    assert PackageSession.objects.count() == 1
    assert PackageSale.objects.get().status == "used_up"


def test_a_late_cancellation_and_a_no_show_get_draft_fee_invoices_per_policy(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    late = appointment_book(actor=clinic.reception, patient=clinic.patient, service_type=clinic.infusion,
                            location=clinic.location, start=ny(dt.date(2026, 10, 1), 14))  # fmt: skip
    missed = appointment_book(actor=clinic.reception, patient=clinic.patient2, service_type=clinic.infusion,
                              location=clinic.location, start=ny(MONDAY, 9))  # fmt: skip
    early = appointment_book(actor=clinic.reception, patient=clinic.patient2, service_type=clinic.infusion,
                             location=clinic.location, start=ny(MONDAY + dt.timedelta(days=7), 9))  # fmt: skip

    appointment_transition(actor=clinic.reception, appointment=late, action="cancel", reason="Sick")
    with time_machine.travel(ny(MONDAY, 9, 30), tick=False):  # a no-show is recorded once the visit has begun
        appointment_transition(actor=clinic.reception, appointment=missed, action="no_show")
    appointment_transition(actor=clinic.reception, appointment=early, action="cancel", reason="Travel")

    fees = Invoice.objects.filter(kind=InvoiceKind.FEE).order_by("patient__first_name")
    assert [(fee.patient_id, fee.status, fee.total) for fee in fees] == [
        (clinic.patient.pk, "draft", Decimal("150.00")), (clinic.patient2.pk, "draft", Decimal("200.00")),
    ]  # fmt: skip
    assert "Late cancellation fee" in fees[0].lines.get().description


def test_a_late_cancellation_of_the_rest_of_a_series_drafts_the_same_fee_as_a_late_single_cancellation(
    billing_clinic: Clinic,
) -> None:
    # given a series whose next visit is Monday and a single visit on Monday too
    clinic = billing_clinic
    protocol = SeriesProtocol(count=2, first_date=MONDAY, local_time=dt.time(10), min_gap_hours=48)
    series = book_series(actor=clinic.reception, patient=clinic.patient, service_type=clinic.infusion,
                         location=clinic.location, protocol=protocol)  # fmt: skip
    single = appointment_book(actor=clinic.reception, patient=clinic.patient2, service_type=clinic.infusion,
                              location=clinic.location, start=ny(MONDAY, 13))  # fmt: skip

    # when on Sunday (inside the 24-hour window) reception cancels the rest of the series, and the single visit
    with time_machine.travel(ny(MONDAY - dt.timedelta(days=1), 14), tick=False):
        series_cancel(actor=clinic.reception, series=series, reason="Moving away")
        appointment_transition(actor=clinic.reception, appointment=single, action="cancel", reason="Sick")

    # then each late visit has its draft fee, the series' as the single one's; the visit days ahead has none
    fees = Invoice.objects.filter(kind=InvoiceKind.FEE)
    assert sorted((fee.patient_id, fee.status, fee.total) for fee in fees) == sorted([
        (clinic.patient.pk, "draft", Decimal("150.00")), (clinic.patient2.pk, "draft", Decimal("150.00")),
    ])  # fmt: skip
    assert list(series.appointments.values_list("cancelled_late", flat=True).order_by("start")) == [True, False]
