"""Billing test helpers: completed visits, a fee schedule, issued invoices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from billing.models import BillingPolicy, FeeScheduleItem, Invoice
from billing.services.invoices import invoice_create_for_appointments, invoice_issue
from scheduling.models import Appointment
from scheduling.services.appointments import appointment_book
from scheduling.services.transitions import appointment_transition
from tests.scheduling.conftest import Clinic, ny

MONDAY = dt.date(2026, 10, 5)


def completed_visit(clinic: Clinic, day: dt.date = MONDAY, hour: int = 9, patient: Any = None, service: Any = None
                    ) -> Appointment:  # fmt: skip
    appointment = appointment_book(
        actor=clinic.reception, patient=patient or clinic.patient, service_type=service or clinic.infusion,
        location=clinic.location, start=ny(day, hour),
    )  # fmt: skip
    with time_machine.travel(appointment.start, tick=False):  # check-in opens shortly before the visit
        for action in ("check_in", "start", "complete"):
            appointment = appointment_transition(actor=clinic.clinician, appointment=appointment, action=action)
    return appointment


def add_fee_schedule(clinic: Clinic) -> None:
    """The infusion bills the first hour of IV infusion, the drug (with NDC) and an E/M visit with modifier 25."""
    FeeScheduleItem.objects.bulk_create([
        FeeScheduleItem(service_type=clinic.infusion, position=0, code="96365",
                        description="IV infusion, first hour", unit_price=Decimal("300.00")),
        FeeScheduleItem(service_type=clinic.infusion, position=1, code="J3490", description="Ketamine HCl",
                        quantity=Decimal(1), unit_price=Decimal("50.00"), ndc="42023-0113-10", ndc_units="ML 2"),
        FeeScheduleItem(service_type=clinic.infusion, position=2, code="99214", modifier="25",
                        description="Established patient visit", unit_price=Decimal("100.00")),
    ])  # fmt: skip
    BillingPolicy.objects.create(
        location=clinic.location, tax_id="12-3456789", npi="1538293840", late_cancellation_fee=Decimal("150.00"),
        no_show_fee=Decimal("200.00"),
    )  # fmt: skip


def issued_invoice(clinic: Clinic, day: dt.date = MONDAY, patient: Any = None) -> Invoice:
    """An issued invoice for one completed infusion: 300 + 50 + 100 = 450.00 USD."""
    visit = completed_visit(clinic, day, patient=patient)
    invoice = invoice_create_for_appointments(
        actor=clinic.accountant, patient=visit.patient, location=clinic.location, appointments=[visit]
    )
    return invoice_issue(actor=clinic.accountant, invoice=invoice)


@pytest.fixture
def billing_clinic(clinic: Clinic) -> Clinic:
    add_fee_schedule(clinic)
    return clinic


def bill_visits(client: APIClient, clinic: Clinic, *visits: Appointment) -> Any:
    """POST a draft invoice of ``visits`` for the clinic's patient at its location."""
    return client.post("/api/v1/invoices/", {
        "patient": str(clinic.patient.public_id), "location": str(clinic.location.public_id),
        "appointments": [str(visit.public_id) for visit in visits],
    }, format="json")  # fmt: skip


def pay(client: APIClient, invoice: Invoice | str, amount: Any, method: str = "card", **extra: Any) -> Any:
    invoice_id = invoice if isinstance(invoice, str) else str(invoice.public_id)
    return client.post(f"/api/v1/invoices/{invoice_id}/payments/", {"amount": amount, "method": method, **extra},
                       format="json")  # fmt: skip
