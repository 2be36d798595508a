"""The console never lets a role do what the API's role matrix refuses.

Every console URL and action is paired with the API request that does the same; for every role, the
console answers 403 wherever the API does (the console may be stricter: patients have their own pages).
A console URL missing from the table fails the test, so a new page cannot skip the comparison. The
patient's own pages (``PATIENT_PAGES``) refuse staff, who have the staff screens instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern
from rest_framework.test import APIClient

from backend.roles import Role
from console.urls import urlpatterns
from scheduling.models import WaitlistEntry, WaitlistStatus
from scheduling.services.waitlist import EntryFields, waitlist_entry_add
from tests.console.conftest import ConsoleClinic, signed_in

ROLES = (Role.ADMIN, Role.RECEPTION, Role.CLINICIAN, Role.ACCOUNTANT, Role.PATIENT)
NOT_ROLE_PAGES = {"home", "login", "logout",  # open to anyone signed in (or not)
                  "check-in-form"}  # a patient's forms behind a signed link: the token is the credential  # fmt: skip
PATIENT_PAGES = {
    "me",
    "my-visit",
    "my-visit-action",
    "my-waitlist-join",
    "my-waitlist-leave",
}  # a patient's own pages: staff use the staff screens


@dataclass(frozen=True)
class Pair:
    name: str  # the console URL's name
    console: Callable[[ConsoleClinic], tuple[str, str, dict[str, Any]]]  # method, path, form data
    api: Callable[[ConsoleClinic], tuple[str, str, dict[str, Any]]]


def _visit(c: ConsoleClinic) -> str:
    return str(c.visit.public_id)


def _series_form(c: ConsoleClinic) -> dict[str, Any]:
    return {"patient": str(c.clinic.patient.public_id), "location": str(c.clinic.location.public_id),
            "service_type": str(c.clinic.infusion.public_id), "first_date": "2026-10-12", "count": "2",
            "time": "11:00"}  # fmt: skip


def _series_api(c: ConsoleClinic) -> dict[str, Any]:
    return {"patient": str(c.clinic.patient.public_id), "location": str(c.clinic.location.public_id),
            "service_type": str(c.clinic.infusion.public_id), "first_date": "2026-10-12", "count": 2,
            "time": "11:00"}  # fmt: skip


def _entry(c: ConsoleClinic) -> str:
    """A waiting entry of clinic.patient (a new one once a pair has removed it)."""
    entry = WaitlistEntry.objects.filter(patient=c.clinic.patient, status=WaitlistStatus.WAITING).first()
    if entry is None:
        wants = EntryFields(service_type=c.clinic.infusion, locations=[c.clinic.location])
        entry = waitlist_entry_add(actor=c.clinic.reception, patient=c.clinic.patient, fields=wants)
    return str(entry.public_id)


def _waitlist_form(c: ConsoleClinic) -> dict[str, Any]:
    return {"patient": str(c.clinic.patient.public_id), "service_type": str(c.clinic.infusion.public_id),
            "locations": [str(c.clinic.location.public_id)]}  # fmt: skip


def _money() -> dict[str, Any]:
    return {"amount": "1.00", "reason": "x"}


def _export_form() -> dict[str, Any]:
    return {"kind": "invoices", "format": "csv", "from": "2026-10-01", "to": "2026-10-01"}


def _report_pair(name: str) -> Pair:
    api_path = f"/api/v1/reports/{name.replace('_', '-')}/?from=2026-10-01&to=2026-10-01"
    return Pair(f"report:{name}", lambda c: ("get", f"/console/billing/reports/{name}/", {}),
                lambda c: ("get", api_path, {}))  # fmt: skip


def _transition_pair(action: str) -> Pair:
    def console(c: ConsoleClinic) -> tuple[str, str, dict[str, Any]]:
        return "post", f"/console/visits/{_visit(c)}/{action}/", {"reason": "Unwell"}

    def api(c: ConsoleClinic) -> tuple[str, str, dict[str, Any]]:
        return "post", f"/api/v1/appointments/{_visit(c)}/{action.replace('_', '-')}/", {"reason": "Unwell"}

    return Pair(f"visit-action:{action}", console, api)


def _own_transition_pair(action: str) -> Pair:
    def console(c: ConsoleClinic) -> tuple[str, str, dict[str, Any]]:
        return "post", f"/console/me/visits/{_visit(c)}/{action}/", {"reason": "Unwell"}

    def api(c: ConsoleClinic) -> tuple[str, str, dict[str, Any]]:
        return "post", f"/api/v1/appointments/{_visit(c)}/{action}/", {"reason": "Unwell"}

    return Pair(f"my-visit-action:{action}", console, api)


PAIRS = [
    Pair("day", lambda c: ("get", "/console/day/", {}), lambda c: ("get", "/api/v1/appointments/", {})),
    Pair("visit", lambda c: ("get", f"/console/visits/{_visit(c)}/", {}),
         lambda c: ("get", f"/api/v1/appointments/{_visit(c)}/", {})),
    Pair("reschedule", lambda c: ("post", f"/console/visits/{_visit(c)}/reschedule/",
                                  {"start": "2026-10-01T13:00:00-04:00"}),
         lambda c: ("patch", f"/api/v1/appointments/{_visit(c)}/", {"start": "2026-10-01T13:00:00-04:00"})),
    Pair("series-new", lambda c: ("get", "/console/series/new/", {}),
         lambda c: ("post", "/api/v1/series/", _series_api(c))),
    Pair("series-plan", lambda c: ("post", "/console/series/plan/", _series_form(c)),
         lambda c: ("post", "/api/v1/series/", _series_api(c))),
    Pair("series-create", lambda c: ("post", "/console/series/book/", _series_form(c)),
         lambda c: ("post", "/api/v1/series/", _series_api(c))),
    Pair("series", lambda c: ("get", f"/console/series/{c.series.public_id}/", {}),
         lambda c: ("get", f"/api/v1/series/{c.series.public_id}/", {})),
    Pair("series-extend", lambda c: ("post", f"/console/series/{c.series.public_id}/extend/", {"count": "1"}),
         lambda c: ("post", f"/api/v1/series/{c.series.public_id}/extend/", {"count": 1})),
    Pair("series-cancel", lambda c: ("post", f"/console/series/{c.series.public_id}/cancel/", {"reason": "Moved"}),
         lambda c: ("post", f"/api/v1/series/{c.series.public_id}/cancel/", {"reason": "Moved"})),
    Pair("patients", lambda c: ("get", "/console/patients/?q=Alex", {}), lambda c: ("get", "/api/v1/patients/", {})),
    Pair("patient-search", lambda c: ("get", "/console/patients/search/?q=Alex", {}),
         lambda c: ("get", "/api/v1/patients/", {})),
    Pair("patient", lambda c: ("get", f"/console/patients/{c.clinic.patient.public_id}/", {}),
         lambda c: ("get", f"/api/v1/patients/{c.clinic.patient.public_id}/", {})),
    *(_transition_pair(action) for action in ("confirm", "check_in", "start", "complete", "no_show", "cancel")),
    Pair("invoice-draft", lambda c: ("post", f"/console/visits/{_visit(c)}/invoice/", {}),
         lambda c: ("post", "/api/v1/invoices/", {"patient": str(c.clinic.patient.public_id),
                                                  "location": str(c.clinic.location.public_id),
                                                  "appointments": [_visit(c)]})),
    Pair("invoice-issue", lambda c: ("post", f"/console/invoices/{c.invoice.public_id}/issue/", {}),
         lambda c: ("post", f"/api/v1/invoices/{c.invoice.public_id}/issue/", {})),
    Pair("invoice-payment",
         lambda c: ("post", f"/console/invoices/{c.invoice.public_id}/payments/", {"amount": "1.00", "method": "card"}),
         lambda c: ("post", f"/api/v1/invoices/{c.invoice.public_id}/payments/", {"amount": "1.00", "method": "card"})),
    Pair("receipt-status", lambda c: ("get", f"/console/payments/{c.payment.public_id}/receipt/", {}),
         lambda c: ("get", f"/api/v1/payments/{c.payment.public_id}/", {})),
    Pair("invoices", lambda c: ("get", "/console/billing/?status=issued", {}),
         lambda c: ("get", "/api/v1/invoices/?status=issued", {})),
    Pair("invoice", lambda c: ("get", f"/console/billing/invoices/{c.invoice.public_id}/", {}),
         lambda c: ("get", f"/api/v1/invoices/{c.invoice.public_id}/", {})),
    Pair("credit-note", lambda c: ("post", f"/console/invoices/{c.invoice.public_id}/credit-notes/", _money()),
         lambda c: ("post", f"/api/v1/invoices/{c.invoice.public_id}/credit-notes/", _money())),
    Pair("refund", lambda c: ("post", f"/console/payments/{c.payment.public_id}/refunds/", _money()),
         lambda c: ("post", f"/api/v1/payments/{c.payment.public_id}/refunds/", _money())),
    Pair("to-bill", lambda c: ("get", "/console/billing/to-bill/", {}),
         lambda c: ("post", "/api/v1/invoices/", {"patient": str(c.clinic.patient.public_id),
                                                  "location": str(c.clinic.location.public_id),
                                                  "appointments": [_visit(c)]})),
    Pair("to-bill:post", lambda c: ("post", "/console/billing/to-bill/", {"visit": _visit(c)}),
         lambda c: ("post", "/api/v1/invoices/", {"patient": str(c.clinic.patient.public_id),
                                                  "location": str(c.clinic.location.public_id),
                                                  "appointments": [_visit(c)]})),
    Pair("exports", lambda c: ("get", "/console/billing/exports/", {}), lambda c: ("get", "/api/v1/exports/", {})),
    Pair("exports:start", lambda c: ("post", "/console/billing/exports/", _export_form()),
         lambda c: ("post", "/api/v1/exports/", _export_form())),
    Pair("export", lambda c: ("get", f"/console/billing/exports/{c.export.public_id}/", {}),
         lambda c: ("get", f"/api/v1/exports/{c.export.public_id}/", {})),
    Pair("reports", lambda c: ("get", "/console/billing/reports/", {}),
         lambda c: ("get", "/api/v1/reports/daily-close/?from=2026-10-01&to=2026-10-01", {})),
    *(_report_pair(name) for name in ("ar_aging", "revenue", "daily_close", "package_liability")),
    Pair("me", lambda c: ("get", "/console/me/", {}), lambda c: ("get", "/api/v1/appointments/", {})),
    Pair("my-visit", lambda c: ("get", f"/console/me/visits/{_visit(c)}/", {}),
         lambda c: ("get", f"/api/v1/appointments/{_visit(c)}/", {})),
    *(_own_transition_pair(action) for action in ("confirm", "cancel")),
    # Entering answers at check-in is the clinical rule of the safety-alert list (the measures route answers
    # reception 404, not 403: a patient's measures are out of its sight).
    Pair("visit-forms", lambda c: ("get", f"/console/visits/{_visit(c)}/forms/", {}),
         lambda c: ("get", "/api/v1/safety-alerts/", {})),
    Pair("visit-forms:post", lambda c: ("post", f"/console/visits/{_visit(c)}/forms/", {"instrument": "x"}),
         lambda c: ("get", "/api/v1/safety-alerts/", {})),
    Pair("alert-acknowledge", lambda c: ("post", f"/console/safety-alerts/{c.alert.public_id}/acknowledge/",
                                         {"note": "Called"}),
         lambda c: ("post", f"/api/v1/safety-alerts/{c.alert.public_id}/acknowledge/", {"note": "Called"})),
    Pair("suggestion-book", lambda c: ("post", f"/console/suggestions/{c.suggestion.public_id}/book/",
                                       {"first_date": "2026-10-20"}),
         lambda c: ("post", f"/api/v1/maintenance-suggestions/{c.suggestion.public_id}/book/",
                    {"first_date": "2026-10-20"})),
    Pair("waitlist", lambda c: ("get", "/console/waitlist/", {}), lambda c: ("get", "/api/v1/waitlist/offers/", {})),
    Pair("waitlist-add", lambda c: ("post", "/console/waitlist/add/", _waitlist_form(c)),
         lambda c: ("post", "/api/v1/waitlist/", _waitlist_form(c))),
    Pair("waitlist-remove", lambda c: ("post", f"/console/waitlist/{_entry(c)}/remove/", {}),
         lambda c: ("delete", f"/api/v1/waitlist/{_entry(c)}/", {})),
    Pair("my-waitlist-join", lambda c: ("post", "/console/me/waitlist/", _waitlist_form(c)),
         lambda c: ("post", "/api/v1/waitlist/", _waitlist_form(c))),
    Pair("my-waitlist-leave", lambda c: ("post", f"/console/me/waitlist/{_entry(c)}/leave/", {}),
         lambda c: ("delete", f"/api/v1/waitlist/{_entry(c)}/", {})),
    Pair("suggestion-dismiss", lambda c: ("post", f"/console/suggestions/{c.suggestion.public_id}/dismiss/",
                                          {"reason": "Stable"}),
         lambda c: ("post", f"/api/v1/maintenance-suggestions/{c.suggestion.public_id}/dismiss/",
                    {"reason": "Stable"})),
]  # fmt: skip


def test_every_console_url_is_in_the_table() -> None:
    named = {pattern.name for pattern in urlpatterns if isinstance(pattern, URLPattern)}
    covered = {pair.name.split(":")[0] for pair in PAIRS}
    assert named - NOT_ROLE_PAGES == covered


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("pair", PAIRS, ids=lambda pair: pair.name)
def test_the_console_refuses_what_the_api_refuses(console_clinic: ConsoleClinic, role: str, pair: Pair) -> None:
    user = console_clinic.user(role)
    method, path, data = pair.console(console_clinic)
    console_status = getattr(signed_in(user), method)(path, data).status_code
    api = APIClient()
    api.force_authenticate(user)
    api_method, api_path, api_data = pair.api(console_clinic)
    api_status = getattr(api, api_method)(api_path, api_data, format="json").status_code

    assert console_status != 500
    assert api_status != 500
    if api_status == 403:
        assert console_status == 403, f"{role} may {pair.name} in the console; the API answers 403"
    if role in (Role.ADMIN, Role.RECEPTION) and api_status != 403 and pair.name.split(":")[0] not in PATIENT_PAGES:
        assert console_status != 403, f"{role} is refused {pair.name} in the console but not by the API"
