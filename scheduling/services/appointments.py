"""Writes on appointments: book, reschedule, and the status machine.

Each public function owns its transaction. The application checks here give a
receptionist a precise message; the exclusion constraints are the guarantee,
and a violation that slips past the checks (a race) becomes the same 409.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from backend import sql
from backend.errors import ApplicationError
from backend.models import User
from scheduling.errors import (
    BookingConflict,
    InvalidBookingRequest,
    InvalidTransition,
    NotCleared,
    OutsideOpeningHours,
    ProtocolViolation,
    StaffUnavailable,
)
from scheduling.models import (
    BLOCKING_STATUSES,
    Appointment,
    AppointmentStaff,
    AppointmentStatus,
    Clearance,
    ClearanceStatus,
    Location,
    Patient,
    Resource,
    SeriesChangeKind,
    ServiceType,
    StaffMember,
)
from scheduling.services.calendar import LocationCalendar, Placement
from scheduling.services.location_setup import location_setup
from scheduling.services.locks import lock_booking_scope
from scheduling.services.protocol import protocol_of, violations
from scheduling.services.reminders import (
    cancel_visit_reminders,
    move_visit_reminders,
    schedule_visit_reminders,
    series_change_record,
)
from scheduling.signals import appointment_status_changed
from scheduling.time import local_date

# --- checks ---------------------------------------------------------------------------


def _ensure_same_group(patient: Patient, service_type: ServiceType, location: Location) -> None:
    if not (patient.group_id == service_type.group_id == location.group_id):
        raise InvalidBookingRequest(
            "The patient, service type and location belong to different clinic groups.",
            errors={"location": ["Choose a location of the patient's clinic."]},
        )
    if not service_type.is_active:
        raise InvalidBookingRequest(
            f"{service_type.name} is no longer offered.", errors={"service_type": ["This service is inactive."]}
        )


@cache  # written once, when the models are ready
def _latest_clearance_statement() -> str:
    recorded_at, key = sql.column(Clearance, "recorded_at"), sql.column(Clearance, "id")
    return (
        f"SELECT {sql.select_list(Clearance, 'c')} FROM {sql.table(Clearance)} c "  # noqa: S608 - model metadata
        f"WHERE c.{sql.column(Clearance, 'patient')} = %s ORDER BY c.{recorded_at} DESC, c.{key} DESC LIMIT 1"
    )


def latest_clearance(patient_id: int) -> Clearance | None:
    """The patient's most recent clearance (checked at every booking, so written once in SQL: backend.sql)."""
    with connection.cursor() as cursor:
        cursor.execute(_latest_clearance_statement(), [patient_id])
        row = cursor.fetchone()
    return sql.from_row(Clearance, row) if row is not None else None


def ensure_cleared(patient: Patient, service_type: ServiceType, start: datetime, location: Location) -> None:
    """Refuse when the service needs clearance and the patient's latest clearance does not cover the visit."""
    if not service_type.requires_clearance:
        return
    latest = latest_clearance(patient.pk)
    visit_day = local_date(start, location.zone)
    if latest is None:
        raise NotCleared(
            f"{patient} has no clearance on record; a clinician must clear them before {service_type.name} "
            "can be booked."
        )
    if latest.status != ClearanceStatus.CLEARED:
        raise NotCleared(f"{patient} was assessed as not cleared for treatment; {service_type.name} cannot be booked.")
    if latest.valid_until is None or latest.valid_until < visit_day:
        raise NotCleared(
            f"{patient}'s clearance expires on {latest.valid_until:%Y-%m-%d}, before this visit on "
            f"{visit_day:%Y-%m-%d}; a clinician must renew it."
        )


def _ensure_future(start: datetime) -> None:
    if start < timezone.now() - timedelta(minutes=5):
        raise InvalidBookingRequest(
            "That time has already passed; choose a time in the future.", errors={"start": ["Must be in the future."]}
        )


def _describe(appointment_ids: Sequence[int | None], kind: str, who: str) -> list[dict[str, Any]]:
    ids = [pk for pk in appointment_ids if pk is not None]
    rows = Appointment.objects.filter(pk__in=ids).select_related("resource")
    return [
        {
            "kind": kind,
            "with": who,
            "appointment": str(row.public_id),
            "start": row.start.isoformat(),
            "end": row.hold_until.isoformat(),
        }
        for row in rows
    ]


