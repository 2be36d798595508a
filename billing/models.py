"""Money: fee schedule, packages, invoices and lines, numbering counters, payments, refunds,
credit notes and the documents (PDFs) rendered for them.

Amounts are ``NUMERIC(14, 4)`` with a currency code, rounded once per line by
``backend.money.round_money``; invoice totals are sums of rounded lines. Issued
invoices, their lines, credit notes, payments, allocations and refunds are
immutable: the models refuse changes and database triggers (migration 0002)
refuse them again for anything that bypasses the models. Balances are derived
from the rows (``billing.selectors``), never typed in.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q

from backend.identifiers import (
    validate_billing_code,
    validate_ein,
    validate_modifiers,
    validate_npi,
    validate_number_prefix,
)
from backend.models import PublicIdModel, RenderedDocument
from backend.money import currency_field, money_field
from billing.errors import InvoiceImmutable
from scheduling.models import Appointment, Location, Patient, Series, ServiceType, StaffMember


def rate_field(verbose_name: str | None = None, **kwargs: Any) -> Any:
    """``NUMERIC(6, 4)``: a tax rate, 0.2000 for 20%."""
    return models.DecimalField(verbose_name, max_digits=6, decimal_places=4, **kwargs)


def quantity_field(verbose_name: str | None = None, **kwargs: Any) -> Any:
    """``NUMERIC(9, 3)``: units billed."""
    return models.DecimalField(verbose_name, max_digits=9, decimal_places=3, **kwargs)


# --- set-up: policy, fee schedule, packages ----------------------------------------------------


class BillingPolicy(models.Model):
    """A location's billing settings: number prefixes, identifiers for superbills, fees."""

    location = models.OneToOneField(Location, on_delete=models.CASCADE, related_name="billing_policy")
    invoice_prefix = models.CharField(
        max_length=12, default="INV", validators=[validate_number_prefix],
        help_text="Give each location its own prefix so numbers differ across the group.",
    )  # fmt: skip
    credit_note_prefix = models.CharField(max_length=12, default="CN", validators=[validate_number_prefix])
    tax_id = models.CharField("Tax id (EIN)", max_length=40, blank=True, validators=[validate_ein])
    npi = models.CharField("Organisation NPI", max_length=10, blank=True, validators=[validate_npi])
    supervising_provider = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Named as the rendering provider on superbills for services whose staff have no NPI of their own.",
    )  # fmt: skip
    xero_date_format = models.CharField(
        max_length=10, choices=[("DD/MM/YYYY", "DD/MM/YYYY"), ("MM/DD/YYYY", "MM/DD/YYYY")],
        default="DD/MM/YYYY", db_default="DD/MM/YYYY",
        help_text="The date format of the Xero organisation this location's exports are imported into.",
    )  # fmt: skip
    payment_terms_days = models.PositiveSmallIntegerField(
        default=0, db_default=0, validators=[MaxValueValidator(365)],
        help_text="Days from issue to the due date printed on invoices; 0: due on receipt.",
    )  # fmt: skip
    late_cancellation_fee = money_field(default=Decimal(0))
    no_show_fee = money_field(default=Decimal(0))
    default_tax_rate = rate_field(default=Decimal(0), help_text="0.2000 for 20% VAT; 0 in the US.")

    class Meta:
        verbose_name_plural = "billing policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(late_cancellation_fee__gte=0) & Q(no_show_fee__gte=0) & Q(default_tax_rate__gte=0),
                name="billing_policy_not_negative",
            )
        ]

    def __str__(self) -> str:
        return f"Billing policy of {self.location}"


