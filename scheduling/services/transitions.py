"""A visit's status machine: one function per status change, used by every entry point.

The API, the admin's actions, the reminder links, SMS replies and series
cancellation all come through here, so a change has the same effects whoever
makes it: the status and its stamps, staff holds released in one statement,
reminders cancelled, the series change recorded, and
``appointment_status_changed`` sent (billing drafts fees and draws package
sessions from it) inside the same transaction.

Changes respect the clock: check-in opens ``Location.check_in_opens_minutes``
before the start, a no-show can be recorded only ``no_show_grace_minutes``
after it, and an infusion whose patient is no longer cleared on the visit's
day is neither checked in nor started unless a clinician overrides with a
reason (recorded in the audit trail).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from backend.audit import audit_record
from backend.models import User
from backend.roles import Role
from backend.transactions import change_transaction
from scheduling.errors import (
    ClearanceOverrideRefused,
    InvalidBookingRequest,
    InvalidTransition,
    NotCleared,
    NotYetPossible,
)
from scheduling.models import BLOCKING_STATUSES, Appointment, AppointmentStaff, AppointmentStatus, SeriesChangeKind
from scheduling.services.clearance import ensure_cleared
from scheduling.services.freed_slots import slots_freed
from scheduling.services.reminders import cancel_visit_reminders, series_change_record
from scheduling.signals import appointment_status_changed

S = AppointmentStatus

# Which statuses each change starts from, and where it leads.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "confirm": (frozenset({S.SCHEDULED}), S.CONFIRMED),
    "check_in": (frozenset({S.SCHEDULED, S.CONFIRMED}), S.CHECKED_IN),
    "start": (frozenset({S.CHECKED_IN}), S.IN_PROGRESS),
    "complete": (frozenset({S.IN_PROGRESS}), S.COMPLETED),
    "no_show": (frozenset({S.SCHEDULED, S.CONFIRMED}), S.NO_SHOW),
    "cancel": (frozenset({S.SCHEDULED, S.CONFIRMED, S.CHECKED_IN}), S.CANCELLED),
}
CLEARANCE_OVERRIDE_ROLES = (Role.ADMIN, Role.CLINICIAN)


# --- when a change becomes possible --------------------------------------------------------------


def opens_at(appointment: Appointment, action: str) -> datetime | None:
    """The earliest instant ``action`` may be applied to the visit (None: no clock rule)."""
    location = appointment.location
    if action == "check_in":
        return appointment.start - timedelta(minutes=location.check_in_opens_minutes)
    if action == "no_show":
        return appointment.start + timedelta(minutes=location.no_show_grace_minutes)
    return None


def possible_actions(appointment: Appointment, now: datetime | None = None) -> dict[str, datetime | None]:
    """The changes the visit's status allows, each with when it opens (None: now)."""
    now = now or timezone.now()
    found: dict[str, datetime | None] = {}
    for action, (allowed_from, _target) in TRANSITIONS.items():
        if appointment.status in allowed_from:
            opening = opens_at(appointment, action)
            found[action] = opening if opening is not None and opening > now else None
    return found


def is_late_cancellation(appointment: Appointment, at: datetime) -> bool:
    window = timedelta(hours=appointment.location.cancellation_window_hours)
    return at > appointment.start - window


def _ensure_allowed(appointment: Appointment, action: str, now: datetime) -> None:
    allowed_from, _target = TRANSITIONS[action]
    if appointment.status not in allowed_from:
        raise InvalidTransition(
            f"Cannot {action.replace('_', ' ')} an appointment that is {appointment.get_status_display().lower()}.",
            extra={"current_status": appointment.status, "action": action},
        )
    opening = opens_at(appointment, action)
    if opening is not None and now < opening:
        zone = appointment.location.zone
        what = {"check_in": "Check-in", "no_show": "A no-show"}[action]
        rule = (
            f"{appointment.location.check_in_opens_minutes} minutes before the visit"
            if action == "check_in"
            else f"{appointment.location.no_show_grace_minutes} minutes after the visit's start"
        )
        raise NotYetPossible(
            f"{what} is possible from {opening.astimezone(zone):%a %d %b %Y at %H:%M} ({rule}).",
            extra={"action": action, "opens_at": opening.astimezone(zone).isoformat()},
        )


def _ensure_cleared_today(appointment: Appointment, actor: User | None, override_reason: str) -> None:
    """Check-in and start need a clearance valid on the visit's day, or a clinician's recorded override."""
    try:
        ensure_cleared(appointment.patient, appointment.service_type, appointment.start, appointment.location)
    except NotCleared as refusal:
        reason = override_reason.strip()
        if not reason:
            raise NotCleared(
                f"{refusal.detail} A clinician may override with a reason (clearance_override).",
                extra={"can_override": True},
            ) from refusal
        if actor is None or not actor.has_role(*CLEARANCE_OVERRIDE_ROLES):
            raise ClearanceOverrideRefused("Only a clinician may override a missing clearance.") from refusal
        audit_record(
            actor=actor,
            action="clearance_override",
            object_type="appointment",
            object_id=str(appointment.public_id),
            patient_id=appointment.patient.public_id,
            details={"reason": reason, "refusal": refusal.detail},
        )


