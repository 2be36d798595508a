"""The Django admin, driven as every staff role over every model and action, never allows what the API's
role matrix (tests/security/test_role_matrix.py) refuses for the same records."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from backend.models import User
from backend.roles import Role
from tests.scheduling.conftest import Clinic
from tests.security.records import every_record
from tests.security.test_role_matrix import CLINICAL, EXPECTED, NOBODY, ONLY_ADMIN, STAFF

# Admin model -> the API routes of the same records: (list route, detail route).
API_ROUTES: dict[str, tuple[str, str]] = {
    "scheduling.location": ("location-list", "location-detail"),
    "scheduling.resource": ("resource-list", "resource-detail"),
    "scheduling.staffmember": ("staff-list", "staff-detail"),
    "scheduling.servicetype": ("service-type-list", "service-type-detail"),
    "scheduling.seriestemplate": ("series-template-list", "series-template-detail"),
    "scheduling.patient": ("patient-list", "patient-detail"),
    "scheduling.referringprovider": ("referring-provider-list", "referring-provider-detail"),
    "scheduling.appointment": ("appointment-list", "appointment-detail"),
    "scheduling.series": ("series-list", "series-detail"),
    "scheduling.reminder": ("appointment-reminders", "appointment-reminders"),
    "billing.invoice": ("invoice-list", "invoice-detail"),
    "billing.payment": ("payment-list", "payment-detail"),
    "billing.creditnote": ("invoice-detail", "invoice-credit-notes"),
    "billing.packagesale": ("package-sale-list", "package-sale-detail"),
    "billing.document": ("invoice-pdf", "invoice-pdf"),
    "billing.feescheduleitem": ("fee-schedule-list", "fee-schedule-detail"),
    "billing.package": ("package-list", "package-detail"),
    "billing.billingpolicy": ("location-billing-policy", "location-billing-policy"),
    "outcomes.measure": ("patient-measures", "patient-measures"),
    "outcomes.safetyalert": ("safety-alert-list", "safety-alert-acknowledge"),
    "outcomes.maintenancesuggestion": ("maintenance-suggestion-list", "maintenance-suggestion-dismiss"),
    "outcomes.letter": ("series-letters", "letter-pdf"),
}
# Records the API has no route for: clinic groups and logins are administrators' business; the roles
# themselves (Django groups) only a superuser's.
NO_API = {"backend.clinicgroup": (STAFF, ONLY_ADMIN), "backend.user": (ONLY_ADMIN, ONLY_ADMIN),
          "auth.group": (NOBODY, NOBODY),
          # Instruments (the API lists them) and the on-call settings are written in the admin only, by admins.
          "outcomes.instrument": (CLINICAL | {"reception", "patient"}, ONLY_ADMIN),
          "outcomes.locationsafety": (CLINICAL, ONLY_ADMIN), "outcomes.maintenancepolicy": (CLINICAL, ONLY_ADMIN),
          "outcomes.measureschedule": (CLINICAL | {"reception"}, ONLY_ADMIN)}  # fmt: skip
# Admin actions -> the API route of the same change (or, without one, the roles the docs give).
ACTIONS: dict[tuple[str, str], frozenset[str]] = {
    ("scheduling.appointment", "action_confirm"): EXPECTED[("appointment-confirm", "POST")],  # type: ignore[dict-item]
    ("scheduling.appointment", "action_check_in"): EXPECTED[("appointment-check-in", "POST")],  # type: ignore[dict-item]
    ("scheduling.appointment", "action_no_show"): EXPECTED[("appointment-no-show", "POST")],  # type: ignore[dict-item]
    ("scheduling.appointment", "action_cancel"): EXPECTED[("appointment-cancel", "POST")],  # type: ignore[dict-item]
    ("billing.invoice", "issue_drafts"): EXPECTED[("invoice-issue", "POST")],  # type: ignore[dict-item]
    ("scheduling.reminder", "retry_failed"): ONLY_ADMIN,
    ("billing.document", "retry_failed"): frozenset({"admin", "reception", "accountant"}),
}
ROLES = [str(role) for role in (Role.ADMIN, Role.RECEPTION, Role.CLINICIAN, Role.ACCOUNTANT)]


def api_roles(list_route: str, detail_route: str) -> dict[str, frozenset[str]]:
    def rule(route: str, *methods: str) -> frozenset[str]:
        for method in methods:
            if (route, method) in EXPECTED:
                return EXPECTED[(route, method)]  # type: ignore[return-value]
        return NOBODY

    return {
        "view": rule(list_route, "GET"),
        "add": rule(list_route, "POST", "PUT"),
        "change": rule(detail_route, "PATCH", "PUT"),
        "delete": rule(detail_route, "DELETE"),
    }


def expected(label: str) -> dict[str, frozenset[str]]:
    if label in NO_API:
        read, write = NO_API[label]
        return {"view": read, "add": write, "change": write, "delete": write}
    return api_roles(*API_ROUTES[label])


@pytest.fixture
def world(clinic: Clinic) -> Clinic:
    every_record(clinic, export_owner=clinic.admin)
    for user in (clinic.admin, clinic.reception, clinic.clinician, clinic.accountant):
        user.is_staff = True
        user.save()
    return clinic


def browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def user_of(clinic: Clinic, role: str) -> User:
    return {"admin": clinic.admin, "reception": clinic.reception, "clinician": clinic.clinician,
            "accountant": clinic.accountant}[role]  # fmt: skip


def test_every_admin_page_has_an_api_rule() -> None:
    labels = {model._meta.label_lower for model in admin.site._registry}
    assert labels == set(API_ROUTES) | set(NO_API)
    actions = {(model._meta.label_lower, name) for model, model_admin in admin.site._registry.items()
               for name in (getattr(action, "__name__", action) for action in model_admin.actions or ())}  # fmt: skip
    assert actions == set(ACTIONS)


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda model: model._meta.label_lower)
def test_the_admin_allows_no_more_than_the_api(world: Clinic, model: type[Model]) -> None:
    for role in ROLES:
        admin_allows_no_more_than_the_api(world, role, model)


def admin_allows_no_more_than_the_api(world: Clinic, role: str, model: type[Model]) -> None:
    label = model._meta.label_lower
    allowed = expected(label)
    client = browser(user_of(world, role))
    opts = model._meta
    name = f"admin:{opts.app_label}_{opts.model_name}"

    changelist = client.get(reverse(f"{name}_changelist"))
    assert changelist.status_code in (200, 403)
    can_view = changelist.status_code == 200
    assert not can_view or role in allowed["view"], f"{role} reads {label} in the admin, the API refuses"

    add = client.get(reverse(f"{name}_add"))
    assert add.status_code != 200 or role in allowed["add"], f"{role} adds {label} in the admin, the API refuses"

    first = model._default_manager.first()
    if first is None:
        return
    change = client.get(reverse(f"{name}_change", args=[first.pk]))
    if change.status_code == 200:
        assert not change.context["has_change_permission"] or role in allowed["change"], (
            f"{role} changes {label} in the admin, the API refuses"
        )
    delete = client.get(reverse(f"{name}_delete", args=[first.pk]))
    assert delete.status_code != 200 or role in allowed["delete"], f"{role} deletes {label} in the admin"


def test_clearance_notes_show_in_the_admin_only_to_whom_the_api_shows_them(world: Clinic) -> None:
    for role in ROLES:
        url = reverse("admin:scheduling_patient_change", args=[world.patient.pk])
        page = browser(user_of(world, role)).get(url)
        inlines = [formset.opts.model._meta.model_name for formset in page.context["inline_admin_formsets"]]
        assert ("clearance" in inlines) == (role in EXPECTED[("patient-clearance", "GET")]), role


@pytest.mark.parametrize(("label", "action"), list(ACTIONS), ids=str)
def test_admin_actions_refuse_the_roles_the_api_refuses(world: Clinic, label: str, action: str) -> None:
    model = next(model for model in admin.site._registry if model._meta.label_lower == label)
    first = model._default_manager.first()
    assert first is not None, f"the world has no {label} to act on"
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    for role in ROLES:
        response = browser(user_of(world, role)).post(url, {"action": action, "_selected_action": [first.pk]})
        if response.status_code == 403:
            assert role not in ACTIONS[(label, action)], f"{role} may {action} by the API but not see {label}"
            continue
        errors = [str(message) for message in get_messages(response.wsgi_request) if message.level_tag == "error"]
        refused = [text for text in errors if "may not" in text or text.startswith("Only")]
        assert bool(refused) == (role not in ACTIONS[(label, action)]), (role, errors)