def conflict_error(
    calendar: LocationCalendar,
    service_type: ServiceType,
    patient: Patient,
    start: datetime,
    *,
    resource: Resource | None = None,
    staff: Sequence[StaffMember] = (),
) -> ApplicationError:
    """The most precise error for why ``start`` cannot be booked (the calendar has no placement there)."""
    try:
        _raise_conflict(calendar, service_type, patient, start, resource, staff)
    except ApplicationError as error:
        return error
    raise AssertionError("unreachable")  # pragma: no cover


def _raise_conflict(  # noqa: PLR0917 - private helper of conflict_error
    calendar: LocationCalendar,
    service_type: ServiceType,
    patient: Patient,
    start: datetime,
    resource: Resource | None,
    staff: Sequence[StaffMember],
) -> None:
    end = start + timedelta(minutes=service_type.duration_minutes)
    hold_until = end + timedelta(minutes=service_type.recovery_minutes)
    zone = calendar.zone
    local = f"{start.astimezone(zone):%a %Y-%m-%d %H:%M} ({zone.key})"
    if not calendar.is_open(start, hold_until):
        raise OutsideOpeningHours(
            f"{calendar.location.name} is not open for the whole visit at {local}, recovery included "
            f"({service_type.duration_minutes + service_type.recovery_minutes} minutes).",
            errors={"start": ["Outside opening hours."]},
        )
    patient_clash = calendar.load_patient(patient.pk).overlapping(start, hold_until)
    if patient_clash:
        raise BookingConflict(
            f"{patient} already has an appointment overlapping {local}.",
            extra={"conflicts": _describe(patient_clash, "patient", str(patient))},
        )
    if resource is not None:
        clash = calendar.resource_busy[resource.pk].overlapping(start, hold_until)
        if clash:
            raise BookingConflict(
                f"{resource.name} is taken at {local}.",
                extra={"conflicts": _describe(clash, "resource", resource.name)},
            )
    elif not calendar.free_resources(service_type.resource_kind, start, hold_until):
        raise BookingConflict(
            f"Every {service_type.resource_kind} at {calendar.location.name} is taken at {local}.",
            extra={"conflicts": []},
        )
    for member in staff:
        if not calendar.on_shift(member, start, end):
            raise StaffUnavailable(
                f"{member.name} is not working at {calendar.location.name} at {local}.",
                errors={"staff": [f"{member.name} is not on shift then."]},
            )
        clash = calendar.staff_busy[member.pk].overlapping(start, end)
        if clash:
            raise BookingConflict(
                f"{member.name} is busy at {local}.", extra={"conflicts": _describe(clash, "staff", member.name)}
            )
    for role in service_type.staff_roles:
        if not any(role in member.roles for member in calendar.staff if calendar.on_shift(member, start, end)):
            raise StaffUnavailable(
                f"No {role} is working at {calendar.location.name} at {local}.",
                errors={"start": [f"No {role} on shift."]},
            )
    raise BookingConflict(
        f"Not enough free staff ({', '.join(service_type.staff_roles)}) at {local}.", extra={"conflicts": []}
    )


def _validate_choices(
    location: Location, service_type: ServiceType, resource: Resource | None, staff: Sequence[StaffMember]
) -> None:
    if resource is not None:
        if resource.location_id != location.pk:
            raise InvalidBookingRequest(
                f"{resource.name} belongs to another location.", errors={"resource": ["Not at this location."]}
            )
        if resource.kind != service_type.resource_kind:
            raise InvalidBookingRequest(
                f"{service_type.name} needs a {service_type.resource_kind}, and {resource.name} is a {resource.kind}.",
                errors={"resource": [f"Must be a {service_type.resource_kind}."]},
            )
        if not resource.is_active:
            raise InvalidBookingRequest(f"{resource.name} is out of service.", errors={"resource": ["Inactive."]})
    if staff:
        if len(staff) != len(service_type.staff_roles):
            raise InvalidBookingRequest(
                f"{service_type.name} needs exactly {len(service_type.staff_roles)} staff "
                f"({', '.join(service_type.staff_roles) or 'none'}).",
                errors={"staff": ["Wrong number of staff."]},
            )
        for member in staff:
            if not member.locations.filter(pk=location.pk).exists():
                raise InvalidBookingRequest(
                    f"{member.name} does not work at {location.name}.", errors={"staff": ["Not at this location."]}
                )


# --- writing -----------------------------------------------------------------------


