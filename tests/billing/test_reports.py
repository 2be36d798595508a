"""Reports: revenue, receivables aging, daily close and package liability, and how they reconcile."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from backend.models import AuditEvent
from backend.reports import csv_safe
from billing.models import Package
from tests.billing.conftest import MONDAY, completed_visit, pay
from tests.billing.exports_ledger import FIRST_DAY, Ledger, build_ledger
from tests.scheduling.conftest import Clinic

SECOND_DAY = FIRST_DAY + dt.timedelta(days=1)


@pytest.fixture
def ledger(billing_clinic: Clinic, frozen_now: time_machine.Traveller) -> Ledger:
    return build_ledger(billing_clinic, frozen_now)


def report(clinic: Clinic, name: str, user: Any = None, **params: Any) -> dict[str, Any]:
    response = clinic.client(user or clinic.accountant).get(f"/api/v1/reports/{name}/", params)
    assert response.status_code == 200, response.content
    return response.json()


def total(body: dict[str, Any], field: str) -> Decimal:
    return sum((Decimal(row[field]) for row in body["totals"]), Decimal(0))


def receivables(clinic: Clinic, day: dt.date) -> Decimal:
    return total(report(clinic, "ar-aging", as_of=str(day)), "total")


def test_revenue_by_month_location_and_code_net_and_gross_of_tax(ledger: Ledger) -> None:
    body = report(ledger.clinic, "revenue", **{"from": str(FIRST_DAY), "to": str(SECOND_DAY)})

    rows = {(row["month"], row["code"]): row for row in body["rows"]}
    assert rows[("2026-10", "96365")]["billed"] == "600.00"  # the awkward invoice's line and the visit's
    assert rows[("2026-10", "")]["credited"] == "10.00"  # the amount credit note has no code
    assert rows[("2026-10", "")]["billed_tax"] == "0.30"
    assert {row["location"] for row in body["rows"]} == {"Boston"}
    assert body["totals"] == [{"currency": "USD", "billed": "791.50", "billed_tax": "0.30", "credited": "10.00",
                               "credited_tax": "0.00", "net": "781.50", "gross": "781.80"}]  # fmt: skip


def test_aging_buckets_what_each_invoice_still_owes_by_days_since_issue(
    ledger: Ledger, frozen_now: time_machine.Traveller
) -> None:
    frozen_now.move_to(dt.datetime(2026, 11, 20, 17, tzinfo=dt.UTC))
    body = report(ledger.clinic, "ar-aging", as_of="2026-11-15")

    by_invoice = {row["invoice_number"]: row for row in body["rows"]}
    assert (by_invoice[ledger.awkward.number]["balance"], by_invoice[ledger.awkward.number]["bucket"]) == (
        "231.80", "days_31_60"
    )  # fmt: skip
    assert (by_invoice[ledger.visit.number]["balance"], by_invoice[ledger.visit.number]["days"]) == ("50.00", 44)
    assert body["totals"][0]["days_31_60"] == "281.80"
    assert body["totals"][0]["current"] == "0.00"
    assert receivables(ledger.clinic, FIRST_DAY - dt.timedelta(days=1)) == 0
    assert receivables(ledger.clinic, FIRST_DAY) == Decimal("231.80")  # as it stood then


def test_daily_close_shows_takings_by_method_refunds_and_deposits(ledger: Ledger) -> None:
    body = report(ledger.clinic, "daily-close", user=ledger.clinic.reception,
                  **{"from": str(SECOND_DAY), "to": str(SECOND_DAY)})  # fmt: skip

    (day,) = body["rows"]
    assert (day["date"], day["location"], day["currency"]) == ("2026-10-02", "Boston", "USD")
    assert day["by_method"] == {
        "cash": {"payments": 1, "received": "450.00", "refunds": 1, "refunded": "50.00"},
        "check": {"payments": 1, "received": "200.00", "refunds": 0, "refunded": "0.00"},
    }
    assert (day["received"], day["refunded"], day["net_taken"], day["deposits"]) == (
        "650.00", "50.00", "600.00", "200.00"
    )  # fmt: skip
    assert day["applied_to_invoices"] == "400.00"  # the deposit waits as credit for the next invoice


def test_package_liability_values_sessions_sold_and_not_yet_delivered(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    package = Package.objects.create(location=clinic.location, service_type=clinic.infusion, name="Induction",
                                     sessions=6, price=Decimal("2400.00"), currency="USD")  # fmt: skip
    reception = clinic.client(clinic.reception)
    sale = reception.post("/api/v1/package-sales/", {"package": str(package.public_id),
                          "patient": str(clinic.patient.public_id)}, format="json").json()  # fmt: skip
    pay(reception, sale["invoice"], "2400.00")
    completed_visit(clinic, MONDAY)  # the session is delivered, and drawn, on the visit's day

    body = report(clinic, "package-liability", as_of=str(MONDAY))

    (row,) = body["rows"]
    assert (row["sessions"], row["used"], row["remaining"], row["liability"]) == (6, 1, 5, "2000.00")
    assert body["totals"] == [{"location_id": str(clinic.location.public_id), "location": "Boston",
                               "currency": "USD", "sessions_remaining": 5, "liability": "2000.00"}]  # fmt: skip
    assert report(clinic, "package-liability", as_of="2026-09-30")["rows"] == []


@pytest.mark.parametrize(("start", "end"), [(FIRST_DAY, FIRST_DAY), (SECOND_DAY, SECOND_DAY), (FIRST_DAY, SECOND_DAY)])
def test_revenue_minus_what_was_applied_equals_the_change_in_receivables(
    ledger: Ledger, start: dt.date, end: dt.date
) -> None:
    period = {"from": str(start), "to": str(end)}
    revenue = total(report(ledger.clinic, "revenue", **period), "gross")
    applied = total(report(ledger.clinic, "daily-close", **period), "applied_to_invoices")

    change = receivables(ledger.clinic, end) - receivables(ledger.clinic, start - dt.timedelta(days=1))

    assert revenue - applied == change
    assert change != 0


def test_reports_as_csv_with_escaped_text_and_errors_stay_json(ledger: Ledger) -> None:
    client = ledger.clinic.client(ledger.clinic.accountant)
    response = client.get("/api/v1/reports/ar-aging/", {"as_of": str(SECOND_DAY), "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {row["patient_name"] for row in rows} == {"Zoë Ramírez-Núñez", "Seán O'Brien, Jr."}
    bad = client.get("/api/v1/reports/revenue/", {"from": "2026-10-01", "format": "csv"})
    assert (bad.status_code, bad["Content-Type"]) == (400, "application/problem+json")
    assert "to" in bad.json()["errors"]


@pytest.mark.parametrize(("role", "name", "status"), [
    ("reception", "revenue", 403), ("clinician", "ar-aging", 403), ("reception", "package-liability", 403),
    ("clinician", "daily-close", 403), ("reception", "daily-close", 200), ("admin", "revenue", 200),
])  # fmt: skip
def test_reports_are_for_accountants_and_admins_and_daily_close_also_for_reception(
    ledger: Ledger, role: str, name: str, status: int
) -> None:
    params = {"from": str(FIRST_DAY), "to": str(SECOND_DAY)}
    response = ledger.clinic.client(getattr(ledger.clinic, role)).get(f"/api/v1/reports/{name}/", params)

    assert response.status_code == status
    assert AuditEvent.objects.filter(action="report", object_type=name.replace("-", "_")).count() == (
        1 if status == 200 else 0
    )


def test_report_csv_escapes_text_that_looks_like_a_formula_but_not_negative_amounts(ledger: Ledger) -> None:
    ledger.clinic.patient.first_name = "=HYPERLINK(1)"
    ledger.clinic.patient.save()
    client = ledger.clinic.client(ledger.clinic.accountant)

    aging = client.get("/api/v1/reports/ar-aging/", {"as_of": str(SECOND_DAY), "format": "csv"})

    names = {row["patient_name"] for row in csv.DictReader(io.StringIO(aging.content.decode()))}
    assert "'=HYPERLINK(1) Ramírez-Núñez" in names
    assert (csv_safe("-50.00"), csv_safe("-2 adjustment"), csv_safe("@SUM(A1)")) == (
        "-50.00", "'-2 adjustment", "'@SUM(A1)"
    )  # fmt: skip


@pytest.mark.parametrize(("path", "extra"), [
    ("/api/v1/reports/revenue/", {}), ("/api/v1/reports/daily-close/", {}),
    ("/api/v1/exports/stream/", {"kind": "invoices"}),
])  # fmt: skip
@pytest.mark.parametrize(("start", "end"), [("0001-01-01", "2026-10-01"), ("2026-10-01", "9999-12-31")])
def test_a_range_outside_the_years_1900_to_2200_is_a_400_naming_the_field(
    ledger: Ledger, path: str, extra: dict[str, str], start: str, end: str
) -> None:
    response = ledger.clinic.client(ledger.clinic.accountant).get(path, {"from": start, "to": end, **extra})
    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == ({"from"} if start < "1900" else {"to"})


@pytest.mark.parametrize("path", ["/api/v1/reports/ar-aging/", "/api/v1/reports/package-liability/"])
@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31"])
def test_an_as_of_day_outside_the_years_1900_to_2200_is_a_400_naming_it(ledger: Ledger, path: str, as_of: str) -> None:
    response = ledger.clinic.client(ledger.clinic.accountant).get(path, {"as_of": as_of})
    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == {"as_of"}