class FeeScheduleItem(PublicIdModel):
    """One billable line of a service type: a CPT/HCPCS code with its units and price.

    Items without a location are the group's fee schedule; items with a location
    are that location's price list and replace the group's items there. A
    service type without items bills one line at its own price and first code.
    """

    service_type = models.ForeignKey(ServiceType, on_delete=models.CASCADE, related_name="fee_items")
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="fee_items",
        help_text="Empty: the group's price; set: this location's price list.",
    )  # fmt: skip
    position = models.PositiveSmallIntegerField(default=0)
    code = models.CharField(
        max_length=20, validators=[validate_billing_code], help_text="CPT/HCPCS, e.g. 96365, 96366, J3490, 99214"
    )
    modifier = models.CharField(
        max_length=10, blank=True, validators=[validate_modifiers], help_text="e.g. 25 on an E/M code"
    )
    description = models.CharField(max_length=200)
    quantity = quantity_field(default=Decimal(1), help_text="Units billed")
    unit_price = money_field()
    ndc = models.CharField("NDC", max_length=20, blank=True, help_text="National Drug Code for drug lines (J3490)")
    ndc_units = models.CharField("NDC units", max_length=20, blank=True, help_text="e.g. ML 2")
    tax_rate = rate_field(default=Decimal(0))

    class Meta:
        ordering = ("service_type", "location", "position", "id")
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="fee_item_price_not_negative"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="fee_item_quantity_positive"),
            models.CheckConstraint(condition=Q(tax_rate__gte=0), name="fee_item_tax_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"

    @property
    def currency(self) -> str:
        """A location's price list is in the location's currency; the group's in the service type's."""
        return self.location.currency if self.location is not None else self.service_type.currency


class Package(PublicIdModel):
    """A series sold as a whole: ``sessions`` visits of a service type for one price."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="packages")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="packages")
    name = models.CharField(max_length=200)
    sessions = models.PositiveSmallIntegerField()
    price = money_field()
    currency = currency_field()
    code = models.CharField(max_length=20, blank=True, help_text="Billing code printed on the package line")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("name",)
        constraints = [
            models.CheckConstraint(condition=Q(sessions__gte=1), name="package_sessions_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="package_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


# --- invoices ----------------------------------------------------------------------------------


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


# Issued invoices that still expect money: AR aging reads them through the partial index ``invoice_open``.
OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


class InvoiceKind(models.TextChoices):
    SERVICES = "services", "Services"
    PACKAGE = "package", "Package"
    FEE = "fee", "Fee"


class Invoice(PublicIdModel):
    """A bill to a patient. Drafts have no number; issuing numbers and freezes it."""

    FROZEN_FIELDS: ClassVar[tuple[str, ...]] = (
        "location_id", "patient_id", "kind", "currency", "number", "number_year", "number_seq",
        "issued_at", "issued_by_id", "subtotal", "tax_total", "total", "notes",
    )  # fmt: skip

    _loaded: dict[str, Any]
    _loaded_status: str | None

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="invoices")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(max_length=20, choices=InvoiceKind.choices, default=InvoiceKind.SERVICES)
    currency = currency_field()
    status = models.CharField(max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    number = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001 - drafts have none; NULLs never collide
    number_year = models.PositiveSmallIntegerField(null=True, blank=True)
    number_seq = models.PositiveIntegerField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subtotal = money_field(default=Decimal(0))
    tax_total = money_field(default=Decimal(0))
    total = money_field(default=Decimal(0))
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["location", "issued_at"], name="invoice_location_issued"),
            models.Index(fields=["patient", "created_at"], name="invoice_patient_created"),
            models.Index(fields=["status", "issued_at"], name="invoice_status_issued"),
            # A location's list, newest first, one page at a time (the default ordering).
            models.Index(fields=["location", "-created_at", "-id"], name="invoice_location_newest"),
            # AR aging reads the open invoices and those changed since its day (billing.reports.AGING_SQL).
            models.Index(fields=["location"], name="invoice_open", condition=Q(status__in=OPEN_STATUSES)),
            models.Index(fields=["updated_at"], name="invoice_updated"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["location", "number_year", "number_seq"], name="invoice_number_gapless"),
            models.UniqueConstraint(fields=["location", "number"], name="invoice_number_per_location"),
            models.CheckConstraint(
                condition=(Q(status="draft") & Q(number__isnull=True) & Q(issued_at__isnull=True))
                | (~Q(status="draft") & Q(number__isnull=False) & Q(issued_at__isnull=False)),
                name="invoice_number_iff_issued",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="invoice_total_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft invoice {self.public_id}"

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Invoice:
        instance = super().from_db(db, field_names, values)
        instance._loaded = {name: getattr(instance, name) for name in cls.FROZEN_FIELDS if name in instance.__dict__}
        instance._loaded_status = instance.__dict__.get("status")
        return instance

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuses to change what an issued invoice says (the database refuses it too)."""
        loaded_status = getattr(self, "_loaded_status", None)
        if loaded_status not in (None, InvoiceStatus.DRAFT):
            changed = [name for name, value in self._loaded.items() if getattr(self, name) != value]
            if changed or self.status == InvoiceStatus.DRAFT:
                raise InvoiceImmutable(f"Invoice {self.number} is issued; correct it with a credit note.")
        super().save(*args, **kwargs)
        self._loaded = {name: getattr(self, name) for name in self.FROZEN_FIELDS}
        self._loaded_status = self.status

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if not self.is_draft:
            raise InvoiceImmutable(f"Invoice {self.number} is issued and cannot be deleted.")
        return super().delete(*args, **kwargs)


class InvoiceLine(PublicIdModel):
    """One charge: ``amount = round(quantity x unit_price)``, ``tax = round(amount x tax_rate)``."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=300)
    code = models.CharField(max_length=20, blank=True, validators=[validate_billing_code])
    modifier = models.CharField(max_length=10, blank=True, validators=[validate_modifiers])
    ndc = models.CharField(max_length=20, blank=True)
    ndc_units = models.CharField(max_length=20, blank=True)
    quantity = quantity_field()
    unit_price = money_field()
    tax_rate = rate_field(default=Decimal(0))
    amount = money_field()
    tax = money_field(default=Decimal(0))
    total = money_field()
    service_date = models.DateField(null=True, blank=True)
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    provider = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ("invoice", "position", "id")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="invoice_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="invoice_line_price_not_negative"),
            models.CheckConstraint(condition=Q(tax_rate__gte=0), name="invoice_line_tax_not_negative"),
            models.CheckConstraint(condition=Q(total=models.F("amount") + models.F("tax")), name="invoice_line_sum"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}".strip()

    def _ensure_draft(self) -> None:
        status = Invoice.objects.filter(pk=self.invoice_id).values_list("status", flat=True).first()
        if status not in (None, InvoiceStatus.DRAFT):
            raise InvoiceImmutable("The invoice is issued; its lines cannot change. Use a credit note.")

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._ensure_draft()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._ensure_draft()
        return super().delete(*args, **kwargs)


class NumberSeries(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class NumberCounter(models.Model):
    """The last number given in a location's series for a year; moved with ``UPDATE ... RETURNING``."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    series = models.CharField(max_length=20, choices=NumberSeries.choices)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["location", "series", "year"], name="number_counter_once")]

    def __str__(self) -> str:
        return f"{self.location} {self.series} {self.year}: {self.last_value}"


class CreditNote(PublicIdModel):
    """A correction of an issued invoice, numbered in its own series. Immutable once written."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=40)
    number_year = models.PositiveSmallIntegerField()
    number_seq = models.PositiveIntegerField()
    currency = currency_field()
    reason = models.CharField(max_length=500)
    subtotal = money_field()
    tax_total = money_field()
    total = money_field()
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ("issued_at", "id")
        constraints = [
            models.UniqueConstraint(fields=["location", "number_year", "number_seq"], name="credit_note_gapless"),
            models.UniqueConstraint(fields=["location", "number"], name="credit_note_number_per_location"),
            models.CheckConstraint(condition=Q(total__gt=0), name="credit_note_total_positive"),
        ]

    def __str__(self) -> str:
        return self.number


class CreditNoteLine(models.Model):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="lines")
    invoice_line = models.ForeignKey(
        InvoiceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_lines"
    )
    description = models.CharField(max_length=300)
    code = models.CharField(max_length=20, blank=True)
    quantity = quantity_field()
    unit_price = money_field()
    amount = money_field()
    tax = money_field(default=Decimal(0))
    total = money_field()

    class Meta:
        ordering = ("credit_note", "id")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="credit_line_quantity_positive"),
            models.CheckConstraint(condition=Q(total=models.F("amount") + models.F("tax")), name="credit_line_sum"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}".strip()


# --- packages sold -----------------------------------------------------------------------------


class PackageSaleStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    USED_UP = "used_up", "All sessions used"
    CLOSED = "closed", "Closed (unused sessions refunded)"


class PackageSale(PublicIdModel):
    """A package sold to a patient; sessions are consumed as covered visits are completed."""

    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="sales")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="package_sales")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="+")
    series = models.ForeignKey(Series, null=True, blank=True, on_delete=models.SET_NULL, related_name="package_sales")
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="package_sale")
    sessions = models.PositiveSmallIntegerField()
    price = money_field()
    currency = currency_field()
    status = models.CharField(max_length=20, choices=PackageSaleStatus.choices, default=PackageSaleStatus.ACTIVE)
    sold_at = models.DateTimeField(auto_now_add=True)
    sold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-sold_at", "-id")

    def __str__(self) -> str:
        return f"{self.package} for {self.patient}"


class PackageSession(models.Model):
    """One delivered session drawn from a package sale."""

    sale = models.ForeignKey(PackageSale, on_delete=models.PROTECT, related_name="consumed")
    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT, related_name="package_session")
    consumed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("consumed_at", "id")

    def __str__(self) -> str:
        return f"session of {self.sale_id} for appointment {self.appointment_id}"


# --- payments ----------------------------------------------------------------------------------


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card"
    CASH = "cash", "Cash"
    CHECK = "check", "Check"
    HSA_FSA = "hsa_fsa", "HSA/FSA card"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"


class Payment(PublicIdModel):
    """Money received from a patient: against an invoice, or as a deposit held as credit. Immutable."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="payments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="payments")
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    series = models.ForeignKey(Series, null=True, blank=True, on_delete=models.SET_NULL, related_name="deposits")
    is_deposit = models.BooleanField(default=False)
    currency = currency_field()
    amount = money_field()
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    reference = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("-received_at", "-id")
        indexes = [
            models.Index(fields=["location", "received_at"], name="payment_location_received"),
            models.Index(fields=["patient", "currency"], name="payment_patient_currency"),
        ]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} by {self.get_method_display()} ({self.received_at:%Y-%m-%d})"


