"""Reception's day board: one lane per chair or room and per staff member on shift, time across.

Positions are percentages of the day's span (the location's opening hours in
its own zone, widened to whole hours and to any visit outside them), so the
template only places boxes. Built in a fixed number of queries whatever the
number of visits: the location's setup (cached per version), the visits with
their patient, service and staff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.urls import reverse

from scheduling import selectors
from scheduling.booking.location_setup import location_setup
from scheduling.models import Appointment, AppointmentStatus, Location, holding_during
from scheduling.time import Interval, merge_intervals

DEFAULT_HOURS = (time(8), time(18))  # the span drawn for a day the location is closed
BOARD_FIELDS = (  # what a block shows: the rest of each row is left in the database
    "public_id", "status", "start", "end", "hold_until", "cancelled_late", "resource", "location", "patient",
    "service_type", "series", "patient__first_name", "patient__last_name", "service_type__name",
    "resource__name", "resource__kind", "location__timezone", "series__public_id",
)  # fmt: skip


@dataclass
class Block:
    left: str  # percent of the day's span, written for CSS (the template prints it as it is)
    width: str
    recovery: str  # percent of the block's own width that is recovery (the hold after the visit)
    label: str  # "09:00 Alex Rivera"
    status: str
    detail: str  # the service, and in a chair or room lane the status
    url: str  # the visit's panel ("" in a staff lane, which links nothing)


@dataclass
class Lane:
    name: str
    kind: str  # "chair", "room" or "staff"
    blocks: list[Block] = field(default_factory=list)
    closed: list[tuple[str, str]] = field(default_factory=list)  # (left, width) greyed: shut or off shift


@dataclass
class DayBoard:
    location: Location
    day: date
    start: datetime
    end: datetime
    is_closed: bool
    hours: list[tuple[str, str]]  # ("09:00", left %)
    lanes: list[Lane]
    cancelled: list[Appointment]

    @property
    def first_staff_lane(self) -> int:
        """Where the staff lanes begin (they follow the chairs and rooms)."""
        return next((index for index, lane in enumerate(self.lanes) if lane.kind == "staff"), len(self.lanes))

    @property
    def previous_day(self) -> date:
        return self.day - timedelta(days=1)

    @property
    def next_day(self) -> date:
        return self.day + timedelta(days=1)


def _local(day: date, wall: time, location: Location) -> datetime:
    return datetime.combine(day, wall, tzinfo=location.zone)


def _span(day: date, location: Location, open_intervals: list[Interval], visits: list[Appointment]) -> Interval:
    """Whole local hours covering the opening hours and every visit's hold that day."""
    if open_intervals:
        start, end = open_intervals[0][0], open_intervals[-1][1]
    else:
        start, end = _local(day, DEFAULT_HOURS[0], location), _local(day, DEFAULT_HOURS[1], location)
    day_start, day_end = _local(day, time.min, location), _local(day + timedelta(days=1), time.min, location)
    for visit in visits:
        start, end = min(start, max(visit.start, day_start)), max(end, min(visit.hold_until, day_end))
    zone = location.zone
    local_start = start.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    local_end = end.astimezone(zone)
    if local_end.minute or local_end.second or local_end.microsecond:
        local_end = _add_hour(local_end.replace(minute=0, second=0, microsecond=0))
    return local_start, local_end


def _add_hour(instant: datetime) -> datetime:
    """An hour later in real time, shown in the same zone (a DST change day has 23 or 25 hours)."""
    return (instant.astimezone(UTC) + timedelta(hours=1)).astimezone(instant.tzinfo)


def _css(percent: float) -> str:
    """A percentage as CSS takes it: plain digits, three decimals at most (no locale formatting)."""
    return f"{percent:.3f}".rstrip("0").rstrip(".")


class _Scale:
    def __init__(self, start: datetime, end: datetime) -> None:
        self.start, self.seconds = start, (end - start).total_seconds()

    def at(self, instant: datetime) -> float:
        return min(max((instant - self.start).total_seconds() / self.seconds, 0.0), 1.0) * 100

    def segment(self, start: datetime, end: datetime) -> tuple[str, str]:
        left = self.at(start)
        return _css(left), _css(self.at(end) - left)


