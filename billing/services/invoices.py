"""Invoices: drafts from completed visits, fees or typed lines; editing drafts; issuing with a gapless number."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.models import User
from backend.transactions import change_transaction
from billing.errors import InvoiceImmutable, InvoiceNotIssued, InvoiceVoid, NotBillable
from billing.locks import lock_patient_billing
from billing.models import (
    FeeScheduleItem,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    NumberSeries,
    PackageSession,
)
from billing.money import ensure_amount, is_tax_rate, line_amounts
from billing.numbering import format_number, next_number
from billing.selectors import billing_lines, policy_for
from billing.services.documents import invoice_document_request
from billing.services.settlement import apply_patient_credit, refresh_status
from scheduling.models import Appointment, AppointmentStatus, Location, Patient, StaffMember, StaffRole
from scheduling.time import local_date


@dataclass(frozen=True)
class LineSpec:
    """One line to put on a draft invoice."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    code: str = ""
    modifier: str = ""
    tax_rate: Decimal = Decimal(0)
    ndc: str = ""
    ndc_units: str = ""
    service_date: date | None = None
    appointment: Appointment | None = field(default=None, compare=False)
    provider: StaffMember | None = field(default=None, compare=False)


def _rendering_provider(appointment: Appointment) -> StaffMember | None:
    """The clinician who bills the visit: a physician or nurse practitioner if present, else anyone with an NPI."""
    parts = sorted(appointment.staff_assignments.all(), key=lambda part: part.pk)
    preferred = (StaffRole.PHYSICIAN, StaffRole.NURSE_PRACTITIONER, StaffRole.ANESTHESIOLOGIST)
    for part in parts:
        if part.role in preferred:
            return part.staff
    return next((part.staff for part in parts if part.staff.npi), None)


def fee_lines_for(appointment: Appointment) -> list[LineSpec]:
    """The fee schedule's lines for a visit: the location's price list, else the group's, else the service price."""
    service = appointment.service_type
    location = appointment.location
    items = list(FeeScheduleItem.objects.filter(service_type=service, location=location))
    if not items:
        items = list(FeeScheduleItem.objects.filter(service_type=service, location__isnull=True))
    day = local_date(appointment.start, location.zone)
    provider = _rendering_provider(appointment)
    common: dict[str, Any] = {"service_date": day, "appointment": appointment, "provider": provider}
    if items:
        return [
            LineSpec(
                description=item.description,
                code=item.code,
                modifier=item.modifier,
                quantity=item.quantity,
                unit_price=item.unit_price,
                tax_rate=item.tax_rate,
                ndc=item.ndc,
                ndc_units=item.ndc_units,
                **common,
            )
            for item in items
        ]
    if service.currency != location.currency:
        raise NotBillable(
            f"{service.name} is priced in {service.currency} but {location.name} bills in {location.currency}; "
            "add a price list entry for this location."
        )
    code = service.billing_codes[0] if service.billing_codes else ""
    return [
        LineSpec(
            description=service.name,
            code=code,
            quantity=Decimal(1),
            unit_price=service.price,
            tax_rate=policy_for(location).default_tax_rate,
            **common,
        )
    ]


def _validate_line(spec: LineSpec, currency: str, index: int) -> None:
    prefix = f"lines[{index}]"
    if not spec.description.strip():
        raise NotBillable("Every line needs a description.", errors={f"{prefix}.description": ["Required."]})
    if not isinstance(spec.quantity, Decimal) or not spec.quantity.is_finite() or spec.quantity <= 0:
        raise NotBillable("Quantities must be more than zero.", errors={f"{prefix}.quantity": ["Must be > 0."]})
    if spec.unit_price != 0:
        ensure_amount(spec.unit_price, currency, field=f"{prefix}.unit_price")
    if not is_tax_rate(spec.tax_rate):
        raise NotBillable("Tax rates are between 0 and 1 (0.2 for 20%).", errors={f"{prefix}.tax_rate": ["0 to 1."]})


def _write_lines(invoice: Invoice, lines: Sequence[LineSpec]) -> None:
    if not lines:
        raise NotBillable("An invoice needs at least one line.", errors={"lines": ["At least one line."]})
    for index, spec in enumerate(lines):
        _validate_line(spec, invoice.currency, index)
    rows = []
    for position, spec in enumerate(lines):
        amounts = line_amounts(
            quantity=spec.quantity, unit_price=spec.unit_price, tax_rate=spec.tax_rate, currency=invoice.currency
        )
        rows.append(
            InvoiceLine(
                invoice=invoice,
                position=position,
                description=spec.description.strip(),
                code=spec.code,
                modifier=spec.modifier,
                ndc=spec.ndc,
                ndc_units=spec.ndc_units,
                quantity=spec.quantity,
                unit_price=spec.unit_price,
                tax_rate=spec.tax_rate,
                amount=amounts.amount,
                tax=amounts.tax,
                total=amounts.total,
                service_date=spec.service_date,
                appointment=spec.appointment,
                provider=spec.provider,
            )
        )
    InvoiceLine.objects.bulk_create(rows)
    invoice.subtotal = sum((row.amount for row in rows), Decimal(0))
    invoice.tax_total = sum((row.tax for row in rows), Decimal(0))
    invoice.total = invoice.subtotal + invoice.tax_total
    invoice.save(update_fields=["subtotal", "tax_total", "total", "updated_at"])


