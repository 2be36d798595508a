"""Every ISO 4217 currency, stored and written with exactly its minor units: the API, the exports and the
documents agree ("12.345" BHD, "1200" JPY, "0.00" USD)."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest

from billing.documents import invoice_payload
from billing.exports.queries import export_query
from billing.exports.writers import request_cursor, write_export
from billing.models import FeeScheduleItem, Invoice
from scheduling.models import Location, ServiceType
from tests.billing.conftest import bill_visits, completed_visit, pay
from tests.billing.test_exports import read_csv
from tests.scheduling.conftest import Clinic


def _priced_in(clinic: Clinic, currency: str, price: str) -> None:
    """The clinic's location and infusion in ``currency``, the infusion billed as one line at ``price``."""
    Location.objects.filter(pk=clinic.location.pk).update(currency=currency)
    ServiceType.objects.filter(pk=clinic.infusion.pk).update(currency=currency)
    clinic.location.refresh_from_db()
    clinic.infusion.refresh_from_db()
    FeeScheduleItem.objects.create(service_type=clinic.infusion, code="96365", description="IV infusion",
                                   unit_price=Decimal(price))  # fmt: skip


def _billed(clinic: Clinic) -> dict:
    visit = completed_visit(clinic)
    client = clinic.client(clinic.accountant)
    draft = bill_visits(client, clinic, visit)
    assert draft.status_code == 201, draft.json()
    issued = client.post(f"/api/v1/invoices/{draft.json()['id']}/issue/")
    assert issued.status_code == 200, issued.json()
    return issued.json()


def _export(clinic: Clinic, kind: str, fmt: str) -> bytes:
    """The export of the day the invoices were issued."""
    day = Invoice.objects.get().issued_at.astimezone(clinic.location.zone).date()  # type: ignore[union-attr]
    query = export_query(kind=kind, format=fmt, date_from=day, date_to=day, location_ids=[clinic.location.pk])
    out = io.BytesIO()
    with request_cursor() as cursor:
        write_export(out, cursor, query, format=fmt, bom=False, on_progress=lambda rows: None)
    return out.getvalue()


def test_three_decimal_dinars_are_kept_to_the_fils_everywhere(clinic: Clinic) -> None:
    _priced_in(clinic, "BHD", "12.345")

    invoice = _billed(clinic)
    assert (invoice["currency"], invoice["total"], invoice["paid"], invoice["balance"]) == (
        "BHD", "12.345", "0.000", "12.345",
    )  # fmt: skip
    assert invoice["lines"][0]["unit_price"] == "12.345"
    paid = pay(clinic.client(clinic.reception), invoice["id"], "2.005")
    assert (paid.status_code, paid.json()["amount"]) == (201, "2.005")
    assert pay(clinic.client(clinic.reception), invoice["id"], "1.0005").status_code == 422  # a tenth of a fils

    again = clinic.client(clinic.accountant).get(f"/api/v1/invoices/{invoice['id']}/").json()
    assert (again["paid"], again["balance"]) == ("2.005", "10.340")
    row = read_csv(_export(clinic, "invoices", "csv"))[0]
    assert (row["total"], row["paid"], row["balance"], row["credited"]) == ("12.345", "2.005", "10.340", "0.000")
    document = invoice_payload(Invoice.objects.get(public_id=invoice["id"]))
    assert (document["total"], document["paid"], document["balance"]) == ("12.345", "2.005", "10.340")


def test_yen_have_no_decimals_in_the_api_the_spreadsheet_or_the_document(clinic: Clinic) -> None:
    _priced_in(clinic, "JPY", "1200")

    invoice = _billed(clinic)
    assert (invoice["total"], invoice["paid"], invoice["balance"]) == ("1200", "0", "1200")
    assert pay(clinic.client(clinic.reception), invoice["id"], "10.5").status_code == 422

    sheet = openpyxl.load_workbook(io.BytesIO(_export(clinic, "invoice_lines", "xlsx"))).active
    header = [cell.value for cell in sheet[1]]
    total = sheet.cell(row=2, column=header.index("total") + 1)
    assert (total.value, total.number_format) == (1200, "#,##0")
    quickbooks = read_csv(_export(clinic, "invoice_lines", "quickbooks"))[0]
    assert (quickbooks["ItemRate"], quickbooks["ItemAmount"], quickbooks["Currency"]) == ("1200", "1200", "JPY")


def test_a_dollar_amount_of_nothing_is_written_with_its_cents(clinic: Clinic) -> None:
    _priced_in(clinic, "USD", "450")

    invoice = _billed(clinic)
    assert (invoice["total"], invoice["credited"], invoice["paid"]) == ("450.00", "0.00", "0.00")
    sheet = openpyxl.load_workbook(io.BytesIO(_export(clinic, "invoices", "xlsx"))).active
    header = [cell.value for cell in sheet[1]]
    paid = sheet.cell(row=2, column=header.index("paid") + 1)
    assert paid.number_format == "#,##0.00"


@pytest.mark.parametrize(("currency", "status"), [("INR", 201), ("CLP", 201), ("KWD", 201), ("XAU", 400), ("usd", 400)])
def test_a_location_takes_any_iso_4217_currency_and_nothing_else(clinic: Clinic, currency: str, status: int) -> None:
    response = clinic.client(clinic.admin).post(
        "/api/v1/locations/", {"name": "Elsewhere", "timezone": "Asia/Kolkata", "currency": currency}, format="json"
    )

    assert response.status_code == status, response.json()
    if status == 400:
        assert "currency" in response.json()["errors"]
