"""The SQL behind each export: one query per kind and format, with typed, named columns.

Exports are plain SQL so PostgreSQL can stream them with ``COPY`` (CSV) or a
single-row cursor (XLSX). Rules shared by every query:

- a date range is inclusive and means the location's local calendar days
  (an invoice issued at 23:30 in New York on the 31st belongs to the 31st);
- only locations the requesting user may see are included;
- text cells go through ``billing_csv_safe`` (spreadsheet-injection guard);
  numbers and dates are typed columns and are written as plain values;
- money is rounded to its row's currency (``backend.money.CURRENCY_MINOR_UNITS``, passed as a parameter);
- draft invoices are never exported: they have no number and may still change.

QuickBooks Online and Xero get their own invoice-import column sets (one row
per invoice line, as both importers expect) with dates in the format their
import screens ask for (settings ``EXPORT_QUICKBOOKS_DATE_FORMAT`` and
``EXPORT_XERO_DATE_FORMAT``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings

from backend.money import CURRENCY_MINOR_UNITS
from billing.models import ExportFormat, ExportKind
from billing.sql import in_local_range, local_date, range_params

TEXT, MONEY, DECIMAL, DATE, INTEGER = "text", "money", "decimal", "date", "integer"
IMPORT_FORMATS = (ExportFormat.QUICKBOOKS, ExportFormat.XERO)
IMPORT_KINDS = (ExportKind.INVOICES, ExportKind.INVOICE_LINES, ExportKind.CREDIT_NOTES)


@dataclass(frozen=True)
class Column:
    header: str
    sql: str
    type: str = TEXT
    currency: str = ""  # for money: the SQL of the row's currency code

    @property
    def select(self) -> str:
        if self.type == TEXT:
            return f"billing_csv_safe(({self.sql})::text)"
        if self.type == MONEY:  # exactly the currency's minor units: 0.00, 1200 (JPY), 12.500 (BHD)
            return f"round(({self.sql}), (%(minor_units)s::jsonb ->> {self.currency})::int)"
        return self.sql


def money(header: str, sql: str, currency: str) -> Column:
    return Column(header, sql, MONEY, currency)


@dataclass(frozen=True)
class ExportQuery:
    """A runnable export: ``sql`` yields the rows in order, ``count_sql`` how many there will be."""

    columns: tuple[Column, ...]
    source: str  # FROM ... WHERE ...
    order_by: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    @property
    def sql(self) -> str:
        select = ",\n  ".join(f'{column.select} AS "c{index}"' for index, column in enumerate(self.columns))
        return f"SELECT\n  {select}\n{self.source}\nORDER BY {self.order_by}"

    @property
    def count_sql(self) -> str:
        return f"SELECT count(*)\n{self.source}"

    @property
    def patients_sql(self) -> str:
        """The patients whose rows the export holds (every source joins ``scheduling_patient p``)."""
        return f"SELECT DISTINCT p.public_id\n{self.source}"


def _in_range(timestamp: str, location_column: str) -> str:
    return f"{in_local_range(timestamp)} AND {location_column} = ANY(%(locations)s)"


PATIENT_NAME = "p.first_name || ' ' || p.last_name"
ISSUE_DATE = local_date("i.issued_at")
INVOICE_PAID = "(SELECT coalesce(sum(a.amount), 0) FROM billing_paymentallocation a WHERE a.invoice_id = i.id)"
INVOICE_CREDITED = "(SELECT coalesce(sum(c.total), 0) FROM billing_creditnote c WHERE c.invoice_id = i.id)"

INVOICES = (
    Column("invoice_number", "i.number"),
    Column("issue_date", ISSUE_DATE, DATE),
    Column("status", "i.status"),
    Column("kind", "i.kind"),
    Column("location", "loc.name"),
    Column("patient_id", "p.public_id"),
    Column("patient_name", PATIENT_NAME),
    Column("currency", "i.currency"),
    money("subtotal", "i.subtotal", "i.currency"),
    money("tax", "i.tax_total", "i.currency"),
    money("total", "i.total", "i.currency"),
    money("credited", INVOICE_CREDITED, "i.currency"),
    money("paid", INVOICE_PAID, "i.currency"),
    money("balance", f"i.total - {INVOICE_CREDITED} - {INVOICE_PAID}", "i.currency"),
    Column("invoice_id", "i.public_id"),
)
INVOICES_SOURCE = f"""FROM billing_invoice i
JOIN scheduling_location loc ON loc.id = i.location_id
JOIN scheduling_patient p ON p.id = i.patient_id
WHERE i.issued_at IS NOT NULL AND {_in_range("i.issued_at", "i.location_id")}"""

INVOICE_LINES = (
    Column("invoice_number", "i.number"),
    Column("issue_date", ISSUE_DATE, DATE),
    Column("invoice_status", "i.status"),
    Column("location", "loc.name"),
    Column("patient_id", "p.public_id"),
    Column("patient_name", PATIENT_NAME),
    Column("line", "l.position", INTEGER),
    Column("service_date", "l.service_date", DATE),
    Column("code", "l.code"),
    Column("modifier", "l.modifier"),
    Column("description", "l.description"),
    Column("ndc", "l.ndc"),
    Column("ndc_units", "l.ndc_units"),
    Column("quantity", "l.quantity", DECIMAL),
    money("unit_price", "l.unit_price", "i.currency"),
    money("amount", "l.amount", "i.currency"),
    Column("tax_rate", "l.tax_rate", DECIMAL),
    money("tax", "l.tax", "i.currency"),
    money("total", "l.total", "i.currency"),
    Column("currency", "i.currency"),
    Column("provider", "s.name"),
    Column("provider_npi", "s.npi"),
    Column("line_id", "l.public_id"),
)
LINES_SOURCE = f"""FROM billing_invoiceline l
JOIN billing_invoice i ON i.id = l.invoice_id
JOIN scheduling_location loc ON loc.id = i.location_id
JOIN scheduling_patient p ON p.id = i.patient_id
LEFT JOIN scheduling_staffmember s ON s.id = l.provider_id
WHERE i.issued_at IS NOT NULL AND {_in_range("i.issued_at", "i.location_id")}"""
LINES_ORDER = "i.issued_at, i.id, l.position, l.id"

# Payments and refunds in one ledger: a refund is a row of its own with a negative amount.
PAYMENTS = (
    Column("type", "m.type"),
    Column("date", local_date("m.at"), DATE),
    Column("location", "loc.name"),
    Column("patient_id", "p.public_id"),
    Column("patient_name", PATIENT_NAME),
    Column("method", "pay.method"),
    Column("reference", "pay.reference"),
    Column("deposit", "CASE WHEN pay.is_deposit THEN 'yes' ELSE 'no' END"),
    Column("invoice_number", "inv.number"),
    money("amount", "m.amount", "pay.currency"),
    Column("currency", "pay.currency"),
    Column("refund_reason", "m.reason"),
    Column("payment_id", "pay.public_id"),
    Column("refund_id", "m.refund_public_id"),
)
PAYMENTS_SOURCE = f"""FROM (
  SELECT 'payment' AS type, received_at AS at, id AS sort_id, id AS payment_id, amount, '' AS reason,
         NULL::uuid AS refund_public_id
    FROM billing_payment
  UNION ALL
  SELECT 'refund', refunded_at, id, payment_id, -amount, reason, public_id FROM billing_refund
) AS m
JOIN billing_payment pay ON pay.id = m.payment_id
JOIN scheduling_location loc ON loc.id = pay.location_id
JOIN scheduling_patient p ON p.id = pay.patient_id
LEFT JOIN billing_invoice inv ON inv.id = pay.invoice_id
WHERE {_in_range("m.at", "pay.location_id")}"""

CREDIT_NOTES = (
    Column("credit_note_number", "c.number"),
    Column("issue_date", local_date("c.issued_at"), DATE),
    Column("invoice_number", "i.number"),
    Column("location", "loc.name"),
    Column("patient_id", "p.public_id"),
    Column("patient_name", PATIENT_NAME),
    Column("reason", "c.reason"),
    Column("currency", "c.currency"),
    money("subtotal", "c.subtotal", "c.currency"),
    money("tax", "c.tax_total", "c.currency"),
    money("total", "c.total", "c.currency"),
    Column("credit_note_id", "c.public_id"),
)
CREDIT_NOTES_SOURCE = f"""FROM billing_creditnote c
JOIN billing_invoice i ON i.id = c.invoice_id
JOIN scheduling_location loc ON loc.id = c.location_id
JOIN scheduling_patient p ON p.id = i.patient_id
WHERE {_in_range("c.issued_at", "c.location_id")}"""


# The accounting imports. Void invoices (credited in full) are left out with the credit notes that voided them,
# so the invoices less the credit notes of a range equal its net receivables. The customer is the patient's name
# and a stable reference (the first 8 hex digits of their id), so two patients of one name stay two customers.
CUSTOMER = f"{PATIENT_NAME} || ' (' || upper(left(replace(p.public_id::text, '-', ''), 8)) || ')'"
NOT_VOID = "i.status <> 'void'"
ITEM = "coalesce(nullif(trim({code} || ' ' || {modifier}), ''), %(uncoded_item)s)"
IMPORT_LINES_SOURCE = f"{LINES_SOURCE} AND {NOT_VOID}"
CREDIT_LINES_SOURCE = f"""FROM billing_creditnoteline cl
JOIN billing_creditnote c ON c.id = cl.credit_note_id
JOIN billing_invoice i ON i.id = c.invoice_id
JOIN scheduling_location loc ON loc.id = c.location_id
JOIN scheduling_patient p ON p.id = i.patient_id
LEFT JOIN billing_invoiceline il ON il.id = cl.invoice_line_id
WHERE {_in_range("c.issued_at", "c.location_id")} AND {NOT_VOID}"""
CREDIT_LINES_ORDER = "c.issued_at, c.id, cl.id"
CREDIT_DATE = local_date("c.issued_at")

# QuickBooks Online "Import invoices" CSV: the headers its importer maps by name.
QB_DAY = f"to_char({ISSUE_DATE}, %(date_format)s)"


def _quickbooks_items(line: str, modifier: str, currency: str) -> tuple[Column, ...]:
    """The item columns of a QuickBooks sales form, from the line table aliased ``line``."""
    return (
        Column("Item(Product/Service)", ITEM.format(code=f"{line}.code", modifier=modifier)),
        Column("ItemDescription", f"{line}.description"),
        Column("ItemQuantity", f"{line}.quantity", DECIMAL),
        money("ItemRate", f"{line}.unit_price", currency),
        money("ItemAmount", f"{line}.amount", currency),
        Column("ItemTaxCode", f"CASE WHEN {line}.tax = 0 THEN 'NON' ELSE 'TAX' END"),
        money("ItemTaxAmount", f"{line}.tax", currency),
    )


QUICKBOOKS = (
    Column("InvoiceNo", "i.number"),
    Column("Customer", CUSTOMER),
    Column("InvoiceDate", QB_DAY),
    Column("DueDate", QB_DAY),  # clinics bill at the visit: due on receipt
    Column("Terms", "'Due on receipt'"),
    Column("Location", "loc.name"),
    Column("Memo", "''"),
    *_quickbooks_items("l", "l.modifier", "i.currency"),
    Column("Currency", "i.currency"),
    Column("Service Date", "to_char(l.service_date, %(date_format)s)"),
)
# QuickBooks Online credit memos: the invoice import's columns, numbered and dated as credit memos.
QUICKBOOKS_CREDIT_MEMOS = (
    Column("CreditMemoNo", "c.number"),
    Column("Customer", CUSTOMER),
    Column("CreditMemoDate", f"to_char({CREDIT_DATE}, %(date_format)s)"),
    Column("Location", "loc.name"),
    Column("Memo", "'Credits invoice ' || i.number || ': ' || c.reason"),
    *_quickbooks_items("cl", "coalesce(il.modifier, '')", "c.currency"),
    Column("Currency", "c.currency"),
    Column("Service Date", "to_char(il.service_date, %(date_format)s)"),
)


# Xero "Import sales invoices" and "Import credit notes" templates, column for column (* marks what Xero
# requires). Dates in the format of the location's Xero organisation (its billing policy).
XERO_FORMAT = (
    "coalesce((SELECT bp.xero_date_format FROM billing_billingpolicy bp WHERE bp.location_id = loc.id), "
    "%(date_format)s)"
)
XERO_DAY = f"to_char({ISSUE_DATE}, {XERO_FORMAT})"
BLANK = "''"
XERO_CONTACT = (
    Column("*ContactName", CUSTOMER),
    *(Column(name, BLANK) for name in ("EmailAddress", "POAddressLine1", "POAddressLine2", "POAddressLine3",
                                       "POAddressLine4", "POCity", "PORegion", "POPostalCode", "POCountry")),
)  # fmt: skip


def _xero_items(line: str, modifier: str, currency: str) -> tuple[Column, ...]:
    """The item columns of a Xero sales invoice or credit note, from the line table aliased ``line``."""
    return (
        Column("InventoryItemCode", BLANK),
        Column("*Description", f"{ITEM.format(code=f'{line}.code', modifier=modifier)} || ' ' || {line}.description"),
        Column("*Quantity", f"{line}.quantity", DECIMAL),
        money("*UnitAmount", f"{line}.unit_price", currency),
        Column("Discount", BLANK),
        Column("*AccountCode", "%(account_code)s"),
        Column("*TaxType", f"CASE WHEN {line}.tax = 0 THEN %(tax_exempt)s ELSE %(tax_type)s END"),
        Column("TrackingName1", "'Location'"),
        Column("TrackingOption1", "loc.name"),
        Column("TrackingName2", BLANK),
        Column("TrackingOption2", BLANK),
        Column("Currency", currency),
        Column("BrandingTheme", BLANK),
    )


XERO = (
    *XERO_CONTACT,
    Column("*InvoiceNumber", "i.number"),
    Column("Reference", "coalesce(to_char(l.service_date, 'YYYY-MM-DD'), '')"),
    Column("*InvoiceDate", XERO_DAY),
    Column("*DueDate", XERO_DAY),
    *_xero_items("l", "l.modifier", "i.currency"),
)
XERO_CREDIT_NOTES = (
    *XERO_CONTACT,
    Column("*CreditNoteNumber", "c.number"),
    Column("Reference", "'Invoice ' || i.number"),
    Column("*CreditNoteDate", f"to_char({CREDIT_DATE}, {XERO_FORMAT})"),
    *_xero_items("cl", BLANK, "c.currency"),
)


def export_query(*, kind: str, format: str, date_from: date, date_to: date, location_ids: Sequence[int]) -> ExportQuery:
    """The query for one export; ``location_ids`` are the locations it may include (already scoped)."""
    params = range_params(date_from, date_to, location_ids)
    params["minor_units"] = json.dumps(CURRENCY_MINOR_UNITS)
    credit_notes = kind == ExportKind.CREDIT_NOTES
    if format == ExportFormat.QUICKBOOKS:
        params.update(date_format=settings.EXPORT_QUICKBOOKS_DATE_FORMAT, uncoded_item=settings.EXPORT_UNCODED_ITEM)
        if credit_notes:
            return ExportQuery(QUICKBOOKS_CREDIT_MEMOS, CREDIT_LINES_SOURCE, CREDIT_LINES_ORDER, params)
        return ExportQuery(QUICKBOOKS, IMPORT_LINES_SOURCE, LINES_ORDER, params)
    if format == ExportFormat.XERO:
        params.update(date_format=settings.EXPORT_XERO_DATE_FORMAT, account_code=settings.EXPORT_XERO_ACCOUNT_CODE,
                      tax_type=settings.EXPORT_XERO_TAX_TYPE, tax_exempt=settings.EXPORT_XERO_TAX_EXEMPT,
                      uncoded_item=settings.EXPORT_UNCODED_ITEM)  # fmt: skip
        if credit_notes:
            return ExportQuery(XERO_CREDIT_NOTES, CREDIT_LINES_SOURCE, CREDIT_LINES_ORDER, params)
        return ExportQuery(XERO, IMPORT_LINES_SOURCE, LINES_ORDER, params)
    if kind == ExportKind.INVOICES:
        return ExportQuery(INVOICES, INVOICES_SOURCE, "i.issued_at, i.id", params)
    if kind == ExportKind.INVOICE_LINES:
        return ExportQuery(INVOICE_LINES, LINES_SOURCE, LINES_ORDER, params)
    if kind == ExportKind.PAYMENTS:
        return ExportQuery(PAYMENTS, PAYMENTS_SOURCE, "m.at, m.type, m.sort_id", params)
    return ExportQuery(CREDIT_NOTES, CREDIT_NOTES_SOURCE, "c.issued_at, c.id", params)
