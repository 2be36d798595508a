"""Snapshots for PDFs: the data a receipt, invoice or superbill shows, as plain JSON (money as strings).

A snapshot is taken in the transaction that creates the payment, refund or
invoice (or when a superbill is asked for) and stored on the document row; the
worker renders from it alone. Rendering twice therefore gives the same content,
and a later change elsewhere never alters a document already given out.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Sum

from backend.documents import snapshot_digest
from backend.errors import ApplicationError
from backend.money import money_text
from billing.models import (
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    PackageSession,
    Payment,
    PaymentAllocation,
    Refund,
)
from billing.money import line_amounts
from billing.selectors import invoice_amounts, policy_for, sum_of
from scheduling.models import Location, Patient, Series, StaffMember
from scheduling.time import local_date

digest = snapshot_digest  # the snapshot's digest, as every rendered document's (backend/documents.py)


def _when(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def clinic_block(location: Location) -> dict[str, str]:
    policy = policy_for(location)
    return {
        "name": location.group.name if location.group.name else location.name,
        "location": location.name,
        "address": location.address,
        "phone": location.phone,
        "tax_id": policy.tax_id,
        "npi": policy.npi,
    }


def patient_block(patient: Patient) -> dict[str, Any]:
    return {
        "id": str(patient.public_id),
        "name": f"{patient.first_name} {patient.last_name}",
        "date_of_birth": patient.date_of_birth.isoformat(),
        "email": patient.email,
        "phone": patient.phone,
        "diagnosis_codes": list(patient.diagnosis_codes),
    }


def receipt_number(public_id: Any, prefix: str) -> str:
    return f"{prefix}-{public_id.hex[:10].upper()}"


def receipt_payload(payment: Payment) -> dict[str, Any]:
    location = payment.location
    invoice = payment.invoice
    amounts = invoice_amounts(invoice.pk) if invoice is not None else None
    return {
        "kind": "receipt",
        "number": receipt_number(payment.public_id, "R"),
        "clinic": clinic_block(location),
        "patient": patient_block(payment.patient),
        "received_at": _when(payment.received_at, location.zone),
        "amount": money_text(payment.amount, payment.currency),
        "currency": payment.currency,
        "method": payment.get_method_display(),
        "reference": payment.reference,
        "invoice": invoice.number if invoice is not None else None,
        "invoice_total": money_text(amounts.net, payment.currency) if amounts is not None else None,
        "invoice_balance": money_text(amounts.balance, payment.currency) if amounts is not None else None,
        "is_deposit": payment.is_deposit,
    }


def refund_receipt_payload(refund: Refund) -> dict[str, Any]:
    payment = refund.payment
    location = payment.location
    return {
        "kind": "refund_receipt",
        "number": receipt_number(refund.public_id, "RF"),
        "clinic": clinic_block(location),
        "patient": patient_block(payment.patient),
        "refunded_at": _when(refund.refunded_at, location.zone),
        "amount": money_text(refund.amount, payment.currency),
        "currency": payment.currency,
        "method": payment.get_method_display(),
        "reason": refund.reason,
        "payment_receipt": receipt_number(payment.public_id, "R"),
        "invoice": payment.invoice.number if payment.invoice is not None else None,
    }


def _line(line: InvoiceLine, currency: str) -> dict[str, Any]:
    return {
        "description": line.description,
        "code": line.code,
        "modifier": line.modifier,
        "ndc": line.ndc,
        "ndc_units": line.ndc_units,
        "service_date": line.service_date.isoformat() if line.service_date else None,
        "quantity": format(line.quantity.normalize(), "f"),
        "unit_price": money_text(line.unit_price, currency),
        "tax_rate": format(line.tax_rate.normalize(), "f"),
        "amount": money_text(line.amount, currency),
        "tax": money_text(line.tax, currency),
        "total": money_text(line.total, currency),
    }


def terms(days: int) -> str:
    return "Due on receipt" if days == 0 else f"Net {days} days"


def invoice_payload(invoice: Invoice) -> dict[str, Any]:
    """The invoice as issued: its lines, totals, what was paid when it was issued (the patient's credit is
    applied then), the balance due, the terms and the due date."""
    location = invoice.location
    assert invoice.issued_at is not None  # noqa: S101 - only issued invoices have documents
    amounts = invoice_amounts(invoice.pk)
    days = policy_for(location).payment_terms_days
    issued_on = local_date(invoice.issued_at, location.zone)
    return {
        "kind": "invoice",
        "number": invoice.number,
        "clinic": clinic_block(location),
        "patient": patient_block(invoice.patient),
        "issued_at": _when(invoice.issued_at, location.zone),
        "currency": invoice.currency,
        "lines": [_line(line, invoice.currency) for line in invoice.lines.order_by("position", "id")],
        "subtotal": money_text(invoice.subtotal, invoice.currency),
        "tax_total": money_text(invoice.tax_total, invoice.currency),
        "total": money_text(invoice.total, invoice.currency),
        "credited": money_text(amounts.credited, invoice.currency),
        "paid": money_text(amounts.paid, invoice.currency),
        "balance": money_text(amounts.balance, invoice.currency),
        "terms": terms(days),
        "due_date": (issued_on + timedelta(days=days)).isoformat(),
        "notes": invoice.notes,
    }


def _credited_line(line: CreditNoteLine, currency: str) -> dict[str, Any]:
    return {
        "description": line.description, "code": line.code, "quantity": format(line.quantity.normalize(), "f"),
        "amount": money_text(line.amount, currency), "tax": money_text(line.tax, currency),
        "total": money_text(line.total, currency),
    }  # fmt: skip


def credit_note_payload(note: CreditNote) -> dict[str, Any]:
    """A credit note as issued: the invoice it corrects, why, the lines credited and the invoice's balance after."""
    invoice = note.invoice
    location = invoice.location
    amounts = invoice_amounts(invoice.pk)
    return {
        "kind": "credit_note",
        "number": note.number,
        "clinic": clinic_block(location),
        "patient": patient_block(invoice.patient),
        "issued_at": _when(note.issued_at, location.zone),
        "invoice": invoice.number,
        "invoice_issued": local_date(invoice.issued_at, location.zone).isoformat() if invoice.issued_at else "",
        "reason": note.reason,
        "currency": note.currency,
        "lines": [_credited_line(line, note.currency) for line in note.lines.order_by("id")],
        "subtotal": money_text(note.subtotal, note.currency),
        "tax_total": money_text(note.tax_total, note.currency),
        "total": money_text(note.total, note.currency),
        "invoice_net": money_text(amounts.net, note.currency),
        "invoice_balance": money_text(amounts.balance, note.currency),
    }


