"""A small ledger with awkward text (non-ASCII names, commas, quotes, formula starts) for export and report tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import time_machine

from billing.models import Invoice, Payment
from billing.services.credit_notes import credit_note_issue
from billing.services.invoices import LineSpec, invoice_create, invoice_issue
from billing.services.payments import deposit_record, payment_record, refund_record
from tests.billing.conftest import issued_invoice
from tests.scheduling.conftest import NOW, Clinic

FIRST_DAY = NOW.date()  # 2026-10-01 (New York)
AWKWARD_LINES = (
    LineSpec('Infusion, "extended" (60 min)', Decimal(1), Decimal("300.00"), code="96365", service_date=FIRST_DAY),
    LineSpec('=HYPERLINK("http://evil.example","click")', Decimal(1), Decimal("10.00")),
    LineSpec("-2 adjustment", Decimal(2), Decimal("5.00")),
    LineSpec("@SUM(A1:A9)", Decimal("1.5"), Decimal("1.00"), tax_rate=Decimal("0.2")),
    LineSpec("+1 phone follow-up; naïve café", Decimal(1), Decimal("20.00"), code="99214", modifier="25"),
)


@dataclass
class Ledger:
    clinic: Clinic
    awkward: Invoice
    visit: Invoice
    card: Payment
    cash: Payment


def build_ledger(clinic: Clinic, clock: time_machine.Traveller) -> Ledger:
    """Day 1: an awkward invoice, partly paid, then credited. Day 2: a visit invoice paid in cash, partly refunded,
    and a deposit."""
    clinic.patient.first_name, clinic.patient.last_name = "Zoë", "Ramírez-Núñez"
    clinic.patient.save()
    clinic.patient2.first_name, clinic.patient2.last_name = "Seán", "O'Brien, Jr."
    clinic.patient2.save()
    actor = clinic.accountant
    awkward = invoice_issue(actor=actor, invoice=invoice_create(
        actor=actor, patient=clinic.patient, location=clinic.location, lines=AWKWARD_LINES))  # fmt: skip
    card = payment_record(actor=actor, invoice=awkward, amount=Decimal("100.00"), method="card", reference="=cmd|x")
    credit_note_issue(actor=actor, invoice=awkward, reason='Price, "corrected"', amount=Decimal("10.00"))
    clock.move_to(NOW + dt.timedelta(days=1))
    visit = issued_invoice(clinic, patient=clinic.patient2)
    cash = payment_record(actor=actor, invoice=visit, amount=Decimal("450.00"), method="cash")
    refund_record(actor=actor, payment=cash, amount=Decimal("50.00"), reason="Goodwill, partial")
    deposit_record(actor=actor, patient=clinic.patient2, location=clinic.location, amount=Decimal("200.00"),
                   method="check", reference="#1042")  # fmt: skip
    return Ledger(clinic, awkward, visit, card, cash)