def constraint_kind(error: IntegrityError) -> str | None:
    """Which exclusion constraint refused a write: "resource", "patient", "staff" or None."""
    diag = getattr(error.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None) or ""
    for kind in ("resource", "patient", "staff"):
        if name == f"appointment_no_{kind}_overlap":
            return kind
    return None


def _write(appointment: Appointment, placement: Placement, *, creating: bool) -> None:
    appointment.start = placement.start
    appointment.end = placement.end
    appointment.hold_until = placement.hold_until
    appointment.resource = placement.resource
    appointment.save()
    if not creating:
        appointment.staff_assignments.all().delete()
    AppointmentStaff.objects.bulk_create(
        AppointmentStaff(
            appointment=appointment, staff=member, role=role, start=placement.start, end=placement.end, is_blocking=True
        )
        for member, role in placement.staff
    )


def _place(
    appointment: Appointment,
    calendar: LocationCalendar,
    *,
    resource: Resource | None,
    staff: Sequence[StaffMember],
    creating: bool,
    staff_required: bool = True,
) -> None:
    """Write ``appointment`` at its start with a free resource and staff, or raise why it cannot be.

    ``staff`` are required people, or only preferred ones when ``staff_required`` is false.
    Callers hold the booking locks (``lock_booking_scope``), so the calendar is current; the
    exclusion constraints still refuse anything that slips through, as a 409.
    """
    required = staff if staff_required else ()
    placement = calendar.placement(
        appointment.service_type, appointment.start, patient_id=appointment.patient_id, resource=resource, staff=staff
    )
    if placement is None or (required and {m.pk for m, _ in placement.staff} != {m.pk for m in required}):
        raise conflict_error(
            calendar,
            appointment.service_type,
            appointment.patient,
            appointment.start,
            resource=resource,
            staff=required,
        )
    try:
        with transaction.atomic():
            _write(appointment, placement, creating=creating)
    except IntegrityError as error:
        kind = constraint_kind(error)
        if kind is None:
            raise
        raise BookingConflict(
            f"The {kind} is already booked at that time.", extra={"conflicts": [{"kind": kind}]}
        ) from error


@transaction.atomic  # not durable: it may run inside run_idempotent's transaction
def appointment_book(
    *,
    actor: User | None,
    patient: Patient,
    service_type: ServiceType,
    location: Location,
    start: datetime,
    resource: Resource | None = None,
    staff: Sequence[StaffMember] = (),
) -> Appointment:
    """Book one appointment, assigning a free resource and staff when not given."""
    _ensure_same_group(patient, service_type, location)
    _validate_choices(location, service_type, resource, staff)
    _ensure_future(start)
    ensure_cleared(patient, service_type, start, location)
    setup = location_setup(location.pk)
    lock_booking_scope(patient_ids=[patient.pk], setups=[setup])
    hold = timedelta(minutes=service_type.duration_minutes + service_type.recovery_minutes)
    calendar = LocationCalendar(location, start, start + hold, patient_ids=[patient.pk], setup=setup)
    appointment = Appointment(
        patient=patient, service_type=service_type, location=location, start=start, created_by=actor
    )
    _place(appointment, calendar, resource=resource, staff=staff, creating=True)
    schedule_visit_reminders([appointment])
    return appointment


@transaction.atomic(durable=True)
def appointment_reschedule(*, actor: User | None, appointment: Appointment, start: datetime) -> Appointment:
    """Move an appointment; it keeps its chair and staff when they are free, else gets free ones.

    A confirmed appointment goes back to scheduled: the patient confirms the new time.
    """
    setup = location_setup(appointment.location_id)
    lock_booking_scope(patient_ids=[appointment.patient_id], setups=[setup])
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient", "service_type", "location", "resource", "series")
        .get(pk=appointment.pk)
    )
    if appointment.status not in (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED):
        raise InvalidTransition(
            f"A {appointment.get_status_display().lower()} appointment cannot be moved.",
            extra={"current_status": appointment.status},
        )
    _ensure_future(start)
    ensure_cleared(appointment.patient, appointment.service_type, start, appointment.location)
    _check_series_move(appointment, start)
    previous_start = appointment.start
    service_type = appointment.service_type
    hold = timedelta(minutes=service_type.duration_minutes + service_type.recovery_minutes)
    calendar = LocationCalendar(
        appointment.location, start, start + hold, ignore_appointment_ids=[appointment.pk],
        patient_ids=[appointment.patient_id], setup=setup,
    )  # fmt: skip
    current_staff = list(appointment.staff.all())
    appointment.start = start
    appointment.status = AppointmentStatus.SCHEDULED
    placement = calendar.placement(
        service_type, start, patient_id=appointment.patient_id, resource=appointment.resource, staff=current_staff
    )
    keep_resource = appointment.resource if placement is not None else None
    _place(appointment, calendar, resource=keep_resource, staff=current_staff, creating=False, staff_required=False)
    move_visit_reminders(appointment)
    _record_series_change(
        appointment, SeriesChangeKind.MOVED, actor, {"from": previous_start.isoformat(), "to": start.isoformat()}
    )
    return appointment


