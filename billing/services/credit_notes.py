"""Credit notes: the only way to correct or void an issued invoice.

A credit note either credits units of the invoice's lines (at their price and
tax rate) or a lump sum (gross, no tax split). It is numbered in the
location's credit-note series, like invoices. What it leaves paid beyond the
invoice's new net total goes back to the patient's credit; a credit note for
everything that remains voids the invoice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from backend.models import User
from billing.errors import CreditTooLarge, InvoiceNotIssued, InvoiceVoid, NotBillable
from billing.locks import lock_patient_billing
from billing.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine, InvoiceStatus, NumberSeries
from billing.money import ensure_amount, line_amounts
from billing.numbering import format_number, next_number
from billing.selectors import invoice_amounts, policy_for
from billing.services.documents import credit_note_document_request
from billing.services.settlement import refresh_status, return_excess_to_credit
from scheduling.time import local_date


@dataclass(frozen=True)
class CreditLineSpec:
    line: InvoiceLine
    quantity: Decimal


def _credited_quantity(line: InvoiceLine) -> Decimal:
    return line.credit_lines.aggregate(total=Sum("quantity"))["total"] or Decimal(0)


def _line_rows(invoice: Invoice, lines: Sequence[CreditLineSpec]) -> list[CreditNoteLine]:
    rows = []
    for index, spec in enumerate(lines):
        field = f"lines[{index}]"
        if spec.line.invoice_id != invoice.pk:
            raise NotBillable("A credited line is not on this invoice.", errors={f"{field}.line": ["Not on it."]})
        if not spec.quantity.is_finite() or spec.quantity <= 0:
            raise NotBillable("Credited quantities must be more than zero.", errors={f"{field}.quantity": ["> 0"]})
        left = spec.line.quantity - _credited_quantity(spec.line)
        if spec.quantity > left:
            raise CreditTooLarge(
                f"Only {left} of line {spec.line.description!r} is left to credit.",
                errors={f"{field}.quantity": [f"At most {left}."]},
            )
        amounts = line_amounts(
            quantity=spec.quantity, unit_price=spec.line.unit_price, tax_rate=spec.line.tax_rate,
            currency=invoice.currency,
        )  # fmt: skip
        rows.append(
            CreditNoteLine(
                invoice_line=spec.line,
                description=spec.line.description,
                code=spec.line.code,
                quantity=spec.quantity,
                unit_price=spec.line.unit_price,
                amount=amounts.amount,
                tax=amounts.tax,
                total=amounts.total,
            )
        )
    return rows


def credit(
    invoice: Invoice,
    *,
    actor: User | None,
    reason: str,
    lines: Sequence[CreditLineSpec] = (),
    amount: Decimal | None = None,
) -> CreditNote:
    """Write a credit note on a locked, issued invoice. Callers hold the patient's billing lock."""
    if invoice.is_draft:
        raise InvoiceNotIssued("Drafts are edited, not credited.")
    if invoice.status == InvoiceStatus.VOID:
        raise InvoiceVoid(f"Invoice {invoice.number} is already void.")
    if not reason.strip():
        raise NotBillable("Give a reason for the credit note.", errors={"reason": ["Required."]})
    if bool(lines) == (amount is not None):
        raise NotBillable("Give either lines to credit or an amount.", errors={"lines": ["Lines or amount."]})
    if amount is not None:
        ensure_amount(amount, invoice.currency)
        rows = [CreditNoteLine(description=f"Credit: {reason.strip()}"[:300], quantity=Decimal(1), unit_price=amount,
                               amount=amount, tax=Decimal(0), total=amount)]  # fmt: skip
    else:
        rows = _line_rows(invoice, lines)
    total = sum((row.total for row in rows), Decimal(0))
    left = invoice_amounts(invoice.pk).net
    if total > left:
        raise CreditTooLarge(
            f"Only {left} {invoice.currency} of invoice {invoice.number} is left to credit.",
            errors={"amount": [f"At most {left}."]},
            extra={"creditable": str(left)},
        )
    now = timezone.now()
    year = local_date(now, invoice.location.zone).year
    seq = next_number(location_id=invoice.location_id, series=NumberSeries.CREDIT_NOTE, year=year)
    note = CreditNote.objects.create(
        invoice=invoice, location_id=invoice.location_id, currency=invoice.currency,
        number=format_number(policy_for(invoice.location).credit_note_prefix, year, seq), number_year=year,
        number_seq=seq, reason=reason.strip(), subtotal=sum((row.amount for row in rows), Decimal(0)),
        tax_total=sum((row.tax for row in rows), Decimal(0)), total=total, issued_at=now, issued_by=actor,
    )  # fmt: skip
    for row in rows:
        row.credit_note = note
    CreditNoteLine.objects.bulk_create(rows)
    return_excess_to_credit(invoice)
    refresh_status(invoice)
    credit_note_document_request(note=note, actor=actor)
    return note


@transaction.atomic  # not durable: it may run inside run_idempotent's transaction
def credit_note_issue(
    *,
    actor: User | None,
    invoice: Invoice,
    reason: str,
    lines: Sequence[CreditLineSpec] = (),
    amount: Decimal | None = None,
) -> CreditNote:
    lock_patient_billing(invoice.patient_id)
    locked = Invoice.objects.select_for_update().select_related("location").get(pk=invoice.pk)
    return credit(locked, actor=actor, reason=reason, lines=lines, amount=amount)