# --- applying a change ---------------------------------------------------------------------------------


def _lock(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("location", "patient", "service_type")
        .get(pk=appointment.pk)
    )


def _apply(appointments: Sequence[Appointment], target: str, actor: User | None, previous: Sequence[str]) -> None:
    """The effects every change shares, for visits whose new status and stamps are set but not saved."""
    fields = ["status", "updated_at"]
    if target == S.CANCELLED:
        fields += ["cancel_reason", "cancelled_at", "cancelled_late", "calendar_sequence"]
        for appointment in appointments:  # calendars replace the event with its cancellation
            appointment.calendar_sequence += 1
    now = timezone.now()
    for appointment in appointments:
        appointment.updated_at = now
    Appointment.objects.bulk_update(appointments, fields)
    if target not in BLOCKING_STATUSES:
        AppointmentStaff.objects.filter(appointment__in=[a.pk for a in appointments]).update(is_blocking=False)
        slots_freed(appointments, reason=target, now=now)  # offered to the waitlist when far enough ahead
    if target not in (S.SCHEDULED, S.CONFIRMED):  # checked in, started, over: nothing left to remind of
        cancel_visit_reminders(appointments, reason=f"The visit is {S(target).label.lower()}.")
    for appointment, was in zip(appointments, previous, strict=True):
        appointment_status_changed.send(sender=Appointment, appointment=appointment, previous=was, actor=actor)


def _change(
    appointment: Appointment, action: str, actor: User | None, *, before: Callable[[Appointment], None] | None = None
) -> Appointment:
    appointment = _lock(appointment)
    _ensure_allowed(appointment, action, timezone.now())
    if before is not None:
        before(appointment)
    previous = appointment.status
    appointment.status = TRANSITIONS[action][1]
    _apply([appointment], appointment.status, actor, [previous])
    return appointment


@change_transaction()
def appointment_confirm(*, actor: User | None, appointment: Appointment) -> Appointment:
    return _change(appointment, "confirm", actor)


@change_transaction()
def appointment_check_in(*, actor: User | None, appointment: Appointment, clearance_override: str = "") -> Appointment:
    return _change(
        appointment, "check_in", actor, before=lambda visit: _ensure_cleared_today(visit, actor, clearance_override)
    )


@change_transaction()
def appointment_start(*, actor: User | None, appointment: Appointment, clearance_override: str = "") -> Appointment:
    return _change(
        appointment, "start", actor, before=lambda visit: _ensure_cleared_today(visit, actor, clearance_override)
    )


@change_transaction()
def appointment_complete(*, actor: User | None, appointment: Appointment) -> Appointment:
    return _change(appointment, "complete", actor)


@change_transaction()
def appointment_no_show(*, actor: User | None, appointment: Appointment) -> Appointment:
    return _change(appointment, "no_show", actor)


@change_transaction()
def appointment_cancel(*, actor: User | None, appointment: Appointment, reason: str) -> Appointment:
    """Cancel one visit (flagged late inside the location's window); a series visit records a series change."""
    appointment = _lock(appointment)
    _ensure_allowed(appointment, "cancel", timezone.now())
    visits_cancel(actor=actor, appointments=[appointment], reason=reason)
    return appointment


def visits_cancel(
    *, actor: User | None, appointments: Sequence[Appointment], reason: str, series_id: int | None = None
) -> None:
    """Cancel locked, cancellable visits: the one cancellation every entry point shares.

    Visits of one series record one series change (one message to the patient, not one per visit).
    Runs inside the caller's transaction, which has locked the rows and checked their statuses.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidBookingRequest("Give a reason for the cancellation.", errors={"reason": ["Required."]})
    now = timezone.now()
    previous = [appointment.status for appointment in appointments]
    for appointment in appointments:
        appointment.status = S.CANCELLED
        appointment.cancel_reason = reason
        appointment.cancelled_at = now
        appointment.cancelled_late = is_late_cancellation(appointment, now)
    _apply(appointments, S.CANCELLED, actor, previous)
    series_id = series_id or appointments[0].series_id
    if series_id is not None:
        series_change_record(
            series_id=series_id, patient_id=appointments[0].patient_id, kind=SeriesChangeKind.CANCELLED,
            appointments=appointments, actor=actor, details={"reason": reason},
        )  # fmt: skip


def appointment_transition(
    *, actor: User | None, appointment: Appointment, action: str, reason: str = "", clearance_override: str = ""
) -> Appointment:
    """Apply the change named ``action`` (for callers that take it as data: API routes, admin actions, links)."""
    services: dict[str, Callable[..., Appointment]] = {
        "confirm": appointment_confirm,
        "check_in": appointment_check_in,
        "start": appointment_start,
        "complete": appointment_complete,
        "no_show": appointment_no_show,
        "cancel": appointment_cancel,
    }
    if action not in services:
        raise InvalidTransition(f"Unknown action {action!r}.")
    options: dict[str, Any] = {}
    if action == "cancel":
        options["reason"] = reason
    if action in ("check_in", "start"):
        options["clearance_override"] = clearance_override
    return services[action](actor=actor, appointment=appointment, **options)
