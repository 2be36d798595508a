"""Billing reads, scoped to the acting user, with derived amounts.

``paid``, ``credited``, ``balance`` (invoices) and ``applied``, ``refunded``,
``unapplied`` (payments) are computed from allocations, credit notes and
refunds in the query: balances are derived, never stored or typed in.
Patients see only their own issued invoices, payments and documents; staff
with a billing role see their clinic groups' locations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from backend.access import scoped
from backend.roles import Role
from billing.models import (
    BillingPolicy,
    CreditNote,
    Document,
    ExportJob,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Package,
    PackageSale,
    PackageSession,
    Payment,
    PaymentAllocation,
    Refund,
)
from scheduling.models import Appointment, AppointmentStatus, Location

BILLING_ROLES = (Role.ADMIN, Role.ACCOUNTANT, Role.RECEPTION)
ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=12, decimal_places=2))


def sum_of(queryset: QuerySet[Any], link: str, field: str) -> Coalesce:
    """The sum of ``field`` over the rows of ``queryset`` whose ``link`` is the outer row (0 when none)."""
    total = queryset.filter(**{link: OuterRef("pk")}).order_by().values(link).annotate(s=Sum(field)).values("s")
    return Coalesce(Subquery(total, output_field=DecimalField(max_digits=12, decimal_places=2)), ZERO)


def with_invoice_amounts(queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
    return queryset.annotate(
        paid=sum_of(PaymentAllocation.objects.all(), "invoice", "amount"),
        credited=sum_of(CreditNote.objects.all(), "invoice", "total"),
    ).annotate(balance=F("total") - F("credited") - F("paid"))


def billing_lines() -> QuerySet[InvoiceLine]:
    """Lines that bill a visit: on a draft or issued invoice, not on a void one, not a late or no-show fee."""
    return InvoiceLine.objects.exclude(Q(invoice__status=InvoiceStatus.VOID) | Q(invoice__kind=InvoiceKind.FEE))


def unbilled_visits(appointments: QuerySet[Appointment]) -> QuerySet[Appointment]:
    """Completed visits of ``appointments`` that no invoice bills yet and no package covers."""
    return (
        appointments.filter(status=AppointmentStatus.COMPLETED)
        .exclude(Exists(billing_lines().filter(appointment=OuterRef("pk"))))
        .exclude(Exists(PackageSession.objects.filter(appointment=OuterRef("pk"))))
    )


def with_payment_amounts(queryset: QuerySet[Payment]) -> QuerySet[Payment]:
    return queryset.annotate(
        applied=sum_of(PaymentAllocation.objects.all(), "payment", "amount"),
        refunded=sum_of(Refund.objects.all(), "payment", "amount"),
    ).annotate(unapplied=F("amount") - F("applied") - F("refunded"))


@dataclass(frozen=True)
class InvoiceAmounts:
    total: Decimal
    credited: Decimal
    paid: Decimal

    @property
    def net(self) -> Decimal:
        return self.total - self.credited

    @property
    def balance(self) -> Decimal:
        return self.net - self.paid


def invoice_amounts(invoice_id: int) -> InvoiceAmounts:
    row = with_invoice_amounts(Invoice.objects.filter(pk=invoice_id)).values("total", "credited", "paid").get()  # type: ignore[misc]
    return InvoiceAmounts(total=row["total"], credited=row["credited"], paid=row["paid"])


def patient_credit(*, patient_id: int, currency: str) -> Decimal:
    """What the patient has paid and not had applied or refunded: overpayments and deposits."""
    payments = with_payment_amounts(Payment.objects.filter(patient_id=patient_id, currency=currency))
    return sum((row for row in payments.values_list("unapplied", flat=True)), Decimal(0))  # type: ignore[misc]


def policy_for(location: Location) -> BillingPolicy:
    """The location's billing policy, or the defaults (no fees, no tax, INV/CN prefixes)."""
    return BillingPolicy.objects.filter(location=location).first() or BillingPolicy(location=location)


def _billing_scope(user: Any) -> str | None:
    """'staff' for billing staff, 'patient' for a patient user, None for anyone else."""
    if not user.is_authenticated:
        return None
    if user.is_superuser or user.has_role(*BILLING_ROLES):
        return "staff"
    if user.has_role(Role.PATIENT) and getattr(user, "patient", None) is not None:
        return "patient"
    return None


