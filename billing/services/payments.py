"""Payments, deposits and refunds. Each writes its receipt request in the same transaction."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from backend.models import User
from billing.errors import InvoiceAlreadyPaid, NotBillable, RefundTooLarge
from billing.locks import lock_patient_billing
from billing.models import AllocationReason, Invoice, Payment, PaymentMethod, Refund
from billing.money import ensure_amount, ensure_currency
from billing.selectors import invoice_amounts, with_payment_amounts
from billing.services.documents import receipt_request, refund_receipt_request
from billing.services.invoices import ensure_payable
from billing.services.settlement import allocate, refresh_status
from scheduling.models import Location, Patient, Series


def _ensure_method(method: str) -> None:
    if method not in PaymentMethod.values:
        raise NotBillable(
            f"Unknown payment method {method!r}.", errors={"method": [f"One of {', '.join(PaymentMethod.values)}."]}
        )


@transaction.atomic  # not durable: it may run inside run_idempotent's transaction
def payment_record(
    *,
    actor: User | None,
    invoice: Invoice,
    amount: Decimal,
    method: str,
    reference: str = "",
    currency: str | None = None,
) -> Payment:
    """Take a payment on an issued invoice. What exceeds the balance is kept as the patient's credit."""
    lock_patient_billing(invoice.patient_id)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    ensure_payable(invoice)
    ensure_currency(currency or invoice.currency, invoice.currency)
    ensure_amount(amount, invoice.currency)
    _ensure_method(method)
    balance = invoice_amounts(invoice.pk).balance
    if balance <= 0:
        raise InvoiceAlreadyPaid(f"Invoice {invoice.number} is already paid in full.")
    payment = Payment.objects.create(
        patient_id=invoice.patient_id, location_id=invoice.location_id, invoice=invoice, currency=invoice.currency,
        amount=amount, method=method, reference=reference, received_at=timezone.now(), received_by=actor,
    )  # fmt: skip
    allocate(payment, invoice, min(amount, balance), AllocationReason.PAYMENT)
    refresh_status(invoice)
    receipt_request(payment=payment, actor=actor)
    return payment


@transaction.atomic  # not durable: it may run inside run_idempotent's transaction
def deposit_record(
    *,
    actor: User | None,
    patient: Patient,
    location: Location,
    amount: Decimal,
    method: str,
    currency: str | None = None,
    reference: str = "",
    series: Series | None = None,
) -> Payment:
    """A deposit taken at booking: held as the patient's credit and applied when their next invoice is issued."""
    if patient.group_id != location.group_id or (series is not None and series.patient_id != patient.pk):
        raise NotBillable("The patient, location and series do not belong together.")
    lock_patient_billing(patient.pk)
    ensure_currency(currency or location.currency, location.currency)
    ensure_amount(amount, location.currency)
    _ensure_method(method)
    payment = Payment.objects.create(
        patient=patient, location=location, series=series, is_deposit=True, currency=location.currency,
        amount=amount, method=method, reference=reference, received_at=timezone.now(), received_by=actor,
    )  # fmt: skip
    receipt_request(payment=payment, actor=actor)
    return payment


def refund(payment: Payment, amount: Decimal, reason: str, actor: User | None) -> Refund:
    """Refund part of a locked patient's payment: from its unapplied credit first, then from its invoices."""
    if not reason.strip():
        raise NotBillable("Give a reason for the refund.", errors={"reason": ["Required."]})
    ensure_amount(amount, payment.currency)
    current = with_payment_amounts(Payment.objects.filter(pk=payment.pk)).get()
    refundable = current.amount - current.refunded  # type: ignore[attr-defined]
    if amount > refundable:
        raise RefundTooLarge(
            f"At most {refundable} {payment.currency} of this payment can be refunded.",
            errors={"amount": [f"At most {refundable}."]},
            extra={"refundable": str(refundable)},
        )
    from_invoices = amount - min(amount, current.unapplied)  # type: ignore[attr-defined]
    if from_invoices > 0:
        _take_back_from_invoices(payment, from_invoices)
    created = Refund.objects.create(
        payment=payment, amount=amount, reason=reason.strip(), refunded_at=timezone.now(), refunded_by=actor
    )
    refund_receipt_request(refund=created, actor=actor)
    return created


def _take_back_from_invoices(payment: Payment, amount: Decimal) -> None:
    """The invoices this payment paid owe again what is refunded beyond its credit (newest invoice first)."""
    per_invoice: dict[int, Decimal] = {}
    for invoice_id, allocated in payment.allocations.order_by("id").values_list("invoice_id", "amount"):
        per_invoice[invoice_id] = per_invoice.get(invoice_id, Decimal(0)) + allocated
    remaining = amount
    for invoice_id in sorted(per_invoice, reverse=True):
        take = min(per_invoice[invoice_id], remaining)
        if take <= 0:
            continue
        invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
        allocate(payment, invoice, -take, AllocationReason.REFUND)
        refresh_status(invoice)
        remaining -= take
        if remaining == 0:
            return


@transaction.atomic  # not durable: it may run inside run_idempotent's transaction
def refund_record(*, actor: User | None, payment: Payment, amount: Decimal, reason: str) -> Refund:
    """Return money against a payment, with a refund receipt."""
    lock_patient_billing(payment.patient_id)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    return refund(payment, amount, reason, actor)
