"""Reads, scoped to the acting user: a forgotten check returns nothing, not someone else's data.

Superusers see every clinic group. Other staff see the groups they are members of;
a patient sees only their own records.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

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
