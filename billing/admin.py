"""Admin pages for accountants, reception and administrators, with the API's rules.

Money records are written through the services only: invoices are drafted
through the API (from visits or typed lines) and issued here with an action
that calls the issuing service; issued invoices, payments, refunds and credit
notes are shown read-only and cannot be deleted. Set-up (fee schedule,
packages, billing policies) is edited here by administrators.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from backend.admin import GroupScopedAdmin, ReadOnlyInline, may
from backend.errors import ApplicationError
from backend.models import DocumentStatus
from billing.models import (
    BillingPolicy,
    CreditNote,
    CreditNoteLine,
    Document,
    FeeScheduleItem,
    Invoice,
    InvoiceLine,
    Package,
    PackageSale,
    Payment,
    Refund,
)
from billing.permissions import BILLING_STAFF, INVOICE_WRITERS
from billing.services.documents import document_retry
from billing.services.invoices import invoice_issue


class ReadOnlyAdmin(GroupScopedAdmin):
    """Shown, filtered and searched by the staff who read money records in the API; never added, changed or
    deleted here."""

    read_roles = BILLING_STAFF
    write_roles = ()


class BillingInline(ReadOnlyInline):
    read_roles = BILLING_STAFF


class BillingSetupAdmin(GroupScopedAdmin):
    """Fee schedule, packages, billing policies: read by billing staff, changed by administrators."""

    read_roles = BILLING_STAFF


class InvoiceLineInline(BillingInline):
    model = InvoiceLine
    fields = ("service_date", "code", "modifier", "description", "ndc", "quantity", "unit_price", "tax_rate",
              "amount", "tax", "total")  # fmt: skip


class CreditNoteInline(BillingInline):
    model = CreditNote
    fields = ("number", "issued_at", "reason", "total")
    show_change_link = True


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    group_path = "location__group"
    list_display = ("__str__", "patient", "location", "kind", "status", "total", "issued_at")
    list_filter = ("status", "kind", "location")
    search_fields = ("number", "patient__last_name", "patient__first_name")
    date_hierarchy = "issued_at"
    list_select_related = ("patient", "location")
    fields = ("number", "status", "kind", "patient", "location", "currency", "issued_at", "issued_by", "subtotal",
              "tax_total", "total", "notes", "created_by", "created_at")  # fmt: skip
    inlines = (InvoiceLineInline, CreditNoteInline)
    actions = ("issue_drafts",)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk delete would reach issued invoices; drafts go one by one
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Drafts may be discarded (a waived fee); issued invoices never."""
        return may(request, INVOICE_WRITERS) and (obj is None or obj.is_draft)

    @admin.action(description="Issue the selected drafts (assigns their numbers)")
    def issue_drafts(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        if not may(request, INVOICE_WRITERS):
            self.message_user(request, "Only accountants and administrators issue invoices.", messages.ERROR)
            return
        issued = 0
        for invoice in queryset.order_by("created_at"):
            try:
                invoice_issue(actor=request.user, invoice=invoice)  # type: ignore[arg-type]
                issued += 1
            except ApplicationError as error:
                self.message_user(request, f"{invoice}: {error.detail}", messages.ERROR)
        if issued:
            self.message_user(request, f"Issued {issued} invoice(s).", messages.SUCCESS)


class RefundInline(BillingInline):
    model = Refund
    fields = ("refunded_at", "amount", "reason", "refunded_by")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    group_path = "location__group"
    list_display = ("received_at", "patient", "location", "amount", "currency", "method", "invoice", "is_deposit")
    list_filter = ("method", "is_deposit", "location")
    search_fields = ("reference", "patient__last_name", "invoice__number")
    date_hierarchy = "received_at"
    list_select_related = ("patient", "location", "invoice")
    inlines = (RefundInline,)


class CreditNoteLineInline(BillingInline):
    model = CreditNoteLine
    fields = ("code", "description", "quantity", "unit_price", "amount", "tax", "total")


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    group_path = "location__group"
    list_display = ("number", "invoice", "issued_at", "total", "reason")
    search_fields = ("number", "invoice__number")
    list_select_related = ("invoice",)
    inlines = (CreditNoteLineInline,)


@admin.register(PackageSale)
class PackageSaleAdmin(ReadOnlyAdmin):
    group_path = "location__group"
    list_display = ("package", "patient", "sessions", "price", "status", "sold_at")
    list_filter = ("status",)
    list_select_related = ("package", "patient")


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    group_path = "patient__group"
    list_display = ("kind", "patient", "status", "email_status", "attempts", "created_at", "rendered_at")
    list_filter = ("kind", "status", "email_status")
    list_select_related = ("patient",)
    exclude = ("payload",)
    actions = ("retry_failed",)

    @admin.action(description="Render the selected failed documents again")
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        if not may(request, BILLING_STAFF):
            self.message_user(request, "Your role may not render documents again.", messages.ERROR)
            return
        count = sum(document_retry(document=document) for document in queryset.filter(status=DocumentStatus.FAILED))
        self.message_user(request, f"{count} document(s) queued again.", messages.SUCCESS)


@admin.register(FeeScheduleItem)
class FeeScheduleItemAdmin(BillingSetupAdmin):
    group_path = "service_type__group"
    list_display = ("service_type", "location", "position", "code", "modifier", "description", "quantity",
                    "unit_price", "tax_rate")  # fmt: skip
    list_filter = ("service_type", "location")


@admin.register(Package)
class PackageAdmin(BillingSetupAdmin):
    group_path = "location__group"
    list_display = ("name", "location", "service_type", "sessions", "price", "currency", "is_active")


@admin.register(BillingPolicy)
class BillingPolicyAdmin(BillingSetupAdmin):
    """One per location, replaced (PUT) by the API, never deleted."""

    group_path = "location__group"
    list_display = ("location", "invoice_prefix", "credit_note_prefix", "tax_id", "npi", "late_cancellation_fee",
                    "no_show_fee")  # fmt: skip

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