# --- series visits ----------------------------------------------------------------------


def _check_series_move(appointment: Appointment, new_start: datetime) -> None:
    """Refuse moving a series visit where it would break the gap or per-week rule with its siblings."""
    series = appointment.series
    if series is None:
        return
    siblings = list(
        series.appointments.exclude(pk=appointment.pk)
        .exclude(status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW])
        .values_list("start", flat=True)
    )
    # The window bounds the original plan; a moved visit is held to the gap and per-week rules.
    problems = violations([*siblings, new_start], protocol_of(series), appointment.location.zone, in_window=[])
    if problems:
        raise ProtocolViolation(
            f"Moving this visit breaks the series protocol: {'; '.join(problems)}.", errors={"start": problems}
        )


def _record_series_change(
    appointment: Appointment, kind: str, actor: User | None, details: dict[str, Any] | None = None
) -> None:
    if appointment.series_id is not None:
        series_change_record(
            series_id=appointment.series_id,
            patient_id=appointment.patient_id,
            kind=kind,
            appointments=[appointment],
            actor=actor,
            details=details,
        )


# --- the status machine ------------------------------------------------------------------

S = AppointmentStatus
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "confirm": (frozenset({S.SCHEDULED}), S.CONFIRMED),
    "check_in": (frozenset({S.SCHEDULED, S.CONFIRMED}), S.CHECKED_IN),
    "start": (frozenset({S.CHECKED_IN}), S.IN_PROGRESS),
    "complete": (frozenset({S.IN_PROGRESS}), S.COMPLETED),
    "no_show": (frozenset({S.SCHEDULED, S.CONFIRMED}), S.NO_SHOW),
    "cancel": (frozenset({S.SCHEDULED, S.CONFIRMED, S.CHECKED_IN}), S.CANCELLED),
}


def is_late_cancellation(appointment: Appointment, at: datetime) -> bool:
    window = timedelta(hours=appointment.location.cancellation_window_hours)
    return at > appointment.start - window


@transaction.atomic(durable=True)
def appointment_transition(
    *, actor: User | None, appointment: Appointment, action: str, reason: str = ""
) -> Appointment:
    """Apply ``action`` (confirm, check_in, start, complete, no_show, cancel) or refuse it."""
    if action not in TRANSITIONS:
        raise InvalidTransition(f"Unknown action {action!r}.")
    allowed_from, target = TRANSITIONS[action]
    appointment = Appointment.objects.select_for_update(of=("self",)).select_related("location").get(pk=appointment.pk)
    if appointment.status not in allowed_from:
        raise InvalidTransition(
            f"Cannot {action.replace('_', ' ')} an appointment that is {appointment.get_status_display().lower()}.",
            extra={"current_status": appointment.status, "action": action},
        )
    now = timezone.now()
    previous = appointment.status
    appointment.status = target
    if target == S.CANCELLED:
        if not reason.strip():
            raise InvalidBookingRequest("Give a reason for the cancellation.", errors={"reason": ["Required."]})
        appointment.cancel_reason = reason.strip()
        appointment.cancelled_at = now
        appointment.cancelled_late = is_late_cancellation(appointment, now)
    appointment.save()
    if target not in BLOCKING_STATUSES:
        appointment.staff_assignments.update(is_blocking=False)
    if target not in (S.SCHEDULED, S.CONFIRMED):  # checked in, started, over: nothing left to remind of
        cancel_visit_reminders([appointment], reason=f"The visit is {appointment.get_status_display().lower()}.")
    if target == S.CANCELLED:
        _record_series_change(appointment, SeriesChangeKind.CANCELLED, actor, {"reason": appointment.cancel_reason})
    appointment_status_changed.send(sender=Appointment, appointment=appointment, previous=previous, actor=actor)
    return appointment