POINTERS = "ABCDEFGHIJKL"  # a claim form's diagnosis pointers
ATTESTATION = (
    "I certify that the services listed above were medically necessary and were personally rendered or "
    "supervised by me."
)


def _provider(staff: StaffMember | None, supervisor: StaffMember | None) -> dict[str, str]:
    """The rendering provider: the staff member on the line, or the location's supervising provider when the
    staff member has no NPI of their own."""
    chosen = staff if staff is not None and staff.npi else supervisor or staff
    if chosen is None:
        return {"name": "(not recorded)", "credentials": "", "npi": ""}
    return {"name": chosen.name, "credentials": chosen.credentials, "npi": chosen.npi}


def _paid_per_line(invoices: set[int]) -> dict[int, Decimal]:
    """What the payments on each invoice settled of each of its lines: lines in order, each up to its net total."""
    paid = dict(
        PaymentAllocation.objects.filter(invoice_id__in=invoices)
        .values("invoice_id").annotate(total=Sum("amount")).values_list("invoice_id", "total")
    )  # fmt: skip
    lines = (
        InvoiceLine.objects.filter(invoice_id__in=invoices)
        .annotate(credited=sum_of(CreditNoteLine.objects.all(), "invoice_line", "total"))
        .order_by("invoice_id", "position", "id")
    )
    settled: dict[int, Decimal] = {}
    for line in lines:
        left = paid.get(line.invoice_id) or Decimal(0)
        take = max(Decimal(0), min(left, line.total - line.credited))
        settled[line.pk] = take
        paid[line.invoice_id] = left - take
    return settled


