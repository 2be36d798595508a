"""Every hot path reads history through an index: no statement of a booking, the availability search, a day's
list, the invoice list, a patient's access log, the day board, AR aging, the reminder dispatcher's claim or the
invoice-line export reads a large table whole (tests/plans.py says how plans are judged)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from billing.exports.queries import export_query
from billing.models import Invoice
from billing.services.credit_notes import credit_note_issue
from tests.billing.conftest import MONDAY, add_fee_schedule, issued_invoice, pay
from tests.plans import scans_in
from tests.scheduling.conftest import Clinic, ny
from tests.scheduling.test_series import post_series
from worker.reminders import reminders_dispatch


@pytest.fixture
def history(clinic: Clinic) -> Clinic:
    """A clinic with a row in every table a hot path reads (the planner takes a table with no pages at all for
    an empty one, whatever its statistics say): a series, an issued invoice, part paid and part credited."""
    add_fee_schedule(clinic)
    invoice = issued_invoice(clinic)
    assert pay(clinic.client(clinic.reception), invoice, "100.00").status_code == 201
    credit_note_issue(actor=clinic.accountant, invoice=invoice, reason="Goodwill", amount=Decimal("10.00"))
    _ok(post_series(clinic.client(clinic.reception), clinic, first_date="2026-11-02", weekdays=[0, 2]))
    return clinic


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201), getattr(response, "content", b"")[:500]
    return response


def _api(clinic: Clinic, user_attr: str, path: str, **params: Any) -> Callable[[], Any]:
    return lambda: _ok(clinic.client(getattr(clinic, user_attr)).get(path, params))


def _board(clinic: Clinic) -> Callable[[], Any]:
    client = Client()
    client.force_login(clinic.reception)
    return lambda: _ok(client.get("/console/day/", {"date": MONDAY.isoformat()}))


def _invoice_line_export(clinic: Clinic) -> Callable[[], Any]:
    query = export_query(kind="invoice_lines", format="csv", date_from=dt.date(2026, 9, 1),
                         date_to=dt.date(2026, 10, 31), location_ids=[clinic.location.pk])  # fmt: skip

    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(query.sql, query.params)
            cursor.execute(query.count_sql, query.params)

    return run


HOT_PATHS: dict[str, Callable[[Clinic], Callable[[], Any]]] = {
    "series booking": lambda c: lambda: _ok(post_series(c.client(c.reception), c, patient=str(c.patient2.public_id),
                                                        weekdays=[0, 2])),
    "availability search": lambda c: _api(
        c, "reception", "/api/v1/availability/", location=str(c.location.public_id),
        service_type=str(c.infusion.public_id), **{"from": ny(MONDAY, 0).isoformat(),
                                                    "to": ny(MONDAY + dt.timedelta(days=28), 0).isoformat()},
    ),
    "appointment list for a day": lambda c: _api(
        c, "reception", "/api/v1/appointments/", location=str(c.location.public_id), date=MONDAY.isoformat()
    ),
    "invoice list of a month": lambda c: _api(
        c, "accountant", "/api/v1/invoices/", location=str(c.location.public_id),
        issued_from=ny(dt.date(2026, 10, 1), 0).isoformat(), issued_to=ny(dt.date(2026, 11, 1), 0).isoformat(),
    ),
    "a patient's access log": lambda c: _api(c, "admin", f"/api/v1/patients/{c.patient.public_id}/access-log/"),
    "day board": _board,
    "AR aging": lambda c: _api(c, "accountant", "/api/v1/reports/ar-aging/"),
    "reminder claim": lambda c: lambda: reminders_dispatch(enqueue=lambda ids: None, now=ny(MONDAY, 7)),
    "invoice-line export": _invoice_line_export,
}  # fmt: skip


@pytest.mark.parametrize("path", HOT_PATHS)
def test_no_hot_path_reads_a_large_table_whole(history: Clinic, path: str) -> None:
    scans = scans_in(HOT_PATHS[path](history))

    assert scans == {}, "\n\n".join(f"{found}\n  in {sql[:600]}" for sql, found in scans.items())


def test_dropping_the_index_a_day_list_relies_on_shows_as_a_full_scan(history: Clinic) -> None:
    """The check above is not vacuous: without ``appointment_location_start`` a day's list reads every visit."""
    day_list = _api(history, "reception", "/api/v1/appointments/", location=str(history.location.public_id),
                    date=MONDAY.isoformat())  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX appointment_location_start")  # undone with the test's transaction

    found = [scan for scans in scans_in(day_list).values() for scan in scans]

    assert any("scheduling_appointment" in scan for scan in found), found
    assert Invoice.objects.exists()  # the history is still there; only the index is gone


@pytest.mark.parametrize(
    ("path", "user"), [("/api/v1/appointments/", "reception"), ("/api/v1/invoices/", "accountant")]
)
def test_a_locations_first_page_is_read_in_index_order(history: Clinic, path: str, user: str) -> None:
    """Unfiltered, a location's list pages through its whole history: each page is read in index order and
    stops after the page. Its row count (``COUNT(*)``, the answer's ``count``) is the one statement that reads
    every row the location has, through an index only (docs/performance.md, "Lists count what they list")."""
    first_page = _api(history, user, path, location=str(history.location.public_id))

    scans = {sql: found for sql, found in scans_in(first_page).items() if not sql.startswith("SELECT COUNT(*)")}

    assert scans == {}, "\n\n".join(f"{found}\n  in {sql[:600]}" for sql, found in scans.items())
