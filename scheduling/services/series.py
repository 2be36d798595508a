"""Series: book, cancel and extend a whole set of visits in one step, all or nothing.

Visits are planned from the protocol in the location's wall-clock time and
converted one by one (so 09:00 stays 09:00 across DST), then placed against
the location's calendar. When some cannot be placed, nothing is booked: the
409 names each one with its reason and the nearest alternative that keeps the
protocol; with ``accept_alternatives`` the series is booked with them at once.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.errors import ApplicationError, ValidationFailed
from backend.fields import zoned
from backend.models import User
from backend.prefetch import remember_related
from backend.transactions import change_transaction
from scheduling.booking.calendar import LocationCalendar, Placement
from scheduling.booking.location_setup import LocationSetup, location_setup
from scheduling.booking.locks import lock_booking_scope
from scheduling.booking.protocol import (
    ProtocolFit,
    ProtocolRules,
    SeriesProtocol,
    in_dst_gap,
    plan,
    protocol_from,
    protocol_of,
    validate_protocol,
)
from scheduling.errors import BookingConflict, InvalidBookingRequest, NonexistentLocalTime
from scheduling.models import (
    Appointment,
    AppointmentStaff,
    AppointmentStatus,
    Location,
    Patient,
    Reminder,
    Resource,
    Series,
    SeriesChangeKind,
    SeriesStatus,
    SeriesTemplate,
    ServiceType,
)
from scheduling.services.appointments import (
    _ensure_same_group,
    _validate_choices,
    conflict_error,
    constraint_kind,
)
from scheduling.services.clearance import ensure_cleared
from scheduling.services.reminders import (
    series_change_rows,
    visit_reminder_rows,
)
from scheduling.services.transitions import visits_cancel
from scheduling.signals import series_booked
from scheduling.time import to_utc

ALTERNATIVE_SEARCH_DAYS = 7
CANCELLABLE = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)


@dataclass
class Failure:
    index: int
    start: datetime
    error: ApplicationError
    alternative: Placement | None = None


def series_status(series: Series, appointments: list[Appointment]) -> str:
    """Derived, never stored: cancelled, completed (every visit over, one at least completed) or active."""
    statuses = {appointment.status for appointment in appointments}
    if series.cancelled_at is not None or statuses <= {AppointmentStatus.CANCELLED}:
        return SeriesStatus.CANCELLED
    if statuses <= {AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED}:
        return SeriesStatus.COMPLETED
    return SeriesStatus.ACTIVE


# --- placing a set of visits -------------------------------------------------------------------


def _place_all(
    calendar: LocationCalendar,
    protocol: SeriesProtocol,
    service_type: ServiceType,
    patient: Patient,
    starts: list[datetime],
    *,
    resource: Resource | None,
    fixed: list[datetime],
) -> tuple[dict[int, Placement], list[Failure]]:
    """Place each planned start; for those that fail, find the nearest alternative keeping the protocol."""
    placed: dict[int, Placement] = {}
    failures: list[Failure] = []
    for index, start in enumerate(starts):
        if in_dst_gap(start, protocol, calendar.zone):
            error = _dst_gap_error(start, protocol, calendar.zone)
            failures.append(Failure(index=index, start=start, error=error))
            continue
        placement = calendar.placement(service_type, start, patient_id=patient.pk, resource=resource)
        if placement is None:
            error = conflict_error(calendar, service_type, patient, start, resource=resource)
            failures.append(Failure(index=index, start=start, error=error))
        else:
            calendar.hold(placement, patient.pk)
            placed[index] = placement
    for failure in failures:
        taken = [*fixed, *(p.start for p in placed.values()), *(f.alternative.start for f in failures if f.alternative)]
        failure.alternative = _nearest_alternative(
            calendar, protocol, service_type, patient, failure.start, taken=taken, resource=resource
        )
        if failure.alternative is not None:
            calendar.hold(failure.alternative, patient.pk)
    return placed, failures


def _dst_gap_error(start: datetime, protocol: SeriesProtocol, zone: ZoneInfo) -> ApplicationError:
    try:
        to_utc(start.astimezone(zone).date(), protocol.local_time, zone)
    except NonexistentLocalTime as error:
        return error
    raise AssertionError("the visit is not in a gap")  # pragma: no cover


def _nearest_alternative(
    calendar: LocationCalendar,
    protocol: SeriesProtocol,
    service_type: ServiceType,
    patient: Patient,
    original: datetime,
    *,
    taken: list[datetime],
    resource: Resource | None,
) -> Placement | None:
    """The bookable start nearest to ``original`` that keeps the protocol with the other visits.

    Nearest means the nearest day, then the nearest time of day (the day before wins a tie).
    The same chair is preferred at each time; another free one of the same kind is offered when it is not.
    """
    hold = timedelta(minutes=service_type.duration_minutes + service_type.recovery_minutes)
    low = max(calendar.window_start, original - timedelta(days=ALTERNATIVE_SEARCH_DAYS))
    high = min(calendar.window_end, original + timedelta(days=ALTERNATIVE_SEARCH_DAYS))
    starts = calendar.slot_starts(hold)  # sorted: low <= start <= high, and start in the future
    first = max(bisect.bisect_left(starts, low), bisect.bisect_right(starts, timezone.now()))
    last = bisect.bisect_right(starts, high)
    # The protocol's wall-clock time, also for a visit whose time fell in a spring-forward gap.
    wanted_day = original.astimezone(calendar.zone).toordinal()
    wanted_minute = protocol.local_time.hour * 60 + protocol.local_time.minute
    candidates = [
        (abs(day - wanted_day), abs(minute - wanted_minute), start)
        for start, (day, minute) in zip(starts[first:last], calendar.slot_local_days(hold)[first:last], strict=True)
    ]
    candidates.sort()  # nearest day first, then nearest time of day: what a receptionist would offer
    fit = ProtocolFit(protocol, calendar.zone, taken)
    for _days, _minutes, start in candidates:
        if not fit.allows(start):
            continue
        placement = calendar.placement(service_type, start, patient_id=patient.pk, resource=resource)
        if placement is None and resource is not None:
            placement = calendar.placement(service_type, start, patient_id=patient.pk)
        if placement is not None:
            return placement
    return None


def _conflict(zone: ZoneInfo, failures: list[Failure], total: int) -> BookingConflict:
    alternatives = [f for f in failures if f.alternative is not None]
    first = failures[0]
    summary = (
        f"{len(failures)} of {total} visits cannot be booked as asked; the first, "
        f"#{first.index + 1} on {first.start.astimezone(zone):%a %Y-%m-%d %H:%M}: {first.error.detail}"
    )
    if len(alternatives) == len(failures):
        summary += " Alternatives are proposed: send accept_alternatives=true to book with them."
    else:
        summary += " No alternative keeps the protocol for some of them: change the dates, days or rules."
    return BookingConflict(
        summary,
        extra={
            "conflicts": [
                {
                    "index": f.index,
                    "start": zoned(f.start, zone),
                    "reason": f.error.detail,
                    "code": f.error.code,
                    **({"with": f.error.extra["conflicts"]} if f.error.extra.get("conflicts") else {}),
                }
                for f in failures
            ],
            "alternatives": [
                {
                    "index": f.index,
                    "start": zoned(f.alternative.start, zone),
                    "resource": str(f.alternative.resource.public_id),
                    "resource_name": f.alternative.resource.name,
                }
                for f in alternatives
                if f.alternative is not None
            ],
        },
    )


def _write_visits(
    series: Series,
    placements: list[Placement],
    actor: User | None,
    *,
    kind: str,
    service_type: ServiceType,
    sessions: Sequence[tuple[int, Placement]] = (),
    session_service: ServiceType | None = None,
) -> list[Appointment]:
    """Write the series (when new), its visits and the integration sessions following them (``sessions``: the
    visit number each follows, 1-based, and its placement), their staff, the change record and every reminder:
    one ``bulk_create`` per table. A visit taken meanwhile raises the 409; the booking's transaction then
    rolls back whatever was written. Returns the visits, then the sessions."""
    ordered = sorted(placements, key=lambda p: p.start)
    try:
        if series._state.adding:
            series.save(force_insert=True)
        visits = Appointment.objects.bulk_create([
            Appointment(
                patient=series.patient, service_type=service_type, location=series.location, series=series,
                created_by=actor, start=p.start, end=p.end, hold_until=p.hold_until, resource=p.resource,
            )
            for p in ordered
        ])  # fmt: skip
        visits += Appointment.objects.bulk_create([
            Appointment(
                patient=series.patient, service_type=session_service, location=series.location, series=series,
                follows=visits[number - 1], created_by=actor, start=p.start, end=p.end, hold_until=p.hold_until,
                resource=p.resource,
            )
            for number, p in sessions
        ])  # fmt: skip
        ordered += [p for _number, p in sessions]
        teams = [
            [AppointmentStaff(appointment=visit, staff=member, role=role, start=visit.start, end=visit.end)
             for member, role in placement.staff]
            for visit, placement in zip(visits, ordered, strict=True)
        ]  # fmt: skip
        AppointmentStaff.objects.bulk_create([part for team in teams for part in team])
    except IntegrityError as error:
        conflict = constraint_kind(error)
        if conflict is None:
            raise
        raise BookingConflict(
            f"The {conflict} was booked by someone else meanwhile; nothing was booked.",
            extra={"conflicts": [{"kind": conflict}]},
        ) from error
    change, summaries = series_change_rows(patient_id=series.patient_id, kind=kind, actor=actor)
    change.series, change.appointment_ids = series, [visit.pk for visit in visits]
    change.save(force_insert=True)
    Reminder.objects.bulk_create([*summaries, *visit_reminder_rows(visits)])
    for visit, team in zip(visits, teams, strict=True):
        remember_related(visit, "staff_assignments", team)
    return visits


@dataclass
class SeriesPlan:
    """Where each planned visit would go: placed as planned, or failed with the nearest alternative (if any)."""

    zone: ZoneInfo
    placed: dict[int, Placement]
    failures: list[Failure]
    conflict: BookingConflict | None  # the 409 a booking without alternatives answers (None: no failures)

    @property
    def bookable(self) -> bool:
        """Every visit has a place, as planned or by its alternative."""
        return all(failure.alternative is not None for failure in self.failures)


def _plan(
    *,
    location: Location,
    setup: LocationSetup,
    service_type: ServiceType,
    patient: Patient,
    protocol: SeriesProtocol,
    resource: Resource | None,
    fixed: list[datetime],
) -> SeriesPlan:
    """Plan the visits from the protocol and place each against the calendar (nothing is written)."""
    weekdays_open = setup.open_weekdays
    validate_protocol(protocol, weekdays_open)
    starts = plan(protocol, location.zone, weekdays_open, fixed=fixed)
    if starts[0] < timezone.now():
        raise InvalidBookingRequest(
            f"The first visit, {starts[0].astimezone(location.zone):%Y-%m-%d %H:%M}, has already passed.",
            errors={"first_date": ["Must be in the future."]},
        )
    last_visit = starts[-1]
    ensure_cleared(patient, service_type, last_visit, location)  # the latest clearance covers the last visit
    # Alternatives stay within 7 days of a visit, on or after first_date and inside the window.
    window_start = max(
        starts[0] - timedelta(days=ALTERNATIVE_SEARCH_DAYS),
        datetime.combine(protocol.first_date, time.min, tzinfo=location.zone),
    )
    window_end = last_visit + timedelta(days=ALTERNATIVE_SEARCH_DAYS, hours=12)
    if protocol.within_days is not None:
        window_end = min(window_end, datetime.combine(protocol.last_allowed_date, time.max, tzinfo=location.zone))
    calendar = LocationCalendar(location, window_start, window_end, patient_ids=[patient.pk], setup=setup)
    placed, failures = _place_all(calendar, protocol, service_type, patient, starts, resource=resource, fixed=fixed)
    conflict = _conflict(location.zone, failures, len(starts)) if failures else None
    return SeriesPlan(zone=location.zone, placed=placed, failures=failures, conflict=conflict)


def _schedule(
    *,
    location: Location,
    setup: LocationSetup,
    service_type: ServiceType,
    patient: Patient,
    protocol: SeriesProtocol,
    resource: Resource | None,
    accept_alternatives: bool,
    fixed: list[datetime],
) -> list[Placement]:
    """Plan and place the visits; raise the 409 (nothing written) unless every visit has a place."""
    planned = _plan(
        location=location, setup=setup, service_type=service_type, patient=patient, protocol=protocol,
        resource=resource, fixed=fixed,
    )  # fmt: skip
    if planned.conflict is not None and (not accept_alternatives or not planned.bookable):
        raise planned.conflict
    return [*planned.placed.values(), *(f.alternative for f in planned.failures if f.alternative is not None)]


def _place_sessions(
    *,
    location: Location,
    setup: LocationSetup,
    template: SeriesTemplate | None,
    patient: Patient,
    visits: list[Placement],
    local_time: time,
    accept_alternatives: bool,
) -> list[tuple[int, Placement]]:
    """Place the template's integration sessions after the series' placed visits, all or nothing.

    Each session is ``session_days_after`` days after its visit at ``session_local_time`` (default: the
    series' time). One that collides gets the nearest free time from its visit's end to a week after, as a
    visit does; without ``accept_alternatives`` (or without an alternative) the 409 names them and nothing
    is booked. Returns (visit number, placement) pairs.
    """
    if template is None or template.session_service_type is None:
        return []
    service = template.session_service_type
    zone = location.zone
    at = template.session_local_time or local_time
    ordered = sorted(visits, key=lambda p: p.start)
    numbers = [number for number in sorted(set(template.session_after_visits)) if 1 <= number <= len(ordered)]
    hold = timedelta(minutes=service.duration_minutes + service.recovery_minutes)
    placed: list[tuple[int, Placement]] = []
    failures: list[Failure] = []
    for index, number in enumerate(numbers):
        visit = ordered[number - 1]
        day = visit.start.astimezone(zone).date() + timedelta(days=template.session_days_after)
        try:
            start = to_utc(day, at, zone)
        except NonexistentLocalTime as error:
            failures.append(Failure(index=index, start=datetime.combine(day, at, tzinfo=zone), error=error))
            continue
        window_end = start + timedelta(days=ALTERNATIVE_SEARCH_DAYS) + hold
        calendar = LocationCalendar(location, max(visit.hold_until, start - timedelta(days=ALTERNATIVE_SEARCH_DAYS)),
                                    window_end, patient_ids=[patient.pk], setup=setup)  # fmt: skip
        for taken in [*ordered, *(p for _n, p in placed)]:
            calendar.hold(taken, patient.pk)
        placement = calendar.placement(service, start, patient_id=patient.pk)
        if placement is not None:
            placed.append((number, placement))
            continue
        failure = Failure(index=index, start=start,
                          error=conflict_error(calendar, service, patient, start, resource=None))  # fmt: skip
        failure.alternative = _nearest_alternative(
            calendar, SeriesProtocol(count=1, first_date=day, local_time=at), service, patient, start, taken=[],
            resource=None,
        )  # fmt: skip
        failures.append(failure)
        if failure.alternative is not None:
            placed.append((number, failure.alternative))
    if failures and (not accept_alternatives or any(f.alternative is None for f in failures)):
        conflict = _conflict(zone, failures, len(numbers))
        for entry in [*conflict.extra["conflicts"], *conflict.extra["alternatives"]]:
            entry["session_after_visit"] = numbers[entry["index"]]  # "index" counts the sessions
        raise BookingConflict(f"Integration sessions: {conflict.detail}", extra=conflict.extra)
    return placed


# --- services ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesRequest:
    """What a new series is asked for: the template (if any) merged with the rules given."""

    patient: Patient
    location: Location
    service_type: ServiceType
    template: SeriesTemplate | None
    protocol: SeriesProtocol
    resource: Resource | None


def series_request(
    *,
    patient: Patient,
    location: Location,
    first_date: date,
    service_type: ServiceType | None = None,
    template: SeriesTemplate | None = None,
    rules: ProtocolRules = ProtocolRules(),  # noqa: B008 - frozen
    resource: Resource | None = None,
) -> SeriesRequest:
    """Check and merge a new series' input: the protocol is the template's (if any) with every rule given in
    ``rules`` winning; the service type is the template's unless given."""
    if template is not None and template.location_id not in (None, location.pk):
        raise ValidationFailed(
            "This template belongs to another location.", errors={"template": ["Belongs to another location."]}
        )
    service_type = service_type or (template.service_type if template is not None else None)
    if service_type is None:
        raise ValidationFailed("Give the service type, or a template.", errors={"service_type": ["Required."]})
    protocol = protocol_from(first_date=first_date, template=template, rules=rules)
    _ensure_same_group(patient, service_type, location)
    _validate_choices(location, service_type, resource, ())
    return SeriesRequest(patient, location, service_type, template, protocol, resource)


def series_plan(request: SeriesRequest) -> SeriesPlan:
    """Where the series' visits would go if booked now, and the alternatives for those that collide.

    Nothing is written or locked: a screen shows it before reception confirms; the booking plans again.
    """
    location = request.location
    return _plan(
        location=location, setup=location_setup(location.pk, version=location.setup_version),
        service_type=request.service_type, patient=request.patient, protocol=request.protocol,
        resource=request.resource, fixed=[],
    )  # fmt: skip


@transaction.atomic  # not durable: it may run inside run_idempotent's transaction
def series_book(*, actor: User | None, request: SeriesRequest, accept_alternatives: bool = False) -> Series:
    """Book every visit of a series (``series_request`` checked and merged its input) in one transaction, or nothing.

    ``request.location`` is the row as read for this request: its ``setup_version`` picks the setup in memory.
    The series comes back with its visits and their staff in hand, so the answer needs no read-back.
    """
    location, patient, protocol = request.location, request.patient, request.protocol
    setup = location_setup(location.pk, version=location.setup_version)
    lock_booking_scope(patient_ids=[patient.pk], setups=[setup])
    placements = _schedule(
        location=location, setup=setup, service_type=request.service_type, patient=patient, protocol=protocol,
        resource=request.resource, accept_alternatives=accept_alternatives, fixed=[],
    )  # fmt: skip
    series = Series(
        patient=patient, service_type=request.service_type, location=location, template=request.template,
        count=protocol.count, first_date=protocol.first_date, local_time=protocol.local_time,
        weekdays=list(protocol.weekdays), min_gap_hours=protocol.min_gap_hours, max_per_week=protocol.max_per_week,
        within_days=protocol.within_days, resource=request.resource, created_by=actor,
    )  # fmt: skip
    sessions = _place_sessions(
        location=location, setup=setup, template=request.template, patient=patient, visits=placements,
        local_time=protocol.local_time, accept_alternatives=accept_alternatives,
    )  # fmt: skip
    visits = _write_visits(
        series, placements, actor, kind=SeriesChangeKind.BOOKED, service_type=request.service_type,
        sessions=sessions, session_service=request.template.session_service_type if request.template else None,
    )  # fmt: skip
    in_order: list[Appointment] = sorted(visits, key=lambda visit: visit.start)
    remember_related(series, "appointments", in_order)
    series_booked.send(sender=Series, series=series, actor=actor)
    return series


@transaction.atomic
def series_extend(
    *,
    actor: User | None,
    series: Series,
    count: int,
    first_date: date | None = None,
    local_time: time | None = None,
    service_type: ServiceType | None = None,
    accept_alternatives: bool = False,
) -> list[Appointment]:
    """Add visits (maintenance boosters) to a series, keeping its gap and per-week rules with the visits it has.

    The new visits may use another service type of the same resource kind (a booster after an induction).
    """
    setup = location_setup(series.location_id)
    lock_booking_scope(patient_ids=[series.patient_id], setups=[setup])
    series = (
        Series.objects.select_for_update(of=("self",))
        .select_related("patient", "location", "service_type")
        .get(pk=series.pk)
    )
    if series.cancelled_at is not None:
        raise InvalidBookingRequest("A cancelled series cannot be extended; book a new one.")
    service = service_type or series.service_type
    if service.group_id != series.location.group_id:
        raise InvalidBookingRequest("That service is not offered here.", errors={"service_type": ["Other group."]})
    active = list(
        series.appointments.filter(follows__isnull=True).exclude(
            status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW]
        )
    )  # its visits; integration sessions keep no protocol
    fixed = [appointment.start for appointment in active]
    zone = series.location.zone
    if first_date is None:
        last = max(fixed, default=timezone.now())
        first_date = (last + timedelta(hours=series.min_gap_hours)).astimezone(zone).date() + timedelta(days=1)
    protocol = protocol_of(series).extended(count=count, first_date=first_date, local_time=local_time)
    if service.resource_kind != series.service_type.resource_kind:
        raise InvalidBookingRequest(
            f"{service.name} needs a {service.resource_kind}; this series uses {series.service_type.resource_kind}s.",
            errors={"service_type": ["Must use the same kind of chair or room as the series."]},
        )
    placements = _schedule(
        location=series.location, setup=setup, service_type=service, patient=series.patient, protocol=protocol,
        resource=series.resource, accept_alternatives=accept_alternatives, fixed=fixed,
    )  # fmt: skip
    visits = _write_visits(series, placements, actor, kind=SeriesChangeKind.EXTENDED, service_type=service)
    Series.objects.filter(pk=series.pk).update(count=series.count + count)
    return visits


