"""Exports: round trips to the cent, spreadsheet-injection escaping, import column sets, jobs, API and audit."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import time_machine
from django.core.files.storage import default_storage
from django.utils import timezone
from pytest_django import Settings as DjangoSettings

from backend.models import AuditEvent
from backend.money import money_text
from billing.exports.queries import export_query
from billing.exports.writers import BOM, count_rows, request_cursor, write_export
from billing.models import CreditNote, ExportJob, ExportStatus, InvoiceLine, Payment, Refund
from billing.services.credit_notes import credit_note_issue
from tests.billing.conftest import issued_invoice
from tests.billing.exports_ledger import FIRST_DAY, Ledger, build_ledger
from tests.scheduling.conftest import Clinic

FORMULA_STARTS = ("=", "+", "-", "@")
LAST_DAY = FIRST_DAY + dt.timedelta(days=30)
TEMPLATES = Path(__file__).parent / "import_templates"  # the vendors' header rows (README.md there)


def template(name: str) -> list[str]:
    return next(csv.reader(io.StringIO((TEMPLATES / f"{name}.csv").read_text())))


def customer(patient: Any) -> str:
    return f"{patient.first_name} {patient.last_name} ({patient.public_id.hex[:8].upper()})"


@pytest.fixture
def ledger(billing_clinic: Clinic, frozen_now: time_machine.Traveller) -> Ledger:
    return build_ledger(billing_clinic, frozen_now)


def export_bytes(ledger: Ledger, kind: str, fmt: str = "csv", *, bom: bool = False) -> tuple[bytes, int]:
    query = export_query(kind=kind, format=fmt, date_from=FIRST_DAY, date_to=LAST_DAY,
                         location_ids=[ledger.clinic.location.pk])  # fmt: skip
    out = io.BytesIO()
    seen: list[int] = []
    with request_cursor() as cursor:
        rows = write_export(out, cursor, query, format=fmt, bom=bom, on_progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == rows
    return out.getvalue(), rows


def streamed(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def unescape(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:2] in ("=", "+", "-", "@", "\t", "\r") else text


def lines_in_order() -> Iterator[InvoiceLine]:
    return (
        InvoiceLine.objects.exclude(invoice__issued_at=None)
        .select_related("invoice__patient")
        .order_by("invoice__issued_at", "invoice_id", "position", "id")
        .iterator()
    )


def test_invoice_lines_csv_round_trips_to_the_cent_with_awkward_text(ledger: Ledger) -> None:
    data, count = export_bytes(ledger, "invoice_lines")
    rows = read_csv(data)

    expected = list(lines_in_order())
    assert count == len(rows) == len(expected) == 8
    for row, line in zip(rows, expected, strict=True):
        assert row["invoice_number"] == line.invoice.number
        assert unescape(row["description"]) == line.description
        assert row["patient_name"] == f"{line.invoice.patient.first_name} {line.invoice.patient.last_name}"
        assert (Decimal(row["quantity"]), Decimal(row["unit_price"])) == (line.quantity, line.unit_price)
        assert (Decimal(row["amount"]), Decimal(row["tax"]), Decimal(row["total"])) == (
            line.amount,
            line.tax,
            line.total,
        )
        assert row["line_id"] == str(line.public_id)
    assert rows[0]["issue_date"] == "2026-10-01"  # ISO dates, the location's local day
    assert rows[0]["patient_name"] == "Zoë Ramírez-Núñez"
    assert sum(Decimal(row["total"]) for row in rows) == sum(line.total for line in expected)


def test_text_cells_that_start_like_a_formula_are_escaped_and_numbers_are_not(ledger: Ledger) -> None:
    data, _ = export_bytes(ledger, "invoice_lines")
    rows = read_csv(data)

    descriptions = [row["description"] for row in rows]
    assert '\'=HYPERLINK("http://evil.example","click")' in descriptions
    assert {"'-2 adjustment", "'@SUM(A1:A9)", "'+1 phone follow-up; naïve café"} <= set(descriptions)
    for row in rows:
        for name in ("description", "patient_name", "code", "location", "invoice_number"):
            assert not row[name].startswith(FORMULA_STARTS), row[name]
    payments = read_csv(export_bytes(ledger, "payments")[0])
    assert "'=cmd|x" in [row["reference"] for row in payments]
    assert "-50.00" in [row["amount"] for row in payments]  # a refund: a number, negative, not escaped


def test_csv_quotes_commas_and_quotes_and_can_start_with_a_bom_for_excel(ledger: Ledger) -> None:
    data, _ = export_bytes(ledger, "invoice_lines", bom=True)

    assert data.startswith(BOM + b"invoice_number,issue_date,")
    assert b'"Infusion, ""extended"" (60 min)"' in data
    assert not export_bytes(ledger, "invoice_lines")[0].startswith(BOM)


def test_invoices_payments_and_credit_notes_match_the_ledger(ledger: Ledger) -> None:
    invoices = {row["invoice_number"]: row for row in read_csv(export_bytes(ledger, "invoices")[0])}
    awkward = invoices[str(ledger.awkward.number)]
    assert (awkward["total"], awkward["credited"], awkward["paid"]) == (
        money_text(ledger.awkward.total, "USD"),
        "10.00",
        "100.00",
    )
    assert Decimal(awkward["balance"]) == ledger.awkward.total - Decimal("110.00")
    assert invoices[str(ledger.visit.number)]["patient_name"] == "Seán O'Brien, Jr."

    payments = read_csv(export_bytes(ledger, "payments")[0])
    assert len(payments) == Payment.objects.count() + Refund.objects.count() == 4
    assert sum(Decimal(row["amount"]) for row in payments) == Decimal("100.00") + Decimal("450.00") - Decimal(
        "50.00"
    ) + Decimal("200.00")
    assert {row["type"] for row in payments} == {"payment", "refund"}
    assert [row["deposit"] for row in payments if row["method"] == "check"] == ["yes"]

    notes = read_csv(export_bytes(ledger, "credit_notes")[0])
    note = CreditNote.objects.get()
    assert [(row["credit_note_number"], row["invoice_number"], row["total"], row["reason"]) for row in notes] == [
        (note.number, ledger.awkward.number, "10.00", 'Price, "corrected"')
    ]


def test_xlsx_has_typed_cells_that_round_trip_to_the_cent(ledger: Ledger) -> None:
    data, count = export_bytes(ledger, "invoice_lines", "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    assert sheet is not None
    header, *rows = list(sheet.iter_rows(values_only=True))

    assert header[:3] == ("invoice_number", "issue_date", "invoice_status")
    assert len(rows) == count == 8
    column = {name: index for index, name in enumerate(header)}
    for row, line in zip(rows, lines_in_order(), strict=True):
        assert isinstance(row[column["total"]], int | float)
        assert Decimal(str(row[column["total"]])).quantize(Decimal("0.01")) == line.total
        assert unescape(str(row[column["description"]])) == line.description
        assert isinstance(row[column["issue_date"]], dt.datetime)
        assert line.invoice.issued_at is not None
        assert row[column["issue_date"]].date() == line.invoice.issued_at.date()


def test_quickbooks_and_xero_files_use_their_import_column_sets(ledger: Ledger, settings: DjangoSettings) -> None:
    quickbooks = read_csv(export_bytes(ledger, "invoices", "quickbooks")[0])
    xero = read_csv(export_bytes(ledger, "invoice_lines", "xero")[0])
    memos = read_csv(export_bytes(ledger, "credit_notes", "quickbooks")[0])
    xero_credits = read_csv(export_bytes(ledger, "credit_notes", "xero")[0])

    assert list(quickbooks[0]) == template("quickbooks_invoices")
    assert list(xero[0]) == template("xero_sales_invoices")
    assert list(memos[0]) == template("quickbooks_credit_memos")
    assert list(xero_credits[0]) == template("xero_credit_notes")
    assert len(quickbooks) == len(xero) == 8  # one row per invoice line, as both importers expect
    assert quickbooks[0]["InvoiceDate"] == "10/01/2026"
    assert quickbooks[0]["Customer"] == customer(ledger.clinic.patient)
    assert xero[0]["*InvoiceDate"] == "01/10/2026"
    assert xero[0]["*AccountCode"] == settings.EXPORT_XERO_ACCOUNT_CODE
    assert {row["*TaxType"] for row in xero} == {settings.EXPORT_XERO_TAX_EXEMPT, settings.EXPORT_XERO_TAX_TYPE}
    uncoded = [row for row in quickbooks if row["ItemDescription"].startswith("'=HYPERLINK")]
    assert [row["Item(Product/Service)"] for row in uncoded] == [settings.EXPORT_UNCODED_ITEM]
    assert (memos[0]["CreditMemoNo"], memos[0]["ItemAmount"]) == (CreditNote.objects.get().number, "10.00")
    assert xero_credits[0]["Reference"] == f"Invoice {ledger.awkward.number}"


def _net_receivables(clinic: Clinic) -> Decimal:
    """The API's net receivables for the range: every issued invoice's total less what was credited."""
    body = clinic.client(clinic.accountant).get("/api/v1/invoices/", {
        "issued_from": str(FIRST_DAY), "issued_to": str(LAST_DAY), "page_size": "500",
    }).json()  # fmt: skip
    return sum((Decimal(row["total"]) - Decimal(row["credited"]) for row in body["results"]), Decimal(0))


def test_the_import_files_of_a_range_with_a_credit_note_and_a_void_total_the_apis_net_receivables(
    ledger: Ledger,
) -> None:
    clinic = ledger.clinic
    void = issued_invoice(clinic, FIRST_DAY + dt.timedelta(days=4))  # a Monday
    credit_note_issue(actor=clinic.accountant, invoice=void, reason="Billed in error", amount=void.total)
    void.refresh_from_db()
    assert void.status == "void"

    invoices = read_csv(export_bytes(ledger, "invoices", "quickbooks")[0])
    memos = read_csv(export_bytes(ledger, "credit_notes", "quickbooks")[0])
    assert void.number not in {row["InvoiceNo"] for row in invoices}  # void: left out, with its credit note
    quickbooks_net = sum(Decimal(r["ItemAmount"]) + Decimal(r["ItemTaxAmount"]) for r in invoices) - sum(
        Decimal(r["ItemAmount"]) + Decimal(r["ItemTaxAmount"]) for r in memos
    )
    assert quickbooks_net == _net_receivables(clinic)

    xero_invoices = read_csv(export_bytes(ledger, "invoice_lines", "xero")[0])
    xero_credits = read_csv(export_bytes(ledger, "credit_notes", "xero")[0])
    ex_tax = sum(Decimal(r["*Quantity"]) * Decimal(r["*UnitAmount"]) for r in xero_invoices) - sum(
        Decimal(r["*Quantity"]) * Decimal(r["*UnitAmount"]) for r in xero_credits
    )  # Xero adds the tax from each line's tax type
    taxes = sum(line.tax for line in InvoiceLine.objects.exclude(invoice=void)) - sum(
        note.tax_total for note in CreditNote.objects.exclude(invoice=void)
    )
    assert ex_tax + taxes == _net_receivables(clinic)


def test_two_patients_of_one_name_are_two_customers(ledger: Ledger) -> None:
    clinic = ledger.clinic
    clinic.patient2.first_name, clinic.patient2.last_name = clinic.patient.first_name, clinic.patient.last_name
    clinic.patient2.save()
    names = {row["Customer"] for row in read_csv(export_bytes(ledger, "invoices", "quickbooks")[0])}
    assert names == {customer(clinic.patient), customer(clinic.patient2)}
    contacts = {row["*ContactName"] for row in read_csv(export_bytes(ledger, "invoices", "xero")[0])}
    assert len(contacts) == 2


def test_xeros_date_format_is_the_locations(ledger: Ledger) -> None:
    url = f"/api/v1/locations/{ledger.clinic.location.public_id}/billing-policy/"
    changed = ledger.clinic.client(ledger.clinic.admin).put(url, {"xero_date_format": "MM/DD/YYYY"}, format="json")
    assert changed.status_code == 200, changed.json()
    xero = read_csv(export_bytes(ledger, "invoices", "xero")[0])
    assert xero[0]["*InvoiceDate"] == "10/01/2026"


def test_a_range_means_the_locations_local_days(ledger: Ledger) -> None:
    query = export_query(kind="invoices", format="csv", date_from=FIRST_DAY, date_to=FIRST_DAY,
                         location_ids=[ledger.clinic.location.pk])  # fmt: skip
    out = io.BytesIO()
    with request_cursor() as cursor:
        write_export(out, cursor, query, format="csv", bom=False, on_progress=lambda rows: None)
    assert [row["invoice_number"] for row in read_csv(out.getvalue())] == [ledger.awkward.number]
    nowhere = export_query(kind="invoices", format="csv", date_from=FIRST_DAY, date_to=LAST_DAY, location_ids=[])
    with request_cursor() as cursor:
        assert count_rows(cursor, nowhere) == 0


# The API --------------------------------------------------------------------------------------


def post_export(clinic: Clinic, user: Any = None, **fields: Any) -> Any:
    body = {"kind": "invoice_lines", "format": "csv", "from": str(FIRST_DAY), "to": str(LAST_DAY), **fields}
    return clinic.client(user or clinic.accountant).post("/api/v1/exports/", body, format="json")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"to": "2026-09-01"}, "to"),
        ({"format": "xero", "kind": "payments"}, "format"),
        ({"format": "quickbooks", "kind": "payments"}, "format"),
        ({"format": "pdf"}, "format"),
        ({"kind": "patients"}, "kind"),
        ({"from": "yesterday"}, "from"),
        ({"location": "5b4c3f7e-0000-4000-8000-000000000000"}, "location"),
    ],
)
def test_bad_export_requests_get_the_error_format_and_record_nothing(
    ledger: Ledger, fields: dict[str, str], field: str
) -> None:
    response = post_export(ledger.clinic, **fields)

    assert response.status_code in (400, 422)
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in response.json()["errors"]
    assert not ExportJob.objects.exists()
    assert not AuditEvent.objects.filter(action="export").exists()


@pytest.mark.parametrize("role", ["reception", "clinician"])
def test_only_accountants_and_admins_export(ledger: Ledger, role: str) -> None:
    assert post_export(ledger.clinic, getattr(ledger.clinic, role)).status_code == 403
    assert ledger.clinic.client(getattr(ledger.clinic, role)).get("/api/v1/exports/").status_code == 403


def test_an_export_job_is_recorded_audited_and_answered_with_202(ledger: Ledger) -> None:
    response = post_export(ledger.clinic, format="xlsx")

    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["progress"], body["url"]) == ("pending", 0, None)
    job = ExportJob.objects.get(public_id=body["id"])
    event = AuditEvent.objects.get(action="export")
    assert (event.actor, event.object_id) == (ledger.clinic.accountant, str(job.public_id))
    assert event.details == {"kind": "invoice_lines", "format": "xlsx", "from": "2026-10-01", "to": "2026-10-31",
                             "location": None, "bom": False}  # fmt: skip
    assert event.ip == "127.0.0.1"


def test_stream_downloads_a_small_range_now_with_the_same_writer(ledger: Ledger) -> None:
    client = ledger.clinic.client(ledger.clinic.accountant)
    params = {"kind": "invoice_lines", "format": "csv", "from": str(FIRST_DAY), "to": str(LAST_DAY)}
    response = client.get("/api/v1/exports/stream/", params)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="invoice_lines-2026-10-01-to-2026-10-31.csv"' in response["Content-Disposition"]
    assert streamed(response) == export_bytes(ledger, "invoice_lines")[0]
    assert AuditEvent.objects.filter(action="export", details__stream=True).count() == 1
    xlsx = client.get("/api/v1/exports/stream/", {**params, "format": "xlsx"})
    assert xlsx.status_code == 200
    assert len(list(openpyxl.load_workbook(io.BytesIO(streamed(xlsx))).active.rows)) == 9


def test_stream_refuses_a_range_too_large_to_download_directly(ledger: Ledger, settings: DjangoSettings) -> None:
    settings.EXPORT_STREAM_MAX_ROWS = 3
    response = ledger.clinic.client(ledger.clinic.accountant).get(
        "/api/v1/exports/stream/", {"kind": "invoice_lines", "from": str(FIRST_DAY), "to": str(LAST_DAY)}
    )

    assert response.status_code == 422
    assert (response.json()["code"], response.json()["rows"]) == ("export_too_large", 8)


# Jobs in-process (the real-worker proofs are in tests/integration/test_export_jobs.py) ----------


@pytest.mark.django_db(transaction=True)
def test_a_job_writes_stores_and_serves_only_its_owner_the_whole_file(
    billing_clinic: Clinic, frozen_now: time_machine.Traveller, media: Path
) -> None:
    from worker.exports import export_run

    ledger = build_ledger(billing_clinic, frozen_now)
    job_id = post_export(ledger.clinic).json()["id"]
    job = ExportJob.objects.get(public_id=job_id)

    assert export_run(job_id=job.pk) == ExportStatus.DONE
    assert export_run(job_id=job.pk) == "not-claimed"
    job.refresh_from_db()
    stored = default_storage.open(job.file.name, "rb").read()
    assert (job.rows, job.rows_done, job.rows_total, job.progress) == (8, 8, 8, 100)
    assert job.checksum == hashlib.sha256(stored).hexdigest()
    assert job.size == len(stored)
    assert stored == export_bytes(ledger, "invoice_lines")[0]

    owner = ledger.clinic.client(ledger.clinic.accountant)
    answer = owner.get(f"/api/v1/exports/{job_id}/").json()
    assert (answer["status"], answer["progress"], answer["rows"]) == ("done", 100, 8)
    download = owner.get(answer["url"])
    assert download.status_code == 200
    assert streamed(download) == stored
    assert AuditEvent.objects.filter(action="download", object_id=job_id).count() == 1
    assert ledger.clinic.client(ledger.clinic.admin).get(f"/api/v1/exports/{job_id}/download/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_job_not_done_cannot_be_downloaded_and_an_expired_one_says_so(
    billing_clinic: Clinic, frozen_now: time_machine.Traveller, media: Path
) -> None:
    from worker.exports import export_run, exports_sweep

    ledger = build_ledger(billing_clinic, frozen_now)
    job_id = post_export(ledger.clinic).json()["id"]
    owner = ledger.clinic.client(ledger.clinic.accountant)
    assert owner.get(f"/api/v1/exports/{job_id}/download/").json()["code"] == "export_not_ready"
    job = ExportJob.objects.get(public_id=job_id)
    export_run(job_id=job.pk)
    job.refresh_from_db()

    assert job.expires_at is not None
    frozen_now.move_to(job.expires_at + dt.timedelta(seconds=1))
    exports_sweep(enqueue=lambda pk: None)

    job.refresh_from_db()
    assert (job.status, job.file.name) == (ExportStatus.EXPIRED, "")
    assert not list((media / "exports").rglob("*.csv"))
    response = owner.get(f"/api/v1/exports/{job_id}/download/")
    assert (response.status_code, response.json()["code"]) == (410, "export_expired")


@pytest.mark.django_db(transaction=True)
def test_a_stalled_job_is_handed_to_a_retry_and_the_old_run_can_no_longer_write(
    billing_clinic: Clinic, frozen_now: time_machine.Traveller, media: Path, settings: DjangoSettings
) -> None:
    from worker.exports import LostClaim, ProgressRecorder, export_run, exports_sweep

    ledger = build_ledger(billing_clinic, frozen_now)
    job = ExportJob.objects.get(public_id=post_export(ledger.clinic).json()["id"])
    old_run = ProgressRecorder(ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING, attempts=1), 0)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, attempts=1)  # a worker died here
    enqueued: list[int] = []

    later = timezone.now() + dt.timedelta(seconds=settings.EXPORT_STALL_TIMEOUT + 1)
    assert exports_sweep(enqueue=enqueued.append, now=later) == 1
    assert enqueued == [job.pk]
    assert export_run(job_id=job.pk) == ExportStatus.DONE
    job.refresh_from_db()
    assert (job.status, job.attempts, job.rows) == (ExportStatus.DONE, 2, 8)
    assert [path.parent.name for path in (media / "exports").rglob("*.csv")] == ["2"]
    with pytest.raises(LostClaim):
        old_run(5)
    job.refresh_from_db()
    assert (job.rows_done, job.status) == (8, ExportStatus.DONE)
