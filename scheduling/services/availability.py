"""Availability search: every start where the location is open and a resource and the staff are free."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from scheduling.booking.calendar import LocationCalendar, Placement
from scheduling.models import Location, Patient, ServiceType

MAX_WINDOW = timedelta(days=62)


@dataclass(frozen=True)
class AvailabilityQuery:
    location: Location
    service_type: ServiceType
    window_start: datetime
    window_end: datetime
    patient: Patient | None = None


def availability_search(query: AvailabilityQuery) -> list[Placement]:
    """Bookable placements whose start lies in the window (and not in the past), in time order."""
    service_type = query.service_type
    hold = timedelta(minutes=service_type.duration_minutes + service_type.recovery_minutes)
    start = max(query.window_start, timezone.now())
    calendar = LocationCalendar(query.location, start, query.window_end)
    patient_id = query.patient.pk if query.patient is not None else None
    placements = []
    for moment in calendar.slot_starts(hold):
        placement = calendar.placement(service_type, moment, patient_id=patient_id)
        if placement is not None:
            placements.append(placement)
    return placements
