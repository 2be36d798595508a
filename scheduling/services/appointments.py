"""Writes on appointments: book, reschedule, and the status machine.

Each public function owns its transaction. The application checks here give a
receptionist a precise message; the exclusion constraints are the guarantee,
and a violation that slips past the checks (a race) becomes the same 409.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.errors import ApplicationError
from backend.models import User
from backend.transactions import change_transaction
from scheduling.booking.calendar import LocationCalendar, Placement
from scheduling.booking.location_setup import LocationSetup, location_setup
from scheduling.booking.locks import lock_booking_scope
from scheduling.booking.protocol import protocol_of, violations
from scheduling.errors import (
    BookingConflict,
    InvalidBookingRequest,
    InvalidTransition,
    OutsideOpeningHours,
    ProtocolViolation,
    StaffUnavailable,
)
from scheduling.models import (
    Appointment,
    AppointmentStaff,
    AppointmentStatus,
    Location,
    Patient,
    Resource,
    Series,
    SeriesChangeKind,
    ServiceType,
    StaffMember,
)
from scheduling.services.clearance import ensure_cleared
from scheduling.services.freed_slots import slots_freed
from scheduling.services.reminders import (
    move_visit_reminders,
    schedule_visit_reminders,
    series_change_record,
)

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


def _ensure_future(start: datetime) -> None:
    if start < timezone.now() - timedelta(minutes=5):
        raise InvalidBookingRequest(
            "That time has already passed; choose a time in the future.", errors={"start": ["Must be in the future."]}
        )


def _describe(appointment_ids: Sequence[int | None], kind: str, who: str) -> list[dict[str, Any]]:
    ids = [pk for pk in appointment_ids if pk is not None]
    rows = Appointment.objects.filter(pk__in=ids).select_related("resource", "location")
    return [
        {
            "kind": kind,
            "with": who,
            "appointment": str(row.public_id),
            "start": row.start.astimezone(row.location.zone).isoformat(),  # in the location's offset
            "end": row.hold_until.astimezone(row.location.zone).isoformat(),
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
    series: Series | None = None,
) -> Appointment:
    """Book one appointment, assigning a free resource and staff when not given.

    ``location`` is the row as read for this request: its ``setup_version`` picks the setup in memory.
    With ``series``, the visit joins that series (a visit taken from the waitlist) under its protocol, and
    the patient gets the series' change message.
    """
    _ensure_same_group(patient, service_type, location)
    _validate_choices(location, service_type, resource, staff)
    _ensure_future(start)
    ensure_cleared(patient, service_type, start, location)
    setup = location_setup(location.pk, version=location.setup_version)
    lock_booking_scope(patient_ids=[patient.pk], setups=[setup])
    if series is not None:  # under the patient's lock: the series' visits cannot change meanwhile
        _check_series_visit(series, patient, location, start)
    hold = timedelta(minutes=service_type.duration_minutes + service_type.recovery_minutes)
    calendar = LocationCalendar(location, start, start + hold, patient_ids=[patient.pk], setup=setup)
    appointment = Appointment(
        patient=patient, service_type=service_type, location=location, start=start, created_by=actor, series=series
    )
    _place(appointment, calendar, resource=resource, staff=staff, creating=True)
    schedule_visit_reminders([appointment])
    if series is not None:
        active = _series_visit_starts(series, exclude=None)
        Series.objects.filter(pk=series.pk, count__lt=len(active)).update(count=len(active))
        _record_series_change([appointment], SeriesChangeKind.EXTENDED, actor, {"added": start.isoformat()})
    return appointment


@change_transaction()
def appointment_reschedule(*, actor: User | None, appointment: Appointment, start: datetime) -> Appointment:
    """Move an appointment; it keeps its chair and staff when they are free, else gets free ones.

    A confirmed appointment goes back to scheduled: the patient confirms the new time. The integration
    sessions that follow a series visit move with it by the same time, or the move is refused (409).
    """
    setup = location_setup(appointment.location_id)
    lock_booking_scope(patient_ids=[appointment.patient_id], setups=[setup])
    appointment = _locked(appointment.pk)
    previous_start = appointment.start
    _move(appointment, start, setup)
    moved = [appointment]
    sessions = appointment.sessions.filter(status__in=(AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED))
    for session_id in sessions.order_by("start").values_list("pk", flat=True):
        session = _locked(session_id)
        try:
            _move(session, session.start + (start - previous_start), setup)
        except ApplicationError as error:
            error.detail = f"Its integration session cannot move with it: {error.detail}"
            raise
        moved.append(session)
    _record_series_change(
        moved, SeriesChangeKind.MOVED, actor, {"from": previous_start.isoformat(), "to": start.isoformat()}
    )
    return appointment


def _locked(appointment_id: int) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient", "service_type", "location", "resource", "series")
        .get(pk=appointment_id)
    )


def _move(appointment: Appointment, start: datetime, setup: LocationSetup) -> None:
    """Move one locked appointment to ``start`` under every booking rule, with its reminders."""
    if appointment.status not in (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED):
        raise InvalidTransition(
            f"A {appointment.get_status_display().lower()} appointment cannot be moved.",
            extra={"current_status": appointment.status},
        )
    _ensure_future(start)
    ensure_cleared(appointment.patient, appointment.service_type, start, appointment.location)
    _check_series_move(appointment, start)
    service_type = appointment.service_type
    hold = timedelta(minutes=service_type.duration_minutes + service_type.recovery_minutes)
    calendar = LocationCalendar(
        appointment.location, start, start + hold, ignore_appointment_ids=[appointment.pk],
        patient_ids=[appointment.patient_id], setup=setup,
    )  # fmt: skip
    current_staff = list(appointment.staff.all())
    slots_freed([appointment], reason="moved")  # the old time, for the waitlist (rolls back with a refused move)
    appointment.start = start
    appointment.status = AppointmentStatus.SCHEDULED
    appointment.calendar_sequence += 1  # calendars update the same event (same UID, higher SEQUENCE)
    placement = calendar.placement(
        service_type, start, patient_id=appointment.patient_id, resource=appointment.resource, staff=current_staff
    )
    keep_resource = appointment.resource if placement is not None else None
    _place(appointment, calendar, resource=keep_resource, staff=current_staff, creating=False, staff_required=False)
    move_visit_reminders(appointment)


# --- series visits ----------------------------------------------------------------------


def _series_visit_starts(series: Series, *, exclude: int | None) -> list[datetime]:
    """The starts of the series' visits that count for its protocol (not cancelled, not sessions)."""
    visits = series.appointments.filter(follows__isnull=True).exclude(
        status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW]
    )
    if exclude is not None:
        visits = visits.exclude(pk=exclude)
    return list(visits.values_list("start", flat=True))


