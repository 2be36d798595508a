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


def groups_for(user: Any) -> QuerySet[ClinicGroup]:
    if not user.is_authenticated:
        return ClinicGroup.objects.none()
    if user.is_superuser:
        return ClinicGroup.objects.all()
    if _is_staff(user):
        return ClinicGroup.objects.filter(members=user)
    return ClinicGroup.objects.none()


def locations_for(user: Any) -> QuerySet[Location]:
    return Location.objects.filter(group__in=groups_for(user))


def resources_for(user: Any) -> QuerySet[Resource]:
    return Resource.objects.filter(location__in=locations_for(user)).select_related("location")


def staff_for(user: Any) -> QuerySet[StaffMember]:
    return StaffMember.objects.filter(group__in=groups_for(user)).prefetch_related("locations")


def service_types_for(user: Any) -> QuerySet[ServiceType]:
    if user.is_authenticated and user.has_role(Role.PATIENT) and not _is_staff(user):
        patient = getattr(user, "patient", None)
        return ServiceType.objects.filter(group_id=patient.group_id) if patient else ServiceType.objects.none()
    return ServiceType.objects.filter(group__in=groups_for(user))


def patients_for(user: Any) -> QuerySet[Patient]:
    if _is_staff(user):
        return Patient.objects.filter(group__in=groups_for(user))
    if user.is_authenticated and user.has_role(Role.PATIENT):
        return Patient.objects.filter(user=user)
    return Patient.objects.none()


def series_templates_for(user: Any) -> QuerySet[SeriesTemplate]:
    return SeriesTemplate.objects.filter(group__in=groups_for(user))


def series_for(user: Any) -> QuerySet[Series]:
    if _is_staff(user):
        return Series.objects.filter(location__group__in=groups_for(user))
    if user.is_authenticated and user.has_role(Role.PATIENT):
        return Series.objects.filter(patient__user=user)
    return Series.objects.none()


def appointments_for(user: Any) -> QuerySet[Appointment]:
    """Appointments the user may see, with everything the API shows in a fixed number of queries."""
    if _is_staff(user):
        queryset = Appointment.objects.filter(location__group__in=groups_for(user))
    elif user.is_authenticated and user.has_role(Role.PATIENT):
        queryset = Appointment.objects.filter(patient__user=user)
    else:
        return Appointment.objects.none()
    return queryset.select_related("patient", "service_type", "location", "resource", "series").prefetch_related(
        Prefetch("staff_assignments", queryset=AppointmentStaff.objects.select_related("staff"))
    )
