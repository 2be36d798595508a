"""Reads, scoped to the acting user: a forgotten check returns nothing, not someone else's data.

Superusers see every clinic group. Other staff see the groups they are members of;
a patient sees only their own records.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from backend.access import is_staff_user, scoped
from backend.models import ClinicGroup
from backend.roles import Role
from scheduling.models import (
    Appointment,
    AppointmentStaff,
    Location,
    Patient,
    ReferringProvider,
    Resource,
    Series,
    SeriesTemplate,
    ServiceType,
    StaffMember,
    WaitlistEntry,
    WaitlistOffer,
)


def groups_for(user: Any) -> QuerySet[ClinicGroup]:
    return scoped(user, ClinicGroup.objects.all(), "pk")


def locations_for(user: Any) -> QuerySet[Location]:
    return scoped(user, Location.objects.all())


def resources_for(user: Any) -> QuerySet[Resource]:
    return scoped(user, Resource.objects.select_related("location"), "location__group")


def staff_for(user: Any) -> QuerySet[StaffMember]:
    return scoped(user, StaffMember.objects.prefetch_related("locations"))


def service_types_for(user: Any) -> QuerySet[ServiceType]:
    if user.is_authenticated and user.has_role(Role.PATIENT) and not is_staff_user(user):
        patient = getattr(user, "patient", None)
        return ServiceType.objects.filter(group_id=patient.group_id) if patient else ServiceType.objects.none()
    return scoped(user, ServiceType.objects.all())


def referring_providers_for(user: Any) -> QuerySet[ReferringProvider]:
    return scoped(user, ReferringProvider.objects.all())


def patients_for(user: Any) -> QuerySet[Patient]:
    if is_staff_user(user):
        return scoped(user, Patient.objects.all())
    if user.is_authenticated and user.has_role(Role.PATIENT):
        return Patient.objects.filter(user=user)
    return Patient.objects.none()


def series_templates_for(user: Any) -> QuerySet[SeriesTemplate]:
    return scoped(user, SeriesTemplate.objects.all())


def series_for(user: Any) -> QuerySet[Series]:
    if is_staff_user(user):
        return scoped(user, Series.objects.all(), "location__group")
    if user.is_authenticated and user.has_role(Role.PATIENT):
        return Series.objects.filter(patient__user=user)
    return Series.objects.none()


def appointments_for(user: Any) -> QuerySet[Appointment]:
    """Appointments the user may see, with everything the API shows in a fixed number of queries."""
    if is_staff_user(user):
        queryset = scoped(user, Appointment.objects.all(), "location__group")
    elif user.is_authenticated and user.has_role(Role.PATIENT):
        queryset = Appointment.objects.filter(patient__user=user)
    else:
        return Appointment.objects.none()
    return queryset.select_related("patient", "service_type", "location", "resource", "series").prefetch_related(
        Prefetch("staff_assignments", queryset=AppointmentStaff.objects.select_related("staff"))
    )


def waitlist_entries_for(user: Any) -> QuerySet[WaitlistEntry]:
    """Staff: their groups' entries; a patient: their own."""
    if is_staff_user(user):
        queryset = scoped(user, WaitlistEntry.objects.all(), "patient__group")
    elif user.is_authenticated and user.has_role(Role.PATIENT):
        queryset = WaitlistEntry.objects.filter(patient__user=user)
    else:
        return WaitlistEntry.objects.none()
    return queryset.select_related("patient", "service_type", "series", "appointment").prefetch_related("locations")


def waitlist_offers_for(user: Any) -> QuerySet[WaitlistOffer]:
    return scoped(user, WaitlistOffer.objects.all(), "entry__patient__group").select_related(
        "entry__patient", "slot__location", "slot__service_type", "slot__appointment"
    )


def self_join_locations_for(user: Any) -> QuerySet[Location]:
    """The locations whose waitlist a signed-in patient may join themselves (``Location.waitlist_self_join``)."""
    if not (user.is_authenticated and user.has_role(Role.PATIENT)):
        return Location.objects.none()
    return Location.objects.filter(group__patients__user=user, waitlist_self_join=True)