def superbill_payload(
    *, patient: Patient, start: date, end: date, series: Series | None = None
) -> dict[str, Any] | None:
    """Every clinical service delivered in [start, end] (of one series when given), None when there is nothing.

    A line is clinical when it has a CPT/HCPCS code: retail items and their tax are not on a superbill. Units and
    charges are net of credit notes; a line credited in full is left out. "Paid" is what the payments on each
    invoice settled of exactly the lines listed (``_paid_per_line``); prepaid package sessions appear as the
    fee-schedule lines of the service delivered, paid by the package.
    """
    rows = (
        InvoiceLine.objects.filter(invoice__patient=patient, invoice__kind=InvoiceKind.SERVICES)
        .exclude(code="")
        .exclude(invoice__status__in=[InvoiceStatus.DRAFT, InvoiceStatus.VOID])
        .select_related("invoice__location__group", "provider", "appointment__service_type", "appointment__location")
        .annotate(
            credited=sum_of(CreditNoteLine.objects.all(), "invoice_line", "total"),
            credited_units=sum_of(CreditNoteLine.objects.all(), "invoice_line", "quantity"),
        )
        .order_by("service_date", "invoice_id", "position")
    )
    if series is not None:
        rows = rows.filter(appointment__series=series)
    lines = [line for line in rows if start <= _service_day(line) <= end and line.total > line.credited]
    sessions = [
        session
        for session in PackageSession.objects.filter(sale__patient=patient)
        .select_related("sale__package", "sale__location__group", "appointment__location", "appointment__service_type")
        .order_by("appointment__start")
        if start <= local_date(session.appointment.start, session.appointment.location.zone) <= end
        and (series is None or session.appointment.series_id == series.pk)
    ]
    if not lines and not sessions:
        return None
    locations = {line.invoice.location for line in lines} | {session.sale.location for session in sessions}
    location = sorted(locations, key=lambda loc: loc.pk)[0]
    supervisor = policy_for(location).supervising_provider
    codes = list(patient.diagnosis_codes)[: len(POINTERS)]
    pointer = POINTERS[: min(len(codes), 4)]
    settled = _paid_per_line({line.invoice_id for line in lines})
    services: list[dict[str, Any]] = []
    for line in lines:
        appointment = line.appointment
        units = line.quantity - line.credited_units
        charge = line.total - line.credited
        services.append({
            "date": _service_day(line).isoformat(),
            "place_of_service": appointment.service_type.place_of_service if appointment else "11",
            "code": line.code, "modifier": line.modifier, "description": line.description,
            "ndc": line.ndc, "ndc_units": line.ndc_units, "units": format(units.normalize(), "f"),
            "charge": money_text(charge, line.invoice.currency),
            "paid": money_text(settled.get(line.pk, Decimal(0)), line.invoice.currency),
            "pointer": pointer, "provider": _provider(line.provider, supervisor), "invoice": line.invoice.number,
            "by_package": False,
        })  # fmt: skip
    for session in sessions:
        services += _package_session_lines(session, pointer, supervisor)
    services.sort(key=lambda service: (service["date"], service["invoice"] or "", service["code"]))
    total_charges = sum((Decimal(service["charge"]) for service in services), Decimal(0))
    total_paid = sum((Decimal(service["paid"]) for service in services), Decimal(0))
    referrer = patient.referrer
    return {
        "kind": "superbill",
        "clinic": clinic_block(location),
        "patient": {**patient_block(patient), "address": patient.address},
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "series": str(series.public_id) if series is not None else None,
        "currency": location.currency,
        "diagnoses": [{"pointer": POINTERS[index], "code": code} for index, code in enumerate(codes)],
        "referring_provider": {"name": referrer.name, "credentials": referrer.credentials, "npi": referrer.npi}
        if referrer is not None else None,
        "services": services,
        "total_charges": money_text(total_charges, location.currency),
        "total_paid": money_text(total_paid, location.currency),
        "balance": money_text(total_charges - total_paid, location.currency),
        "attestation": ATTESTATION,
    }  # fmt: skip


def _service_day(line: InvoiceLine) -> date:
    """The day a line's service was delivered: its own date, its visit's, else the day it was invoiced."""
    if line.service_date is not None:
        return line.service_date
    if line.appointment is not None:
        return local_date(line.appointment.start, line.appointment.location.zone)
    invoice = line.invoice
    return local_date(invoice.issued_at or invoice.created_at, invoice.location.zone)


def _package_session_lines(
    session: PackageSession, pointer: str, supervisor: StaffMember | None
) -> list[dict[str, Any]]:
    """A prepaid session as the fee-schedule lines of the service delivered, at their price, paid by the package."""
    from billing.services.invoices import fee_lines_for  # the services import this module: import when called

    appointment = session.appointment
    try:
        specs = fee_lines_for(appointment)
    except ApplicationError:
        specs = []
    day = local_date(appointment.start, appointment.location.zone).isoformat()
    lines = []
    for spec in specs:
        if not spec.code:
            continue
        charge = line_amounts(
            quantity=spec.quantity, unit_price=spec.unit_price, tax_rate=spec.tax_rate, currency=session.sale.currency
        ).total  # priced as an invoice line would be
        lines.append({
            "date": day, "place_of_service": appointment.service_type.place_of_service, "code": spec.code,
            "modifier": spec.modifier, "description": spec.description, "ndc": spec.ndc, "ndc_units": spec.ndc_units,
            "units": format(spec.quantity.normalize(), "f"), "charge": money_text(charge, session.sale.currency),
            "paid": money_text(charge, session.sale.currency),
            "pointer": pointer, "provider": _provider(spec.provider, supervisor),
            "invoice": session.sale.invoice.number, "by_package": True,
        })  # fmt: skip
    return lines
