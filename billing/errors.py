"""Billing's domain errors, each with a stable code (see docs/billing.md)."""

from __future__ import annotations

from backend.errors import ApplicationError


class InvoiceImmutable(ApplicationError):
    code = "invoice_immutable"
    http_status = 409
    title = "Invoice is issued"


class InvoiceNotIssued(ApplicationError):
    code = "invoice_not_issued"
    http_status = 409
    title = "Invoice is a draft"


class InvoiceVoid(ApplicationError):
    code = "invoice_void"
    http_status = 409
    title = "Invoice is void"


class InvoiceAlreadyPaid(ApplicationError):
    code = "invoice_paid"
    http_status = 409
    title = "Invoice already paid"


class CurrencyMismatch(ApplicationError):
    code = "currency_mismatch"
    http_status = 422
    title = "Wrong currency"


class InvalidAmount(ApplicationError):
    code = "invalid_amount"
    http_status = 422
    title = "Invalid amount"


class NotBillable(ApplicationError):
    code = "not_billable"
    http_status = 422
    title = "Not billable"


class RefundTooLarge(ApplicationError):
    code = "refund_exceeds_payment"
    http_status = 422
    title = "Refund larger than what is left of the payment"


class CreditTooLarge(ApplicationError):
    code = "credit_exceeds_invoice"
    http_status = 422
    title = "Credit larger than what is left of the invoice"


class PackageNotActive(ApplicationError):
    code = "package_not_active"
    http_status = 409
    title = "Package sale is closed"


class ExportRefused(ApplicationError):
    code = "export_invalid"
    http_status = 422
    title = "Export cannot be made"


class ExportTooLarge(ApplicationError):
    code = "export_too_large"
    http_status = 422
    title = "Too many rows to download directly"


class ExportNotReady(ApplicationError):
    code = "export_not_ready"
    http_status = 409
    title = "Export not ready"


class ExportExpired(ApplicationError):
    code = "export_expired"
    http_status = 410
    title = "Export expired"
