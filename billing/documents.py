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

from django.db.models import Q

from backend.documents import snapshot_digest
from backend.money import money_text, round_money
from billing.models import (
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    PackageSession,
    Payment,
    Refund,
)
from billing.selectors import invoice_amounts, policy_for, sum_of
from scheduling.models import Location, Patient, StaffMember
from scheduling.time import local_date

PLACE_OF_SERVICE = "11 (Office)"


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
    return {
        "kind": "receipt",
        "number": receipt_number(payment.public_id, "R"),
        "clinic": clinic_block(location),
        "patient": patient_block(payment.patient),
        "received_at": _when(payment.received_at, location.zone),
        "amount": money_text(payment.amount),
        "currency": payment.currency,
        "method": payment.get_method_display(),
        "reference": payment.reference,
        "invoice": invoice.number if invoice is not None else None,
        "invoice_total": money_text(invoice_amounts(invoice.pk).net) if invoice is not None else None,
        "invoice_balance": money_text(invoice_amounts(invoice.pk).balance) if invoice is not None else None,
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
        "amount": money_text(refund.amount),
        "currency": payment.currency,
        "method": payment.get_method_display(),
        "reason": refund.reason,
        "payment_receipt": receipt_number(payment.public_id, "R"),
        "invoice": payment.invoice.number if payment.invoice is not None else None,
    }


def _line(line: InvoiceLine) -> dict[str, Any]:
    return {
        "description": line.description,
        "code": line.code,
        "modifier": line.modifier,
        "ndc": line.ndc,
        "ndc_units": line.ndc_units,
        "service_date": line.service_date.isoformat() if line.service_date else None,
        "quantity": format(line.quantity.normalize(), "f"),
        "unit_price": money_text(line.unit_price),
        "tax_rate": format(line.tax_rate.normalize(), "f"),
        "amount": money_text(line.amount),
        "tax": money_text(line.tax),
        "total": money_text(line.total),
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
        "lines": [_line(line) for line in invoice.lines.order_by("position", "id")],
        "subtotal": money_text(invoice.subtotal),
        "tax_total": money_text(invoice.tax_total),
        "total": money_text(invoice.total),
        "credited": money_text(amounts.credited),
        "paid": money_text(amounts.paid),
        "balance": money_text(amounts.balance),
        "terms": terms(days),
        "due_date": (issued_on + timedelta(days=days)).isoformat(),
        "notes": invoice.notes,
    }


def _credited_line(line: CreditNoteLine) -> dict[str, Any]:
    return {
        "description": line.description, "code": line.code, "quantity": format(line.quantity.normalize(), "f"),
        "amount": money_text(line.amount), "tax": money_text(line.tax), "total": money_text(line.total),
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
        "lines": [_credited_line(line) for line in note.lines.order_by("id")],
        "subtotal": money_text(note.subtotal),
        "tax_total": money_text(note.tax_total),
        "total": money_text(note.total),
        "invoice_net": money_text(amounts.net),
        "invoice_balance": money_text(amounts.balance),
    }


def _provider(staff: StaffMember | None) -> dict[str, str] | None:
    return {"name": staff.name, "npi": staff.npi} if staff is not None else None


def superbill_payload(*, patient: Patient, start: date, end: date) -> dict[str, Any] | None:
    """Every billed service dated in [start, end] and every payment received then; None when there is nothing."""
    lines = list(
        InvoiceLine.objects.filter(
            invoice__patient=patient, invoice__kind=InvoiceKind.SERVICES, service_date__range=(start, end)
        )
        .exclude(invoice__status__in=[InvoiceStatus.DRAFT, InvoiceStatus.VOID])
        .select_related("invoice__location__group", "provider")
        .annotate(credited=sum_of(CreditNoteLine.objects.all(), "invoice_line", "total"))
        .order_by("service_date", "invoice_id", "position")
    )
    sessions = list(
        PackageSession.objects.filter(sale__patient=patient)
        .select_related("sale__package", "sale__location__group", "appointment__location")
        .order_by("appointment__start")
    )
    sessions = [s for s in sessions if start <= local_date(s.appointment.start, s.appointment.location.zone) <= end]
    services: list[dict[str, Any]] = []
    for line in lines:
        services.append({
            "date": line.service_date.isoformat() if line.service_date else "",
            "code": line.code, "modifier": line.modifier, "description": line.description, "ndc": line.ndc,
            "units": format(line.quantity.normalize(), "f"), "charge": money_text(line.total - line.credited),
            "provider": _provider(line.provider), "invoice": line.invoice.number,
        })  # fmt: skip
    for session in sessions:
        sale = session.sale
        services.append({
            "date": local_date(session.appointment.start, session.appointment.location.zone).isoformat(),
            "code": sale.package.code, "modifier": "", "description": f"{sale.package.name}: session", "ndc": "",
            "units": "1", "charge": money_text(round_money(sale.price / sale.sessions, sale.currency)),
            "provider": None, "invoice": sale.invoice.number,
        })  # fmt: skip
    if not services:
        return None
    services.sort(key=lambda service: (service["date"], service["invoice"] or ""))
    locations = {line.invoice.location for line in lines} | {session.sale.location for session in sessions}
    location = sorted(locations, key=lambda loc: loc.pk)[0]
    zone = location.zone
    payments = [
        payment
        for payment in Payment.objects.filter(patient=patient).select_related("invoice").order_by("received_at", "id")
        if start <= local_date(payment.received_at, zone) <= end
    ]
    refunds = [
        refund
        for refund in Refund.objects.filter(payment__patient=patient).order_by("refunded_at", "id")
        if start <= local_date(refund.refunded_at, zone) <= end
    ]
    credit_notes = CreditNote.objects.filter(Q(invoice__patient=patient), issued_at__date__range=(start, end))
    providers = {line.provider.pk: line.provider for line in lines if line.provider is not None}
    total_charges = sum((Decimal(service["charge"]) for service in services), Decimal(0))
    total_paid = sum((payment.amount for payment in payments), Decimal(0))
    total_refunded = sum((refund.amount for refund in refunds), Decimal(0))
    return {
        "kind": "superbill",
        "clinic": clinic_block(location),
        "patient": patient_block(patient),
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "place_of_service": PLACE_OF_SERVICE,
        "currency": location.currency,
        "providers": [{"name": staff.name, "npi": staff.npi} for staff in sorted(providers.values(), key=str)],
        "services": services,
        "payments": [
            {
                "date": local_date(payment.received_at, zone).isoformat(),
                "method": payment.get_method_display(),
                "reference": payment.reference,
                "amount": money_text(payment.amount),
                "invoice": payment.invoice.number if payment.invoice else None,
            }
            for payment in payments
        ]
        + [
            {
                "date": local_date(refund.refunded_at, zone).isoformat(),
                "method": "Refund",
                "reference": refund.reason,
                "amount": money_text(-refund.amount),
                "invoice": None,
            }
            for refund in refunds
        ],
        "credit_notes": [note.number for note in credit_notes.order_by("issued_at")],
        "total_charges": money_text(total_charges),
        "total_paid": money_text(total_paid - total_refunded),
    }