@transaction.atomic  # not durable: it may run inside run_idempotent's transaction
def invoice_create(
    *,
    actor: User | None,
    patient: Patient,
    location: Location,
    lines: Sequence[LineSpec],
    kind: str = InvoiceKind.SERVICES,
    notes: str = "",
) -> Invoice:
    """A draft invoice with these lines, in the location's currency."""
    if patient.group_id != location.group_id:
        raise NotBillable("The patient is not registered with this location's clinic.", errors={"patient": ["?"]})
    invoice = Invoice.objects.create(
        location=location, patient=patient, kind=kind, currency=location.currency, notes=notes, created_by=actor
    )
    _write_lines(invoice, lines)
    return invoice


def _ensure_billable(appointments: Sequence[Appointment], patient: Patient, location: Location) -> None:
    ids = [appointment.pk for appointment in appointments]
    for appointment in appointments:
        label = f"The visit on {local_date(appointment.start, location.zone)}"
        if appointment.patient_id != patient.pk or appointment.location_id != location.pk:
            raise NotBillable(f"{label} is not this patient's visit at this location.")
        if appointment.status != AppointmentStatus.COMPLETED:
            raise NotBillable(f"{label} is {appointment.get_status_display().lower()}; only completed visits are "
                              "billed.", extra={"appointment": str(appointment.public_id)})  # fmt: skip
    billed = billing_lines().filter(appointment__in=ids).select_related("invoice").first()
    if billed is not None:
        raise NotBillable(
            f"A visit is already billed on {billed.invoice}.", extra={"invoice": str(billed.invoice.public_id)}
        )
    if PackageSession.objects.filter(appointment__in=ids).exists():
        raise NotBillable("A visit is covered by a package the patient bought; it is not billed again.")


@transaction.atomic  # not durable: it may run inside run_idempotent's transaction
def invoice_create_for_appointments(
    *, actor: User | None, patient: Patient, location: Location, appointments: Sequence[Appointment], notes: str = ""
) -> Invoice:
    """A draft invoice for completed visits, priced by the fee schedule."""
    if not appointments:
        raise NotBillable("Choose at least one completed visit.", errors={"appointments": ["At least one."]})
    lock_patient_billing(patient.pk)
    ordered = sorted(appointments, key=lambda appointment: appointment.start)
    _ensure_billable(ordered, patient, location)
    lines = [line for appointment in ordered for line in fee_lines_for(appointment)]
    return invoice_create(actor=actor, patient=patient, location=location, lines=lines, notes=notes)


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().select_related("location", "patient").get(pk=invoice.pk)


@change_transaction()
def invoice_update_draft(
    *, actor: User | None, invoice: Invoice, lines: Sequence[LineSpec] | None = None, notes: str | None = None
) -> Invoice:
    """Replace a draft's lines and/or notes. Issued invoices are refused (409 ``invoice_immutable``)."""
    invoice = _locked(invoice)
    if not invoice.is_draft:
        raise InvoiceImmutable(f"Invoice {invoice.number} is issued; correct it with a credit note.")
    if notes is not None:
        invoice.notes = notes
        invoice.save(update_fields=["notes", "updated_at"])
    if lines is not None:
        invoice.lines.all().delete()
        _write_lines(invoice, lines)
    return invoice


@change_transaction()
def invoice_delete_draft(*, actor: User | None, invoice: Invoice) -> None:
    invoice = _locked(invoice)
    if not invoice.is_draft:
        raise InvoiceImmutable(f"Invoice {invoice.number} is issued and cannot be deleted; credit it instead.")
    invoice.delete()


def issue(invoice: Invoice, actor: User | None) -> Invoice:
    """Number and freeze a locked draft, apply the patient's credit, ask for its PDF. Caller holds the locks."""
    if invoice.status == InvoiceStatus.VOID:
        raise InvoiceVoid("This invoice is void.")
    if not invoice.is_draft:
        raise InvoiceImmutable(f"Invoice {invoice.number} is already issued.")
    if not invoice.lines.exists():
        raise NotBillable("An invoice needs at least one line before it is issued.")
    now = timezone.now()
    location = invoice.location
    year = local_date(now, location.zone).year
    policy = policy_for(location)
    seq = next_number(location_id=location.pk, series=NumberSeries.INVOICE, year=year)
    invoice.number = format_number(policy.invoice_prefix, year, seq)
    invoice.number_year = year
    invoice.number_seq = seq
    invoice.issued_at = now
    invoice.issued_by = actor
    invoice.status = InvoiceStatus.ISSUED
    invoice.save()
    apply_patient_credit(invoice)
    refresh_status(invoice)
    invoice_document_request(invoice=invoice, actor=actor)
    return invoice


@change_transaction()
def invoice_issue(*, actor: User | None, invoice: Invoice) -> Invoice:
    """Assign the next gapless number of the location's series for the year and freeze the invoice."""
    lock_patient_billing(invoice.patient_id)
    return issue(_locked(invoice), actor)


def ensure_payable(invoice: Invoice) -> None:
    if invoice.is_draft:
        raise InvoiceNotIssued("Issue the invoice before taking payments on it.")
    if invoice.status == InvoiceStatus.VOID:
        raise InvoiceVoid(f"Invoice {invoice.number} is void; nothing can be paid on it.")
