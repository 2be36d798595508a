"""The role matrix: every route of the API against every role, from an expected-access table.

The routes are read from the URL configuration, not from a hand-kept list:
a new endpoint (or a new method on one) without a row in ``EXPECTED`` fails
``test_every_route_has_a_rule``. For each row, roles outside the allowed set
get 403 (or 404 where the record is out of their sight) with no data, the
anonymous caller gets 401, and allowed roles get past authorisation (any
answer but 401/403, and never a 5xx). Detail routes use real records of the
patient the patient user is, so "own" access is exercised.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from backend.roles import Role
from tests.scheduling.conftest import Clinic
from tests.security.records import every_record

ADMIN, RECEPTION, CLINICIAN, ACCOUNTANT, PATIENT = (
    str(role) for role in (Role.ADMIN, Role.RECEPTION, Role.CLINICIAN, Role.ACCOUNTANT, Role.PATIENT)
)
ANONYMOUS = "anonymous"
STAFF = frozenset({ADMIN, RECEPTION, CLINICIAN, ACCOUNTANT})
EVERYONE = STAFF | {PATIENT}
ONLY_ADMIN = frozenset({ADMIN})
FRONT_DESK = frozenset({ADMIN, RECEPTION})
BILLING_STAFF = frozenset({ADMIN, RECEPTION, ACCOUNTANT})
BILLING_READERS = BILLING_STAFF | {PATIENT}
ACCOUNTING = frozenset({ADMIN, ACCOUNTANT})
CLINICAL = frozenset({ADMIN, CLINICIAN})
FOLLOW_UP = CLINICAL | {RECEPTION}
NOBODY: frozenset[str] = frozenset()  # the route exists (a router default) but the method is refused to all
PUBLIC = "public"
SIGNED = "signed"  # no user: the request signature is the credential (403 without a valid one)
SETUP = {"GET": STAFF, "POST": ONLY_ADMIN, "PUT": ONLY_ADMIN, "PATCH": ONLY_ADMIN, "DELETE": ONLY_ADMIN}
BILLING_SETUP = {"GET": BILLING_STAFF, "POST": ONLY_ADMIN, "PUT": ONLY_ADMIN, "PATCH": ONLY_ADMIN,
                 "DELETE": ONLY_ADMIN}  # fmt: skip


def _setup(list_name: str, detail_name: str, rules: dict[str, frozenset[str]]) -> dict[tuple[str, str], Any]:
    return {**{(list_name, method): rules[method] for method in ("GET", "POST")},
            **{(detail_name, method): rules[method] for method in ("GET", "PUT", "PATCH", "DELETE")}}  # fmt: skip


# (url name, method) -> the roles allowed, or PUBLIC (no credentials needed).
EXPECTED: dict[tuple[str, str], frozenset[str] | str] = {
    ("healthz", "GET"): PUBLIC,
    ("auth-token", "POST"): PUBLIC,
    ("sms-inbound", "POST"): SIGNED,  # Twilio's webhook
    ("unsubscribe", "GET"): PUBLIC, ("unsubscribe", "POST"): PUBLIC,  # signed single-purpose links
    ("appointment-link", "GET"): PUBLIC, ("appointment-link", "POST"): PUBLIC,
    ("schema", "GET"): PUBLIC, ("api-docs", "GET"): PUBLIC,
    ("me", "GET"): EVERYONE, ("auth-logout", "POST"): EVERYONE,
    ("location-opening-hours", "GET"): STAFF, ("location-opening-hours", "PUT"): ONLY_ADMIN,
    ("location-opening-hours", "POST"): ONLY_ADMIN, ("staff-shifts", "POST"): ONLY_ADMIN,
    ("staff-shifts", "GET"): STAFF, ("staff-shifts", "PUT"): ONLY_ADMIN,
    ("availability", "GET"): STAFF,
    **_setup("location-list", "location-detail", SETUP),
    **_setup("closure-list", "closure-detail", SETUP),
    **_setup("resource-list", "resource-detail", SETUP),
    **_setup("staff-list", "staff-detail", SETUP),
    **_setup("service-type-list", "service-type-detail", SETUP),
    **_setup("series-template-list", "series-template-detail", SETUP),
    ("patient-list", "GET"): EVERYONE, ("patient-list", "POST"): FRONT_DESK,
    ("patient-detail", "GET"): EVERYONE, ("patient-detail", "PUT"): FRONT_DESK,
    ("patient-detail", "PATCH"): FRONT_DESK, ("patient-detail", "DELETE"): NOBODY,  # records are kept
    ("patient-access-log", "GET"): ONLY_ADMIN,
    ("referring-provider-list", "GET"): STAFF, ("referring-provider-list", "POST"): FOLLOW_UP,
    ("referring-provider-detail", "GET"): STAFF, ("referring-provider-detail", "PUT"): FOLLOW_UP,
    ("referring-provider-detail", "PATCH"): FOLLOW_UP, ("referring-provider-detail", "DELETE"): NOBODY,
    ("patient-clearance", "GET"): frozenset({ADMIN, CLINICIAN}),
    ("patient-clearance", "POST"): frozenset({ADMIN, CLINICIAN}),
    ("appointment-list", "GET"): EVERYONE, ("appointment-list", "POST"): FRONT_DESK,
    ("appointment-detail", "GET"): EVERYONE, ("appointment-detail", "PATCH"): FRONT_DESK,
    ("appointment-confirm", "POST"): FRONT_DESK | {PATIENT},
    ("appointment-cancel", "POST"): FRONT_DESK | {PATIENT},
    ("appointment-check-in", "POST"): FRONT_DESK | {CLINICIAN},
    ("appointment-no-show", "POST"): FRONT_DESK | {CLINICIAN},
    ("appointment-start", "POST"): frozenset({ADMIN, CLINICIAN}),
    ("appointment-complete", "POST"): frozenset({ADMIN, CLINICIAN}),
    ("appointment-reminders", "GET"): EVERYONE,
    ("series-list", "GET"): EVERYONE, ("series-list", "POST"): FRONT_DESK,
    ("series-detail", "GET"): EVERYONE,
    ("series-cancel", "POST"): FRONT_DESK, ("series-extend", "POST"): FRONT_DESK,
    ("invoice-list", "GET"): BILLING_READERS, ("invoice-list", "POST"): ACCOUNTING,
    ("invoice-detail", "GET"): BILLING_READERS, ("invoice-detail", "PATCH"): ACCOUNTING,
    ("invoice-detail", "DELETE"): ACCOUNTING,
    ("invoice-issue", "POST"): ACCOUNTING, ("invoice-credit-notes", "POST"): ACCOUNTING,
    ("invoice-payments", "POST"): BILLING_STAFF, ("invoice-pdf", "GET"): BILLING_READERS,
    ("payment-list", "GET"): BILLING_READERS, ("payment-list", "POST"): BILLING_STAFF,
    ("payment-detail", "GET"): BILLING_READERS, ("payment-receipt", "GET"): BILLING_READERS,
    ("payment-refunds", "POST"): ACCOUNTING,
    ("refund-receipt", "GET"): BILLING_READERS,
    ("patient-superbill", "GET"): BILLING_READERS, ("patient-superbill-email", "POST"): BILLING_READERS,
    ("location-billing-policy", "GET"): BILLING_STAFF, ("location-billing-policy", "PUT"): ONLY_ADMIN,
    **_setup("fee-schedule-list", "fee-schedule-detail", BILLING_SETUP),
    **_setup("package-list", "package-detail", BILLING_SETUP),
    ("package-sale-list", "GET"): BILLING_READERS, ("package-sale-list", "POST"): BILLING_STAFF,
    ("package-sale-detail", "GET"): BILLING_READERS, ("package-sale-close", "POST"): ACCOUNTING,
    ("export-list", "GET"): ACCOUNTING, ("export-list", "POST"): ACCOUNTING,
    ("export-detail", "GET"): ACCOUNTING, ("export-download", "GET"): ACCOUNTING,
    ("export-stream", "GET"): ACCOUNTING,
    ("report-revenue", "GET"): ACCOUNTING, ("report-ar-aging", "GET"): ACCOUNTING,
    ("report-package-liability", "GET"): ACCOUNTING, ("report-daily-close", "GET"): BILLING_STAFF,
    ("instrument-list", "GET"): frozenset({ADMIN, RECEPTION, CLINICIAN, PATIENT}),
    ("patient-measures", "GET"): CLINICAL | {PATIENT}, ("patient-measures", "POST"): CLINICAL | {PATIENT},
    ("patient-outcomes", "GET"): CLINICAL | {PATIENT},
    ("safety-alert-list", "GET"): CLINICAL, ("safety-alert-acknowledge", "POST"): CLINICAL,
    ("patient-measures-due", "GET"): FOLLOW_UP | {PATIENT},
    ("maintenance-suggestion-list", "GET"): FOLLOW_UP, ("maintenance-suggestion-book", "POST"): FRONT_DESK,
    ("maintenance-suggestion-dismiss", "POST"): FOLLOW_UP,
    ("series-letters", "GET"): CLINICAL, ("series-letters", "POST"): CLINICAL,
    ("patient-letters", "GET"): CLINICAL, ("letter-pdf", "GET"): CLINICAL,
    ("report-outcomes", "GET"): CLINICAL,
    ("calendar-feed", "GET"): PUBLIC,  # the token is the credential (404 without a valid one)
    ("patient-calendar-feed", "POST"): FRONT_DESK | {PATIENT},
    ("patient-calendar-feed", "DELETE"): FRONT_DESK | {PATIENT},
    # A patient reads, adds (where the location lets patients join) and removes their own entries.
    ("waitlist-list", "GET"): FRONT_DESK | {CLINICIAN, PATIENT}, ("waitlist-list", "POST"): FRONT_DESK | {PATIENT},
    ("waitlist-detail", "GET"): FRONT_DESK | {CLINICIAN, PATIENT}, ("waitlist-detail", "PUT"): FRONT_DESK,
    ("waitlist-detail", "PATCH"): FRONT_DESK, ("waitlist-detail", "DELETE"): FRONT_DESK | {PATIENT},
    ("credit-note-pdf", "GET"): BILLING_READERS,
    ("waitlist-offers", "GET"): FRONT_DESK | {CLINICIAN}, ("report-waitlist", "GET"): FRONT_DESK | {CLINICIAN},
    ("waitlist-offer", "GET"): PUBLIC, ("waitlist-offer", "POST"): PUBLIC,  # the signed link is the credential
    ("staff-calendar-feed", "GET"): ONLY_ADMIN, ("staff-calendar-feed", "POST"): ONLY_ADMIN,  # and the member
}  # fmt: skip
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
FUNCTION_VIEW_METHODS = {"unsubscribe": {"GET", "POST"}, "appointment-link": {"GET", "POST"},
                         "waitlist-offer": {"GET", "POST"}}  # fmt: skip


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def routes() -> set[tuple[str, str]]:
    """(url name, method) for every route of the project but the Django admin, DRF's format suffixes and the
    console (whose pages tests/console/test_role_matrix.py holds against this matrix's API routes)."""
    found = set()
    for route, pattern in _walk(get_resolver().url_patterns):
        if route.startswith(("admin/", "console/")) or "format" in route or pattern.name is None:
            continue
        view = pattern.callback
        actions = getattr(view, "actions", None)
        if actions:
            methods = {method.upper() for method in actions}
        elif hasattr(view, "cls"):
            methods = {method.upper() for method in view.cls.http_method_names if hasattr(view.cls, method)}
        else:  # a plain function view says nothing about its methods
            methods = FUNCTION_VIEW_METHODS.get(pattern.name, {"GET"})
        found |= {(pattern.name, method) for method in methods if method in METHODS}
    return found


def test_every_route_has_a_rule() -> None:
    missing = sorted(routes() - set(EXPECTED))
    stale = sorted(set(EXPECTED) - routes())
    assert not missing, f"routes without an access rule in EXPECTED: {missing}"
    assert not stale, f"rules for routes that no longer exist: {stale}"


@dataclass
class World:
    clinic: Clinic
    clients: dict[str, APIClient]
    kwargs: dict[str, dict[str, Any]]


@pytest.fixture
def world(clinic: Clinic, frozen_now: time_machine.Traveller) -> World:
    every = every_record(clinic, export_owner=clinic.accountant)
    patient_user, records, closure, template, job = (every.patient_user, every.records, every.closure,
                                                     every.template, every.export)  # fmt: skip
    ids = {
        "location": clinic.location.public_id, "resource": clinic.chairs[0].public_id,
        "staff": clinic.nurse.public_id, "service-type": clinic.infusion.public_id,
        "series-template": template.public_id, "patient": clinic.patient.public_id,
        "appointment": records.appointment, "series": records.series, "invoice": records.invoice.public_id,
        "payment": records.payment, "refund": records.refund.public_id,
        "fee-schedule": every.fee.public_id,
        "package": records.package.public_id, "package-sale": records.sale, "export": job.public_id,
        "referring-provider": every.provider.public_id, "waitlist": every.waitlist_entry.public_id,
    }  # fmt: skip
    kwargs: dict[str, dict[str, Any]] = {
        "closure-detail": {"location_id": clinic.location.public_id, "date": closure.date.isoformat()},
        "closure-list": {"location_id": clinic.location.public_id},
        "unsubscribe": {"token": "not-a-token"}, "appointment-link": {"action": "confirm", "token": "not-a-token"},
        "location-opening-hours": {"id": clinic.location.public_id}, "staff-shifts": {"id": clinic.nurse.public_id},
        "location-billing-policy": {"id": clinic.location.public_id},
        "patient-superbill": {"id": clinic.patient.public_id}, "refund-receipt": {"id": records.refund.public_id},
        "patient-superbill-email": {"id": clinic.patient.public_id},
        "patient-measures": {"id": clinic.patient.public_id}, "patient-outcomes": {"id": clinic.patient.public_id},
        "safety-alert-acknowledge": {"id": every.alert.public_id},
        "patient-measures-due": {"id": clinic.patient.public_id},
        "patient-letters": {"id": clinic.patient.public_id}, "series-letters": {"id": records.series},
        "letter-pdf": {"id": every.letter.public_id},
        "calendar-feed": {"kind": "patient", "token": "not-a-token"}, "waitlist-offer": {"token": "not-a-token"},
        "credit-note-pdf": {"id": every.credit_note.public_id},
        "patient-calendar-feed": {"id": clinic.patient.public_id},
        "staff-calendar-feed": {"id": clinic.nurse.public_id},
        "maintenance-suggestion-book": {"id": every.suggestion.public_id},
        "maintenance-suggestion-dismiss": {"id": every.suggestion.public_id},
    }  # fmt: skip
    for name, _method in EXPECTED:
        prefix = re.sub(
            r"-(detail|list|cancel|confirm|check-in|complete|no-show|start|reminders|clearance|extend|"
            r"issue|credit-notes|payments|pdf|receipt|refunds|close|download|stream|access-log)$",
            "",
            name,
        )
        if name not in kwargs and not name.endswith(("-list", "-stream")) and prefix in ids:
            kwargs[name] = {"id": ids[prefix]}
    clients = {role: clinic.client(getattr(clinic, role)) for role in (ADMIN, RECEPTION, CLINICIAN, ACCOUNTANT)}
    clients[PATIENT] = clinic.client(patient_user)
    clients[ANONYMOUS] = APIClient()
    return World(clinic, clients, kwargs)


def _denied_first(allowed: frozenset[str]) -> list[str]:
    roles = [ANONYMOUS, PATIENT, CLINICIAN, RECEPTION, ACCOUNTANT, ADMIN]
    return sorted(roles, key=lambda role: role in allowed)


@pytest.mark.parametrize(("name", "method"), sorted(EXPECTED), ids=str)
def test_each_role_gets_exactly_the_access_in_the_table(world: World, name: str, method: str) -> None:
    rule = EXPECTED[(name, method)]
    url = reverse(name, kwargs=world.kwargs.get(name, {}))
    if name == "export-stream":
        url += "?kind=invoices&from=2026-10-01&to=2026-10-31"
    if name in ("report-outcomes", "report-waitlist"):
        url += "?from=2026-10-01&to=2026-10-31"
    if rule in (PUBLIC, SIGNED):
        response = world.clients[ANONYMOUS].generic(method, url, "{}", content_type="application/json")
        if rule == SIGNED:
            assert response.status_code == 403, (url, response.status_code)
        else:
            assert response.status_code not in (401, 403), (url, response.status_code)
            assert response.status_code < 500, (url, response.status_code)
        return
    assert isinstance(rule, frozenset)
    for role in _denied_first(rule):
        response = world.clients[role].generic(method, url, "{}", content_type="application/json")
        status = response.status_code
        if role in rule:
            assert status not in (401, 403), (role, method, url, status, response.content[:300])
            assert status < 500, (role, method, url, status, response.content[:300])
        elif role == ANONYMOUS:
            assert status == 401, (method, url, status)
        else:
            assert status in (403, 404, 405), (role, method, url, status, response.content[:300])
            assert response["Content-Type"].startswith("application/problem+json")
            assert set(response.json()) <= {"type", "title", "status", "detail", "code", "errors"}
