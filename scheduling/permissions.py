"""Who may do what in scheduling, as named predicates and DRF permission classes."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from backend.permissions import HasRole, user_has_role
from backend.roles import STAFF_ROLES, Role

BOOKING_ROLES = (Role.ADMIN, Role.RECEPTION)
CLEARANCE_ROLES = (Role.ADMIN, Role.CLINICIAN)
PATIENT_EDIT_ROLES = (Role.ADMIN, Role.RECEPTION)
REFERRER_EDIT_ROLES = (Role.ADMIN, Role.RECEPTION, Role.CLINICIAN)  # intake and the clinicians who write to them

# Which roles may apply which status change; patients may confirm or cancel their own visits.
TRANSITION_ROLES: dict[str, tuple[str, ...]] = {
    "confirm": (Role.ADMIN, Role.RECEPTION, Role.PATIENT),
    "check_in": (Role.ADMIN, Role.RECEPTION, Role.CLINICIAN),
    "start": (Role.ADMIN, Role.CLINICIAN),
    "complete": (Role.ADMIN, Role.CLINICIAN),
    "no_show": (Role.ADMIN, Role.RECEPTION, Role.CLINICIAN),
    "cancel": (Role.ADMIN, Role.RECEPTION, Role.PATIENT),
}


def can_book(user: Any) -> bool:
    return user_has_role(user, *BOOKING_ROLES)


def can_transition(user: Any, action: str) -> bool:
    return user_has_role(user, *TRANSITION_ROLES.get(action, ()))


class CanBook(HasRole):
    roles = frozenset(BOOKING_ROLES)


class CanRecordClearance(HasRole):
    roles = frozenset(CLEARANCE_ROLES)


class StaffReadPatientWrite(BasePermission):
    """Patients: staff read, reception and admins write; a patient reads their own record."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return user_has_role(request.user, *STAFF_ROLES, Role.PATIENT)
        return user_has_role(request.user, *PATIENT_EDIT_ROLES)


class SeriesAccess(BasePermission):
    """Staff and patients read what their selector shows; reception and admins book."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return user_has_role(request.user, *STAFF_ROLES, Role.PATIENT)
        return can_book(request.user)


class AppointmentAccess(BasePermission):
    """Everyone signed in may read what their selector shows; reception and admins book and move."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return user_has_role(request.user, *STAFF_ROLES, Role.PATIENT)
        return can_book(request.user)


class ReferringProviderAccess(BasePermission):
    """Staff read; reception, clinicians and admins add and edit (records are kept: no deletes)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return user_has_role(request.user, *STAFF_ROLES)
        return user_has_role(request.user, *REFERRER_EDIT_ROLES)


class CalendarFeedAccess(HasRole):
    """A patient's calendar address: reception and admins, and the patient themselves (their selector shows
    them only their own record)."""

    roles = frozenset({*BOOKING_ROLES, Role.PATIENT})


WAITLIST_READERS = (Role.ADMIN, Role.RECEPTION, Role.CLINICIAN)


class WaitlistAccess(BasePermission):
    """Reception and admins keep the waitlist; clinicians read it. A patient reads their own entries, joins
    where the location allows it and leaves (the view holds them to that)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        patient_methods = (*SAFE_METHODS, "POST", "DELETE")
        if request.method in patient_methods and user_has_role(request.user, Role.PATIENT):
            return True
        if request.method in SAFE_METHODS:
            return user_has_role(request.user, *WAITLIST_READERS)
        return can_book(request.user)


class CanReadWaitlist(HasRole):
    roles = frozenset(WAITLIST_READERS)
