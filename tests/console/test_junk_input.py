"""No console page answers 500 to junk in its query, form or path: a 4xx page with a message instead."""

from __future__ import annotations

import pytest

from tests.console.conftest import ConsoleClinic, signed_in

JUNK = ["", "x", "0001-01-01", "9999-12-31", "2026-02-30", "-1", "1e309", "\x00", "a" * 5000, "../..", "%", "💉"]


def _paths(c: ConsoleClinic) -> list[str]:
    visit, series, patient = c.visit.public_id, c.series.public_id, c.clinic.patient.public_id
    junk_token = "not-a-token"
    return [
        "/console/day/", f"/console/visits/{visit}/", f"/console/visits/{visit}/reschedule/",
        "/console/series/new/", f"/console/series/{series}/", "/console/patients/", "/console/patients/search/",
        f"/console/patients/{patient}/", "/console/billing/", f"/console/billing/invoices/{c.invoice.public_id}/",
        "/console/billing/to-bill/", "/console/billing/exports/", f"/console/billing/exports/{c.export.public_id}/",
        "/console/billing/reports/ar_aging/", "/console/billing/reports/revenue/", f"/console/visits/{visit}/forms/",
        f"/console/forms/{junk_token}/",
    ]  # fmt: skip


@pytest.mark.parametrize("junk", JUNK)
def test_junk_query_parameters_never_answer_500(console_clinic: ConsoleClinic, junk: str) -> None:
    client = signed_in(console_clinic.clinic.admin)
    for path in _paths(console_clinic):
        for name in ("date", "location", "patient", "q", "page", "status", "from", "to", "as_of", "number"):
            response = client.get(path, {name: junk})
            assert response.status_code < 500, (path, name, junk)


@pytest.mark.parametrize("junk", JUNK)
def test_junk_form_fields_never_answer_500(console_clinic: ConsoleClinic, junk: str) -> None:
    client = signed_in(console_clinic.clinic.admin)
    c = console_clinic
    good = {"patient": str(c.clinic.patient.public_id), "location": str(c.clinic.location.public_id),
            "service_type": str(c.clinic.infusion.public_id), "first_date": "2026-10-12", "count": "2",
            "time": "11:00"}  # fmt: skip
    for field in [*good, "weekdays", "min_gap_hours", "max_per_week", "within_days", "template", "accept"]:
        for path in ("/console/series/plan/", "/console/series/book/"):
            response = client.post(path, {**good, field: junk})
            assert response.status_code < 500, (path, field, junk)
    for path, field in ((f"/console/visits/{c.visit.public_id}/reschedule/", "start"),
                        (f"/console/series/{c.series.public_id}/extend/", "count"),
                        (f"/console/series/{c.series.public_id}/extend/", "first_date"),
                        (f"/console/series/{c.series.public_id}/extend/", "time")):  # fmt: skip
        response = client.post(path, {"count": "1", field: junk})
        assert response.status_code < 500, (path, field, junk)
    line = c.invoice.lines.get()
    money_forms = {
        f"/console/invoices/{c.invoice.public_id}/credit-notes/": {"reason": "x", f"credit-{line.public_id}": "1"},
        f"/console/invoices/{c.invoice.public_id}/payments/": {"amount": "1.00", "method": "card"},
        f"/console/payments/{c.payment.public_id}/refunds/": {"amount": "1.00", "reason": "x"},
        "/console/billing/exports/": {"kind": "invoices", "format": "csv", "from": "2026-09-01", "to": "2026-09-30"},
        "/console/billing/to-bill/": {"visit": str(c.visit.public_id)},
    }
    form_pages = {
        f"/console/visits/{c.visit.public_id}/forms/": {"instrument": str(c.alert.measure.instrument.public_id)},
        f"/console/safety-alerts/{c.alert.public_id}/acknowledge/": {"note": "x"},
        f"/console/suggestions/{c.suggestion.public_id}/dismiss/": {"reason": "x"},
        f"/console/suggestions/{c.suggestion.public_id}/book/": {"first_date": "2026-10-20"},
    }
    for path, form in form_pages.items():
        for field in [*form, "item_1", "item_9", "time", "service_type", "accept_alternatives"]:
            response = client.post(path, {**form, field: junk})
            assert response.status_code < 500, (path, field, junk)
    for path, form in money_forms.items():
        for field in [*form, "amount", "idempotency_key", "location", "bom", "back"]:
            response = client.post(path, {**form, field: junk})
            assert response.status_code < 500, (path, field, junk)


@pytest.mark.parametrize("junk", ["x", "0", "00000000-0000-0000-0000-000000000000", "a" * 300])
def test_junk_ids_in_paths_are_404(console_clinic: ConsoleClinic, junk: str) -> None:
    client = signed_in(console_clinic.clinic.reception)
    for path in (f"/console/visits/{junk}/", f"/console/series/{junk}/", f"/console/patients/{junk}/",
                 f"/console/visits/{junk}/reschedule/", f"/console/billing/invoices/{junk}/",
                 f"/console/billing/reports/{junk}/"):  # fmt: skip
        assert client.get(path).status_code == 404, path
    accountant = signed_in(console_clinic.clinic.accountant)
    assert accountant.get(f"/console/billing/exports/{junk}/").status_code == 404
    for path in (f"/console/invoices/{junk}/credit-notes/", f"/console/payments/{junk}/refunds/"):
        assert accountant.post(path, {"amount": "1.00", "reason": "x"}).status_code == 404, path
    assert client.post(f"/console/visits/{console_clinic.visit.public_id}/{junk}/").status_code == 404


@pytest.mark.parametrize("junk", ["x", "0", "00000000-0000-0000-0000-000000000000", "a" * 300])
def test_a_patients_junk_ids_are_404(console_clinic: ConsoleClinic, junk: str) -> None:
    client = signed_in(console_clinic.patient_user)
    assert client.get(f"/console/me/visits/{junk}/").status_code == 404
    assert client.post(f"/console/me/visits/{junk}/cancel/", {"reason": "x"}).status_code == 404
    assert client.post(f"/console/me/visits/{console_clinic.visit.public_id}/{junk}/").status_code == 404
