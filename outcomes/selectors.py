"""Reads of the treatment loop, scoped to the acting user (see ``outcomes.permissions``)."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet

from backend.access import is_staff_user
from backend.permissions import user_has_role
from backend.roles import Role
from outcomes.models import Instrument, Letter, MaintenanceSuggestion, Measure, SafetyAlert
from outcomes.permissions import CLINICAL_ROLES, FOLLOW_UP_ROLES
from scheduling import selectors
from scheduling.models import Patient


def _patients_for(user: Any, roles: tuple[str, ...]) -> QuerySet[Patient]:
    """The patients of ``user``'s clinic groups when they hold one of ``roles``; a patient's own record; else none."""
    own_only = user_has_role(user, Role.PATIENT) and not is_staff_user(user)
    if user_has_role(user, *roles) or own_only:
        return selectors.patients_for(user)
    return Patient.objects.none()


def clinical_patients_for(user: Any) -> QuerySet[Patient]:
    """Patients whose measures ``user`` may read and add: clinicians' and admins' clinic groups, or oneself."""
    return _patients_for(user, CLINICAL_ROLES)


def follow_up_patients_for(user: Any) -> QuerySet[Patient]:
    """Patients whose due status ``user`` may see: clinicians', admins' and reception's groups, or oneself."""
    return _patients_for(user, FOLLOW_UP_ROLES)


def suggestions_for(user: Any) -> QuerySet[MaintenanceSuggestion]:
    if not user_has_role(user, *FOLLOW_UP_ROLES):
        return MaintenanceSuggestion.objects.none()
    return MaintenanceSuggestion.objects.filter(patient__in=selectors.patients_for(user)).select_related(
        "patient", "series", "closed_by", "appointment__location"
    )


def measures_for(user: Any) -> QuerySet[Measure]:
    return Measure.objects.filter(patient__in=clinical_patients_for(user)).select_related("instrument")


def instrument_versions_for(user: Any) -> QuerySet[Instrument]:
    """Every version the user's clinic can refer to by id (an older one keeps scoring its old measures): the
    standard instruments and the clinic's own."""
    if is_staff_user(user):
        groups: Any = selectors.groups_for(user).values("pk")
    else:
        groups = selectors.patients_for(user).values("group")
    return Instrument.objects.filter(Q(group__isnull=True) | Q(group__in=groups)).prefetch_related(
        "items", "options", "bands", "alert_rules"
    )


def instruments_for(user: Any) -> QuerySet[Instrument]:
    """The current version of each active instrument the user's clinic offers (a clinic's instrument with a
    standard one's code replaces it)."""
    return (
        instrument_versions_for(user)
        .filter(is_active=True)
        .order_by("code", F("group").asc(nulls_last=True), "-version")
        .distinct("code")
    )


def safety_alerts_for(user: Any) -> QuerySet[SafetyAlert]:
    if not user_has_role(user, *CLINICAL_ROLES):
        return SafetyAlert.objects.none()
    return SafetyAlert.objects.filter(patient__in=selectors.patients_for(user)).select_related(
        "patient", "location", "measure__instrument", "acknowledged_by"
    )


def current_instrument(group_id: int, code: str) -> Instrument | None:
    """The version of ``code`` a clinic group answers now: its own, else the standard one."""
    return (
        Instrument.objects.filter(Q(group__isnull=True) | Q(group=group_id), code=code, is_active=True)
        .order_by(F("group").asc(nulls_last=True), "-version")
        .prefetch_related("items", "options", "bands", "alert_rules")
        .first()
    )


def letters_for(user: Any) -> QuerySet[Letter]:
    if not user_has_role(user, *CLINICAL_ROLES):
        return Letter.objects.none()
    return Letter.objects.filter(patient__in=selectors.patients_for(user))