def series_protocol_problems(
    series: Series, start: datetime, *, exclude: int | None = None, window: bool = False
) -> list[str]:
    """Why a visit of ``series`` at ``start`` would break its protocol (empty: it keeps it).

    Gap and per-week rules always; the window (``within_days``) only when ``window``: it bounds the
    original plan and a visit added to it, while a moved visit is held to the gap and per-week rules.
    """
    siblings = _series_visit_starts(series, exclude=exclude)
    zone = series.location.zone
    return violations([*siblings, start], protocol_of(series), zone, in_window=[start] if window else [])


def _check_series_move(appointment: Appointment, new_start: datetime) -> None:
    """Refuse moving a series visit where it would break the gap or per-week rule with its siblings."""
    series = appointment.series
    if series is None or appointment.follows_id is not None:  # an integration session keeps no protocol
        return
    problems = series_protocol_problems(series, new_start, exclude=appointment.pk)
    if problems:
        raise ProtocolViolation(
            f"Moving this visit breaks the series protocol: {'; '.join(problems)}.", errors={"start": problems}
        )


def _check_series_visit(series: Series, patient: Patient, location: Location, start: datetime) -> None:
    """A visit added to a series: the patient's own, live series at its location, under its protocol."""
    if series.patient_id != patient.pk or series.location_id != location.pk or series.cancelled_at is not None:
        raise InvalidBookingRequest(
            "The visit can only join the patient's own, active series at its location.",
            errors={"series": ["Not this patient's active series here."]},
        )
    problems = series_protocol_problems(series, start, window=True)
    if problems:
        raise ProtocolViolation(
            f"This visit breaks the series protocol: {'; '.join(problems)}.", errors={"start": problems}
        )


def _record_series_change(
    appointments: list[Appointment], kind: str, actor: User | None, details: dict[str, Any] | None = None
) -> None:
    """One change record (and one message to the patient) for the series visits of one change."""
    first = appointments[0]
    if first.series_id is not None:
        series_change_record(
            series_id=first.series_id,
            patient_id=first.patient_id,
            kind=kind,
            appointments=appointments,
            actor=actor,
            details=details,
        )