def _gaps(span: Interval, covered: list[Interval]) -> list[Interval]:
    """The parts of ``span`` outside ``covered`` (merged, sorted)."""
    gaps, cursor = [], span[0]
    for start, end in covered:
        if start > cursor:
            gaps.append((cursor, min(start, span[1])))
        cursor = max(cursor, end)
    if cursor < span[1]:
        gaps.append((cursor, span[1]))
    return [gap for gap in gaps if gap[0] < gap[1]]


def _block(
    visit: Appointment, start: datetime, end: datetime, hold_until: datetime, scale: _Scale, *, url: str
) -> Block:
    left, width = scale.segment(start, hold_until)
    held = (hold_until - start).total_seconds()
    recovery = (hold_until - end).total_seconds() / held * 100 if held > 0 else 0.0
    local = visit.start.astimezone(visit.location.zone)
    label = f"{local:%H:%M} {visit.patient.first_name} {visit.patient.last_name}"
    detail = f"{visit.service_type.name} · {visit.get_status_display()}" if url else visit.service_type.name
    return Block(left=left, width=width, recovery=_css(max(recovery, 0.0)), label=label,
                 status=visit.status, detail=detail, url=url)  # fmt: skip


def day_board(user: Any, location: Location, day: date) -> DayBoard:
    """The board of ``location`` on its local date ``day``, with the visits ``user`` may see."""
    zone = location.zone
    setup = location_setup(location.pk)
    day_start, day_end = _local(day, time.min, location), _local(day + timedelta(days=1), time.min, location)
    visits = list(
        selectors.appointments_for(user)
        .filter(holding_during(day_start, day_end), location=location)
        .only(*BOARD_FIELDS)
        .order_by("start", "pk")
    )
    cancelled = [visit for visit in visits if visit.status == AppointmentStatus.CANCELLED]
    visits = [visit for visit in visits if visit.status != AppointmentStatus.CANCELLED]
    open_intervals = setup.intervals(None, zone, day, day)
    span = _span(day, location, open_intervals, visits)
    scale = _Scale(*span)
    shut = [scale.segment(*gap) for gap in _gaps(span, merge_intervals(open_intervals))]

    panel_url = reverse("console:visit", args=["-id-"])  # reversed once, filled per visit
    lanes_by_resource: dict[int, Lane] = {}
    for resource in setup.resources:
        lanes_by_resource[resource.pk] = Lane(name=resource.name, kind=resource.kind, closed=list(shut))
    staff_lanes: dict[int, Lane] = {}
    for member in setup.staff:
        shifts = setup.intervals(member.pk, zone, day, day)
        if shifts:
            off = [scale.segment(*gap) for gap in _gaps(span, shifts)]
            staff_lanes[member.pk] = Lane(name=member.name, kind="staff", closed=off)
    for visit in visits:
        lane = lanes_by_resource.get(visit.resource_id)
        if lane is None:  # a chair since retired still shows what it held
            lane = lanes_by_resource[visit.resource_id] = Lane(name=visit.resource.name, kind=visit.resource.kind)
        url = panel_url.replace("-id-", str(visit.public_id))
        lane.blocks.append(_block(visit, visit.start, visit.end, visit.hold_until, scale, url=url))
        for part in visit.staff_assignments.all():
            staff_lane = staff_lanes.get(part.staff_id)
            if staff_lane is None:
                staff_lane = staff_lanes[part.staff_id] = Lane(
                    name=part.staff.name, kind="staff", closed=[("0", "100")]
                )
            staff_lane.blocks.append(_block(visit, part.start, part.end, part.end, scale, url=""))

    hours = []
    cursor = span[0]
    while cursor < span[1]:
        hours.append((f"{cursor:%H:%M}", _css(scale.at(cursor))))
        cursor = _add_hour(cursor)
    return DayBoard(
        location=location, day=day, start=span[0], end=span[1], is_closed=not open_intervals, hours=hours,
        lanes=[*lanes_by_resource.values(), *staff_lanes.values()], cancelled=cancelled,
    )  # fmt: skip