def invoices_for(user: Any) -> QuerySet[Invoice]:
    scope = _billing_scope(user)
    if scope == "staff":
        queryset = scoped(user, Invoice.objects.all(), "location__group")
    elif scope == "patient":
        queryset = Invoice.objects.filter(patient__user=user).exclude(status=InvoiceStatus.DRAFT)
    else:
        return Invoice.objects.none()
    return with_invoice_amounts(queryset).select_related("patient", "location")


LINE_COLUMNS = ("invoice_id", "public_id", "description", "code", "modifier", "ndc", "ndc_units", "service_date",
                "quantity", "unit_price", "tax_rate", "amount", "tax", "total", "appointment__public_id")  # fmt: skip


def attach_invoice_details(invoices: Sequence[Invoice]) -> Sequence[Invoice]:
    """Lines, credit notes and PDF status for a page of invoices in three queries, as plain rows.

    Cheaper than ``prefetch_related``, which builds a model and a related manager per line and invoice.
    """
    ids = [invoice.pk for invoice in invoices]
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    line_rows = InvoiceLine.objects.filter(invoice_id__in=ids).order_by("invoice_id", "position", "id")
    for row in line_rows.values(*LINE_COLUMNS):
        lines[row["invoice_id"]].append(row)
    notes: dict[int, list[dict[str, Any]]] = defaultdict(list)
    note_rows = CreditNote.objects.filter(invoice_id__in=ids).order_by("issued_at", "id")
    for row in note_rows.values("invoice_id", "public_id", "number", "reason", "total", "issued_at"):
        notes[row["invoice_id"]].append(dict(row))
    documents = dict(Document.objects.filter(invoice_id__in=ids).values_list("invoice_id", "status"))
    for invoice in invoices:
        invoice.detail_lines = lines[invoice.pk]  # type: ignore[attr-defined]
        invoice.detail_credit_notes = notes[invoice.pk]  # type: ignore[attr-defined]
        invoice.pdf_status = documents.get(invoice.pk)  # type: ignore[attr-defined]
    return invoices


def payments_for(user: Any) -> QuerySet[Payment]:
    scope = _billing_scope(user)
    if scope == "staff":
        queryset = scoped(user, Payment.objects.all(), "location__group")
    elif scope == "patient":
        queryset = Payment.objects.filter(patient__user=user)
    else:
        return Payment.objects.none()
    return (
        with_payment_amounts(queryset)
        .select_related("patient", "location", "invoice", "receipt")
        .prefetch_related(Prefetch("refunds", queryset=Refund.objects.select_related("receipt")))
    )


def credit_notes_for(user: Any) -> QuerySet[CreditNote]:
    """Credit notes of the invoices the user may see (a patient: their own)."""
    return CreditNote.objects.filter(invoice__in=invoices_for(user).values("pk"))


def refunds_for(user: Any) -> QuerySet[Refund]:
    return Refund.objects.filter(payment__in=payments_for(user).values("pk")).select_related("payment", "receipt")


def exports_for(user: Any) -> QuerySet[ExportJob]:
    """Export jobs are their requester's own: each accountant sees and downloads only theirs."""
    if not getattr(user, "is_authenticated", False):
        return ExportJob.objects.none()
    return ExportJob.objects.filter(requested_by=user).select_related("location")


def documents_for(user: Any) -> QuerySet[Document]:
    scope = _billing_scope(user)
    if scope == "staff":
        return scoped(user, Document.objects.all(), "patient__group")
    if scope == "patient":
        return Document.objects.filter(patient__user=user)
    return Document.objects.none()


def packages_for(user: Any) -> QuerySet[Package]:
    return scoped(user, Package.objects.select_related("location", "service_type"), "location__group")


def package_sales_for(user: Any) -> QuerySet[PackageSale]:
    scope = _billing_scope(user)
    if scope == "staff":
        queryset = scoped(user, PackageSale.objects.all(), "location__group")
    elif scope == "patient":
        queryset = PackageSale.objects.filter(patient__user=user)
    else:
        return PackageSale.objects.none()
    # Meta.ordering does not apply to an aggregated query: order explicitly so pages are stable.
    return (
        queryset.select_related("package", "patient", "location", "invoice", "series")
        .annotate(used=Count("consumed"))
        .order_by("-sold_at", "-id")
    )
