"""Settlement: applying payments to invoices, returning excess to credit, and the status that follows.

Private helpers of the billing services; callers hold the patient's billing
lock (``billing.locks``) and the invoice's row lock.

- An invoice's ``paid`` is the sum of its allocations; its ``balance`` is
  ``total - credited - paid`` and never goes below zero.
- A payment's unapplied remainder is the patient's credit: overpayments and
  deposits. Issuing an invoice applies the credit, oldest payment first.
- Status follows the amounts: ``void`` when fully credited, ``paid`` at a zero
  balance, ``partially_paid`` when something is paid, else ``issued``.
"""

from __future__ import annotations

from decimal import Decimal

from billing.models import AllocationReason, Invoice, InvoiceStatus, Payment, PaymentAllocation
from billing.selectors import invoice_amounts, with_payment_amounts


def status_for(*, total: Decimal, credited: Decimal, paid: Decimal) -> str:
    if credited > 0 and credited >= total:
        return InvoiceStatus.VOID
    if paid >= total - credited:
        return InvoiceStatus.PAID
    if paid > 0:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.ISSUED


def refresh_status(invoice: Invoice) -> None:
    amounts = invoice_amounts(invoice.pk)
    status = status_for(total=amounts.total, credited=amounts.credited, paid=amounts.paid)
    if status != invoice.status:
        invoice.status = status
        invoice.save(update_fields=["status", "updated_at"])


def allocate(payment: Payment, invoice: Invoice, amount: Decimal, reason: str) -> None:
    if amount != 0:
        PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=amount, reason=reason)


def apply_patient_credit(invoice: Invoice) -> Decimal:
    """Apply the patient's unapplied payments (same currency) to the invoice's balance; return how much."""
    balance = invoice_amounts(invoice.pk).balance
    applied = Decimal(0)
    if balance <= 0:
        return applied
    credits = (
        with_payment_amounts(Payment.objects.filter(patient_id=invoice.patient_id, currency=invoice.currency))
        .filter(unapplied__gt=0)  # type: ignore[misc]
        .order_by("received_at", "id")
    )
    for payment in credits:
        take = min(payment.unapplied, balance - applied)  # type: ignore[attr-defined]
        allocate(payment, invoice, take, AllocationReason.CREDIT_APPLIED)
        applied += take
        if applied == balance:
            break
    return applied


def return_excess_to_credit(invoice: Invoice) -> Decimal:
    """When credit notes leave an invoice paid beyond its net total, take the excess back, newest payment first."""
    amounts = invoice_amounts(invoice.pk)
    excess = amounts.paid - amounts.net
    returned = Decimal(0)
    if excess <= 0:
        return returned
    for payment_id, allocated in _net_allocations(invoice):
        take = min(allocated, excess - returned)
        allocate(Payment(pk=payment_id), invoice, -take, AllocationReason.OVERPAID_BY_CREDIT_NOTE)
        returned += take
        if returned == excess:
            break
    return returned


def _net_allocations(invoice: Invoice) -> list[tuple[int, Decimal]]:
    """(payment id, amount still applied to this invoice), newest payment first."""
    totals: dict[int, Decimal] = {}
    for payment_id, amount in invoice.allocations.order_by().values_list("payment_id", "amount"):
        totals[payment_id] = totals.get(payment_id, Decimal(0)) + amount
    return sorted(((pk, amount) for pk, amount in totals.items() if amount > 0), key=lambda item: -item[0])