@change_transaction()
def series_cancel(*, actor: User | None, series: Series, reason: str, from_: datetime | None = None) -> Series:
    """Cancel the series' remaining visits (from ``from_``, default now): one change, one message.

    Each visit is cancelled as a single cancellation would be (``visits_cancel``): late ones get the
    location's fee draft, and every visit's status change reaches billing.
    """
    if not reason.strip():
        raise InvalidBookingRequest("Give a reason for the cancellation.", errors={"reason": ["Required."]})
    series = Series.objects.select_for_update(of=("self",)).select_related("location").get(pk=series.pk)
    now = timezone.now()
    cutoff = max(from_ or now, now)
    remaining = list(
        series.appointments.select_for_update(of=("self",))
        .select_related("location", "patient", "service_type")
        .filter(start__gte=cutoff, status__in=CANCELLABLE)
        .order_by("start")
    )
    if not remaining:
        raise InvalidBookingRequest("No remaining visits of this series can be cancelled.")
    visits_cancel(actor=actor, appointments=remaining, reason=reason, series_id=series.pk)
    if not series.appointments.filter(start__gte=now, status__in=CANCELLABLE).exists():
        series.cancelled_at = now
        series.cancel_reason = reason.strip()
        series.save(update_fields=["cancelled_at", "cancel_reason"])
    return series
