"""The accountant's desk: invoice filters as the API's, credit notes, refunds, drafts from visits, exports,
reports with charts, and the API's rate limits on console form posts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from rest_framework.test import APIClient

from backend.models import AuditEvent
from billing.models import CreditNote, ExportJob, Invoice, InvoiceStatus, Refund
from console.charts import bar_chart
from tests.billing.conftest import add_fee_schedule, completed_visit
from tests.console.conftest import ConsoleClinic, signed_in


def _numbers(html: str) -> list[str]:
    return re.findall(r'/console/billing/invoices/[0-9a-f-]{36}/">([^<]+)</a>', html)


def _name(patient: Any) -> str:
    return f"{patient.first_name} {patient.last_name}"


def test_invoices_filter_by_status_patient_and_local_issue_date(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    client = signed_in(c.clinic.accountant)
    number = c.invoice.number
    assert _numbers(client.get("/console/billing/").content.decode()) == [number]
    assert _numbers(client.get("/console/billing/", {"status": "paid"}).content.decode()) == []
    assert _numbers(client.get("/console/billing/", {"status": "partially_paid"}).content.decode()) == [number]
    assert _numbers(client.get("/console/billing/", {"patient": _name(c.clinic.patient)}).content.decode()) == [number]
    assert _numbers(client.get("/console/billing/", {"patient": _name(c.clinic.patient2)}).content.decode()) == []
    # issued 2026-10-01 08:00 in New York: the location's day, not UTC's
    assert _numbers(client.get("/console/billing/", {"from": "2026-10-01", "to": "2026-10-01"}).content.decode()) == [
        number
    ]
    assert _numbers(client.get("/console/billing/", {"from": "2026-10-02"}).content.decode()) == []


@pytest.mark.parametrize(("name", "value"), [("status", "nope"), ("location", "x"), ("from", "2026-13-01"),
                                        ("to", "9999-01-01"), ("page", "-1")])  # fmt: skip
def test_junk_invoice_filters_are_a_clear_400_or_ignored(console_clinic: ConsoleClinic, name: str, value: str) -> None:
    response = signed_in(console_clinic.clinic.accountant).get("/console/billing/", {name: value})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert b'role="alert"' in response.content


def test_a_credit_note_by_line_units_posted_twice_is_issued_once(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    client = signed_in(c.clinic.accountant)
    line = c.invoice.lines.get()
    form = {f"credit-{line.public_id}": "1", "reason": "Goodwill", "idempotency_key": "k-1"}
    for _ in range(2):
        response = client.post(f"/console/invoices/{c.invoice.public_id}/credit-notes/", form)
        assert response.status_code == 302
    note = CreditNote.objects.get(invoice=c.invoice)
    assert (note.total, note.reason) == (Decimal("200.00"), "Goodwill")
    page = client.get(f"/console/billing/invoices/{c.invoice.public_id}/").content.decode()
    assert note.number in page
    assert "Goodwill" in page


def test_a_credit_note_refused_by_the_service_shows_its_reason_on_the_invoice(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    response = signed_in(c.clinic.accountant).post(
        f"/console/invoices/{c.invoice.public_id}/credit-notes/", {"amount": "9999.00", "reason": "Too much"}
    )
    assert response.status_code in (400, 409, 422)
    assert b'role="alert"' in response.content
    assert not CreditNote.objects.exists()


def test_a_line_of_another_invoice_is_refused_as_the_api_refuses_it(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    response = signed_in(c.clinic.accountant).post(
        f"/console/invoices/{c.invoice.public_id}/credit-notes/",
        {f"credit-{c.visit.public_id}": "1", "reason": "Wrong line"},
    )
    assert response.status_code == 400
    assert b"Not a line of this invoice." in response.content


def test_an_accountant_refunds_a_payment_and_reception_may_not(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    path = f"/console/payments/{c.payment.public_id}/refunds/"
    assert signed_in(c.clinic.reception).post(path, {"amount": "10.00", "reason": "x"}).status_code == 403
    response = signed_in(c.clinic.accountant).post(path, {"amount": "10.00", "reason": "Overcharged"})
    assert response.status_code == 302
    refund = Refund.objects.get(payment=c.payment)
    assert (refund.amount, refund.reason) == (Decimal("10.00"), "Overcharged")
    too_much = signed_in(c.clinic.accountant).post(path, {"amount": "500.00", "reason": "x"})
    assert too_much.status_code in (400, 409, 422)
    assert Refund.objects.filter(payment=c.payment).count() == 1


def test_completed_visits_to_bill_become_a_draft_and_leave_the_list(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    add_fee_schedule(c.clinic)
    visit = completed_visit(c.clinic, dt.date(2026, 10, 5))
    client = signed_in(c.clinic.accountant)
    assert str(visit.public_id) in client.get("/console/billing/to-bill/").content.decode()

    response = client.post("/console/billing/to-bill/", {"visit": [str(visit.public_id)]})
    assert response.status_code == 302
    draft = Invoice.objects.filter(lines__appointment=visit, status=InvoiceStatus.DRAFT).distinct().get()
    assert response["Location"] == f"/console/billing/invoices/{draft.public_id}/"
    assert draft.total == Decimal("450.00")
    assert str(visit.public_id) not in client.get("/console/billing/to-bill/").content.decode()
    assert client.post("/console/billing/to-bill/", {"visit": ["junk"]}).status_code == 400


def test_an_export_started_from_the_console_is_the_apis_job_and_its_row_shows_progress(
    console_clinic: ConsoleClinic,
) -> None:
    c = console_clinic
    client = signed_in(c.clinic.accountant)
    response = client.post("/console/billing/exports/", {"kind": "payments", "format": "xlsx", "from": "2026-09-01",
                                                         "to": "2026-09-30"})  # fmt: skip
    assert response.status_code == 302
    job = ExportJob.objects.get(kind="payments")
    assert (job.requested_by, job.format, job.date_from) == (c.clinic.accountant, "xlsx", dt.date(2026, 9, 1))
    ExportJob.objects.filter(pk=job.pk).update(status="running", rows_total=200, rows_done=50)
    row = client.get(f"/console/billing/exports/{job.public_id}/").content.decode()
    assert 'value="25"' in row
    assert "every 1s" in row
    # another accountant's export is not found; a range ending before it starts is refused as by the API
    assert signed_in(c.clinic.admin).get(f"/console/billing/exports/{job.public_id}/").status_code == 404
    refused = client.post("/console/billing/exports/", {"kind": "payments", "format": "csv", "from": "2026-09-30",
                                                        "to": "2026-09-01"})  # fmt: skip
    assert refused.status_code == 422  # the API's status for ExportRefused
    assert b"The range ends before it starts." in refused.content


def test_reports_draw_their_charts_and_are_audited_like_the_api(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    client = signed_in(c.clinic.accountant)
    aging = client.get("/console/billing/reports/ar_aging/").content.decode()
    assert "Owed by age (USD)" in aging
    assert "<svg" in aging
    assert "150.00" in aging
    revenue = client.get("/console/billing/reports/revenue/").content.decode()
    assert "Net revenue by month (USD)" in revenue
    assert "2026-10" in revenue
    # every month of the range is a bar, those without revenue at zero
    twelve = client.get("/console/billing/reports/revenue/", {"from": "2025-11-01", "to": "2026-10-31"})
    assert twelve.content.decode().count('class="label">20') == 12
    assert AuditEvent.objects.filter(actor=c.clinic.accountant, action="report").count() == 3  # one per report shown
    # reception reads the daily close only, as the API allows
    reception = signed_in(c.clinic.reception)
    assert reception.get("/console/billing/reports/")["Location"] == "/console/billing/reports/daily_close/"
    assert reception.get("/console/billing/reports/ar_aging/").status_code == 403
    assert reception.get("/console/billing/reports/daily_close/").status_code == 200
    assert client.get("/console/billing/reports/nope/").status_code == 404


def test_bars_scale_to_the_largest_value_and_negative_ones_hang_below_zero() -> None:
    chart = bar_chart("t", [("a", Decimal("100")), ("b", Decimal("-50")), ("c", Decimal("0"))])
    up, down, flat = chart.bars
    assert up.y + up.height == pytest.approx(chart.zero_y)
    assert down.y == pytest.approx(chart.zero_y)
    assert down.height == pytest.approx(up.height / 2)
    assert flat.height == 0
    assert bar_chart("empty", []).bars == []


def test_console_writes_count_against_the_apis_booking_limit(console_clinic: ConsoleClinic, settings: Any) -> None:
    cache.clear()
    settings.THROTTLE_RATES = {**django_settings.THROTTLE_RATES, "booking": "2/min"}
    c = console_clinic
    client = signed_in(c.clinic.reception)
    path = f"/console/visits/{c.visit.public_id}/confirm/"
    assert client.post(path).status_code != 429
    assert client.post(path).status_code != 429
    refused = client.post(path)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    # the same counter as the API's
    api = APIClient()
    api.force_authenticate(c.clinic.reception)
    assert api.post(f"/api/v1/appointments/{c.visit.public_id}/confirm/").status_code == 429
    # another user has their own count
    assert signed_in(c.clinic.admin).post(path).status_code != 429
