"""Reads, scoped to the acting user: a forgotten check returns nothing, not someone else's data.

Superusers see every clinic group. Other staff see the groups they are members of;
a patient sees only their own records.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Model, Prefetch, QuerySet

from backend import sql
from backend.roles import STAFF_ROLES, Role
from scheduling.models import (
    Appointment,
    AppointmentStaff,
    ClinicGroup,
    Location,
    Patient,
    Resource,
    Series,
    SeriesTemplate,
    ServiceType,
    StaffMember,
)


def _is_staff(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.has_role(*STAFF_ROLES)))


def in_groups_of(user: Any, queryset: QuerySet[Any], group: str = "group") -> QuerySet[Any]:
    """Rows of ``queryset`` whose clinic group (the ``group`` path) the staff user may see.

    The user's group ids are in hand (read with the token), so the filter is a plain
    list of ids rather than a membership subquery the ORM would compile every time.
    """
    if not _is_staff(user):
        return queryset.none()
    if user.is_superuser:
        return queryset
    return queryset.filter(**{f"{group}__in": user.clinic_group_ids()})


# Models a staff user sees by their own clinic group (their selectors are ``in_groups_of(user, Model...)``).
OWN_GROUP_SCOPED: tuple[type[Model], ...] = (Location, ServiceType, Patient, SeriesTemplate)


@cache  # one statement per combination of models, written once
def _find_statement(models: tuple[type[Model], ...], every_group: bool) -> str:
    parts = []
    for number, model in enumerate(models):
        scope = "" if every_group else f" AND {sql.column(model, 'group')} = ANY(%s)"
        parts.append(
            f"LEFT JOIN LATERAL (SELECT {sql.select_list(model, sql.table(model))} FROM {sql.table(model)} "  # noqa: S608
            f"WHERE {sql.column(model, 'public_id')} = %s{scope}) found_{number} ON true"
        )
    columns = ", ".join(f"found_{number}.*" for number in range(len(models)))
    return f"SELECT {columns} FROM (SELECT 1) one {' '.join(parts)}"  # noqa: S608 - model metadata


def find_by_public_ids(user: Any, wanted: Mapping[str, tuple[type[Model], Any]]) -> dict[str, Model]:
    """``{name: (model, public id)}`` found as the models' selectors would find them for a staff user, in one
    statement; missing ids are left out. Empty for anyone but staff (their selectors differ: look up one by one).

    A booking's input names a patient, a service type and a location: one round trip instead of three, and SQL
    written once instead of compiled per request (backend.sql).
    """
    if not _is_staff(user):
        return {}
    chosen = {}
    for name, (model, value) in wanted.items():
        if model not in OWN_GROUP_SCOPED:
            raise ValueError(f"{model.__name__} is not scoped by its own clinic group.")
        try:
            chosen[name] = (model, uuid.UUID(str(value)))
        except ValueError:
            continue  # malformed: the field says so
    if not chosen:
        return {}
    every_group = bool(user.is_superuser)
    params: list[Any] = []
    for _model, key in chosen.values():
        params += [key] if every_group else [key, user.clinic_group_ids()]
    models = tuple(model for model, _key in chosen.values())
    with connection.cursor() as cursor:
        cursor.execute(_find_statement(models, every_group), params)
        row = cursor.fetchone()
    found: dict[str, Model] = {}
    start = 0
    for name, model in zip(chosen, models, strict=True):
        values = row[start : start + sql.width(model)]
        start += sql.width(model)
        if values[model._meta.concrete_fields.index(model._meta.pk)] is not None:  # the lateral found its row
            found[name] = sql.from_row(model, values)
    return found


def groups_for(user: Any) -> QuerySet[ClinicGroup]:
    return in_groups_of(user, ClinicGroup.objects.all(), "pk")


def locations_for(user: Any) -> QuerySet[Location]:
    return in_groups_of(user, Location.objects.all())


def resources_for(user: Any) -> QuerySet[Resource]:
    return in_groups_of(user, Resource.objects.select_related("location"), "location__group")


def staff_for(user: Any) -> QuerySet[StaffMember]:
    return in_groups_of(user, StaffMember.objects.prefetch_related("locations"))


def service_types_for(user: Any) -> QuerySet[ServiceType]:
    if user.is_authenticated and user.has_role(Role.PATIENT) and not _is_staff(user):
        patient = getattr(user, "patient", None)
        return ServiceType.objects.filter(group_id=patient.group_id) if patient else ServiceType.objects.none()
    return in_groups_of(user, ServiceType.objects.all())


def patients_for(user: Any) -> QuerySet[Patient]:
    if _is_staff(user):
        return in_groups_of(user, Patient.objects.all())
    if user.is_authenticated and user.has_role(Role.PATIENT):
        return Patient.objects.filter(user=user)
    return Patient.objects.none()


def series_templates_for(user: Any) -> QuerySet[SeriesTemplate]:
    return in_groups_of(user, SeriesTemplate.objects.all())


def series_for(user: Any) -> QuerySet[Series]:
    if _is_staff(user):
        return in_groups_of(user, Series.objects.all(), "location__group")
    if user.is_authenticated and user.has_role(Role.PATIENT):
        return Series.objects.filter(patient__user=user)
    return Series.objects.none()


def appointments_for(user: Any) -> QuerySet[Appointment]:
    """Appointments the user may see, with everything the API shows in a fixed number of queries."""
    if _is_staff(user):
        queryset = in_groups_of(user, Appointment.objects.all(), "location__group")
    elif user.is_authenticated and user.has_role(Role.PATIENT):
        queryset = Appointment.objects.filter(patient__user=user)
    else:
        return Appointment.objects.none()
    return queryset.select_related("patient", "service_type", "location", "resource", "series").prefetch_related(
        Prefetch("staff_assignments", queryset=AppointmentStaff.objects.select_related("staff"))
    )