class AllocationReason(models.TextChoices):
    PAYMENT = "payment", "Paid on the invoice"
    CREDIT_APPLIED = "credit_applied", "Patient credit applied"
    OVERPAID_BY_CREDIT_NOTE = "credit_note", "Returned to credit by a credit note"
    REFUND = "refund", "Returned by a refund"


class PaymentAllocation(models.Model):
    """Part of a payment applied to (positive) or taken back from (negative) an invoice. Append-only.

    An invoice's ``paid`` is the sum of its allocations; a payment's unapplied
    remainder (amount - allocations - refunds) is the patient's credit.
    """

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = money_field()
    reason = models.CharField(max_length=20, choices=AllocationReason.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="allocation_not_zero")]

    def __str__(self) -> str:
        return f"{self.amount} of payment {self.payment_id} on invoice {self.invoice_id}"


class Refund(PublicIdModel):
    """Money returned against a payment. Immutable."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = money_field()
    reason = models.CharField(max_length=500)
    refunded_at = models.DateTimeField()
    refunded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("-refunded_at", "-id")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"refund of {self.amount} on payment {self.payment_id}"


# --- documents (the outbox for PDFs) -------------------------------------------------------------


class DocumentKind(models.TextChoices):
    RECEIPT = "receipt", "Payment receipt"
    REFUND_RECEIPT = "refund_receipt", "Refund receipt"
    INVOICE = "invoice", "Invoice"
    SUPERBILL = "superbill", "Superbill"
    CREDIT_NOTE = "credit_note", "Credit note"


class Document(RenderedDocument):
    """A PDF to render, written in the same transaction as the payment, refund or invoice it proves.

    ``payload`` is the snapshot the PDF is rendered from (money as strings), so
    rendering twice gives the same bytes; the worker fetches this one row,
    renders, stores the file with its checksum and marks it done.
    """

    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="documents")
    payment = models.OneToOneField(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="receipt")
    refund = models.OneToOneField(Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="receipt")
    invoice = models.OneToOneField(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="document")
    credit_note = models.OneToOneField(
        "CreditNote", null=True, blank=True, on_delete=models.PROTECT, related_name="document"
    )
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)

    class Meta(RenderedDocument.Meta):
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["updated_at"], name="document_unfinished",
                         condition=Q(status__in=["pending", "queued", "rendering"])),
            models.Index(fields=["updated_at"], name="document_email_unfinished",
                         condition=Q(email_status__in=["pending", "sending"])),
        ]  # fmt: skip
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "period_start", "period_end", "payload_digest"],
                condition=Q(kind="superbill"),
                name="superbill_once_per_content",
            ),
            models.CheckConstraint(
                condition=Q(kind="receipt", payment__isnull=False)
                | Q(kind="refund_receipt", refund__isnull=False)
                | Q(kind="invoice", invoice__isnull=False)
                | Q(kind="superbill", period_start__isnull=False, period_end__isnull=False)
                | Q(kind="credit_note", credit_note__isnull=False),
                name="document_has_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.public_id} ({self.status})"


# Exports -----------------------------------------------------------------------------------


class ExportKind(models.TextChoices):
    INVOICES = "invoices", "Invoices"
    INVOICE_LINES = "invoice_lines", "Invoice lines"
    PAYMENTS = "payments", "Payments and refunds"
    CREDIT_NOTES = "credit_notes", "Credit notes"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"
    QUICKBOOKS = "quickbooks", "QuickBooks Online invoice import (CSV)"
    XERO = "xero", "Xero sales invoice import (CSV)"


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired (file deleted)"


class ExportJob(PublicIdModel):
    """An accountant's export: what was asked for, how far the worker got, and the stored file.

    The worker writes the whole file to a temporary file and stores it only when
    complete, so a job is ``done`` with a whole file or not done at all.
    ``attempts`` fences each run: a run that lost its claim cannot write.
    """

    kind = models.CharField(max_length=20, choices=ExportKind.choices)
    format = models.CharField(max_length=20, choices=ExportFormat.choices)
    date_from = models.DateField()
    date_to = models.DateField()
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    bom = models.BooleanField(default=False, help_text="Start CSV files with a UTF-8 byte order mark (for Excel).")
    status = models.CharField(max_length=20, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(null=True, blank=True, help_text="Data rows in the finished file.")
    file = models.FileField(upload_to="exports/", blank=True, max_length=300)
    checksum = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the stored file")
    size = models.PositiveBigIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["updated_at"], name="export_unfinished",
                         condition=Q(status__in=["pending", "running"])),
            models.Index(fields=["expires_at"], name="export_expiring", condition=Q(status="done")),
        ]  # fmt: skip
        constraints = [
            models.CheckConstraint(condition=Q(date_from__lte=F("date_to")), name="export_range_ordered"),
            models.CheckConstraint(condition=Q(status="done", rows__isnull=False) | ~Q(status="done"),
                                   name="export_done_has_rows"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date_from}..{self.date_to} as {self.format} ({self.status})"

    @property
    def progress(self) -> int:
        """Whole percent, 0-100; 100 only when the file is stored."""
        if self.status == ExportStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)

    @property
    def filename(self) -> str:
        return export_filename(self.kind, self.format, self.date_from, self.date_to)


def export_filename(kind: str, format: str, date_from: date, date_to: date) -> str:
    """``invoice_lines-2026-10-01-to-2026-10-31.csv``; the import formats say which product they are for."""
    suffix = {ExportFormat.CSV: ".csv", ExportFormat.XLSX: ".xlsx"}.get(ExportFormat(format), f"-{format}.csv")
    return f"{kind}-{date_from}-to-{date_to}{suffix}"
