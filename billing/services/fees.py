"""Fees by location policy: a late cancellation or a no-show gets a draft fee invoice.

The draft is written in the same transaction as the status change; an
accountant reviews it and issues it, or deletes it to waive the fee.
"""

from __future__ import annotations

from decimal import Decimal

from backend.models import User
from billing.models import Invoice, InvoiceKind, InvoiceLine
from billing.selectors import policy_for
from billing.services.invoices import LineSpec, invoice_create
from scheduling.models import Appointment, AppointmentStatus
from scheduling.time import local_date

FEE_LABELS = {"late_cancellation": "Late cancellation fee", "no_show": "Missed appointment (no-show) fee"}


def fee_invoice_for(appointment: Appointment, *, actor: User | None) -> Invoice | None:
    """The draft fee invoice the location's policy asks for after this visit's cancellation or no-show, if any."""
    policy = policy_for(appointment.location)
    if appointment.status == AppointmentStatus.NO_SHOW:
        kind, fee = "no_show", policy.no_show_fee
    elif appointment.status == AppointmentStatus.CANCELLED and appointment.cancelled_late:
        kind, fee = "late_cancellation", policy.late_cancellation_fee
    else:
        return None
    if fee <= 0 or InvoiceLine.objects.filter(appointment=appointment, invoice__kind=InvoiceKind.FEE).exists():
        return None
    day = local_date(appointment.start, appointment.location.zone)
    line = LineSpec(
        description=f"{FEE_LABELS[kind]}, visit of {day:%Y-%m-%d}", quantity=Decimal(1), unit_price=fee,
        service_date=day, appointment=appointment,
    )  # fmt: skip
    return invoice_create(
        actor=actor, patient=appointment.patient, location=appointment.location, lines=[line], kind=InvoiceKind.FEE
    )
