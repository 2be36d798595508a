"""Packages: selling a series for one price, drawing sessions as visits complete, refunding what is unused.

Selling issues the package invoice at once (the price is agreed at the desk),
so reception can take payment on it. Each completed visit of the package's
service type at its location draws one session. Closing a sale refunds the
unused sessions pro rata: a credit note for ``price x unused / sessions`` and,
for what the patient had paid beyond the reduced price, refunds against their
payments.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from backend.models import User
from backend.money import round_money
from backend.transactions import change_transaction
from billing.errors import NotBillable, PackageNotActive
from billing.locks import lock_patient_billing
from billing.models import (
    Invoice,
    InvoiceKind,
    Package,
    PackageSale,
    PackageSaleStatus,
    PackageSession,
    Payment,
    PaymentAllocation,
    Refund,
)
from billing.selectors import with_payment_amounts
from billing.services.credit_notes import credit
from billing.services.invoices import LineSpec, invoice_create, issue
from billing.services.payments import refund
from scheduling.models import Appointment, Patient, Series


@transaction.atomic  # not durable: it may run inside run_idempotent's transaction
def package_sell(
    *, actor: User | None, package: Package, patient: Patient, series: Series | None = None
) -> PackageSale:
    """Sell a package: an issued invoice for its price and a sale whose sessions later visits draw on."""
    if not package.is_active:
        raise NotBillable(f"The package {package.name!r} is no longer sold.")
    if package.currency != package.location.currency:
        raise NotBillable(f"The package is priced in {package.currency}; {package.location} bills in "
                          f"{package.location.currency}.")  # fmt: skip
    if series is not None and (series.patient_id != patient.pk or series.service_type_id != package.service_type_id):
        raise NotBillable("The series is not this patient's series of the package's service.")
    lock_patient_billing(patient.pk)
    invoice = invoice_create(
        actor=actor, patient=patient, location=package.location, kind=InvoiceKind.PACKAGE,
        lines=[LineSpec(description=f"{package.name} ({package.sessions} sessions)", code=package.code,
                        quantity=Decimal(1), unit_price=package.price)],
    )  # fmt: skip
    invoice.refresh_from_db()
    issue(invoice, actor)
    return PackageSale.objects.create(
        package=package, patient=patient, location=package.location, service_type=package.service_type,
        series=series, invoice=invoice, sessions=package.sessions, price=package.price, currency=package.currency,
        sold_by=actor,
    )  # fmt: skip


def package_session_consume(appointment: Appointment) -> PackageSession | None:
    """Draw one session for a completed visit from the patient's matching active sale, if any (inside a tx)."""
    if PackageSession.objects.filter(appointment=appointment).exists():
        return None
    sales = PackageSale.objects.select_for_update().filter(
        patient_id=appointment.patient_id, location_id=appointment.location_id,
        service_type_id=appointment.service_type_id, status=PackageSaleStatus.ACTIVE,
    )  # fmt: skip
    # The sale sold for this visit's series first, then the oldest.
    candidates = sorted(sales, key=lambda sale: (sale.series_id != appointment.series_id, sale.sold_at, sale.pk))
    for sale in candidates:
        used = sale.consumed.count()
        if used >= sale.sessions:
            continue
        session = PackageSession.objects.create(sale=sale, appointment=appointment)
        if used + 1 == sale.sessions:
            sale.status = PackageSaleStatus.USED_UP
            sale.save(update_fields=["status"])
        return session
    return None


def unused_value(sale: PackageSale, used: int) -> Decimal:
    """The pro-rata value of the sessions not used: ``price x unused / sessions``, rounded once."""
    return round_money(sale.price * (sale.sessions - used) / sale.sessions, sale.currency)


@change_transaction()
def package_sale_close(*, actor: User | None, sale: PackageSale, reason: str) -> tuple[Decimal, list[Refund]]:
    """Close a sale and refund its unused sessions pro rata. Returns the credited value and the refunds made."""
    lock_patient_billing(sale.patient_id)
    sale = PackageSale.objects.select_for_update().select_related("invoice__location").get(pk=sale.pk)
    if sale.status != PackageSaleStatus.ACTIVE:
        raise PackageNotActive("This package sale is already closed or fully used.")
    value = unused_value(sale, sale.consumed.count())
    refunds: list[Refund] = []
    if value > 0:
        invoice = Invoice.objects.select_for_update().select_related("location").get(pk=sale.invoice_id)
        credit(invoice, actor=actor, reason=reason or "Unused package sessions", amount=value)
        refunds = _refund_credit(sale, value, reason or "Unused package sessions", actor)
    sale.status = PackageSaleStatus.CLOSED
    sale.closed_at = timezone.now()
    sale.save(update_fields=["status", "closed_at"])
    return value, refunds


def _refund_credit(sale: PackageSale, up_to: Decimal, reason: str, actor: User | None) -> list[Refund]:
    """Refund the credit the package credit note freed, from the payments made on the package invoice."""
    payments = with_payment_amounts(
        Payment.objects.filter(pk__in=PaymentAllocation.objects.filter(invoice=sale.invoice).values("payment_id"))
    ).order_by("-received_at", "-id")
    refunds = []
    left = up_to
    for payment in payments:
        take = min(payment.unapplied, left)  # type: ignore[attr-defined]
        if take > 0:
            refunds.append(refund(payment, take, reason, actor))
            left -= take
        if left == 0:
            break
    return refunds
