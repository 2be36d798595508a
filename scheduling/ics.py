"""Visits as iCalendar (RFC 5545) with the ``icalendar`` library: private feeds and email attachments.

Every visit is one event with a stable UID (its public id), a SEQUENCE that goes up on every move or
cancellation (``Appointment.calendar_sequence``) and times with the location's TZID and a VTIMEZONE, so a
calendar client shows 09:00 as 09:00 across a DST change and replaces the event it already has.
A patient's events say "Clinic visit", the clinic, its address and the arrive-by time: never a service,
diagnosis or drug. A staff member's say the patient's initials and the service's code.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Literal
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, Timezone

from scheduling.models import Appointment, AppointmentStatus

Audience = Literal["patient", "staff"]
PRODID = "-//Ketamine clinic backend//Visits//EN"


def _domain() -> str:
    return urlsplit(settings.PUBLIC_BASE_URL).hostname or "clinic.invalid"


def visit_uid(appointment: Appointment) -> str:
    return f"visit-{appointment.public_id}@{_domain()}"


def visit_event(appointment: Appointment, audience: Audience) -> Event:
    """``appointment`` with its location, patient and service type loaded."""
    location = appointment.location
    zone = location.zone
    event = Event()
    event.add("uid", visit_uid(appointment))
    event.add("sequence", appointment.calendar_sequence)
    event.add("dtstamp", appointment.updated_at or timezone.now())
    event.add("dtstart", appointment.start.astimezone(zone))
    event.add("dtend", appointment.end.astimezone(zone))
    if audience == "patient":
        arrive = appointment.start - timedelta(minutes=appointment.service_type.arrive_early_minutes)
        event.add("summary", f"Clinic visit: {location.name}")
        event.add("location", location.address or location.name)
        event.add("description", f"Please arrive by {arrive.astimezone(zone):%H:%M}. Questions: {location.phone}.")
    else:
        patient = appointment.patient
        event.add("summary", f"{patient.first_name[:1]}.{patient.last_name[:1]}. {appointment.service_type.code}")
        event.add("location", f"{location.name}, {appointment.resource.name}")
    if appointment.status == AppointmentStatus.CANCELLED:
        event.add("status", "CANCELLED")
    return event


def calendar_bytes(appointments: Iterable[Appointment], audience: Audience, *, method: str | None = None) -> bytes:
    """A VCALENDAR of the visits, with a VTIMEZONE for every zone used; ``method`` for an email (REQUEST, CANCEL)."""
    visits = list(appointments)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    for zone, years in _years_by_zone(visits).items():
        calendar.add_component(vtimezone(zone, min(years), max(years)))
    for appointment in visits:
        calendar.add_component(visit_event(appointment, audience))
    return bytes(calendar.to_ical())


def _years_by_zone(visits: Iterable[Appointment]) -> dict[str, set[int]]:
    years: dict[str, set[int]] = {}
    for visit in visits:
        zone = visit.location.zone
        years.setdefault(zone.key, set()).update((visit.start.astimezone(zone).year, visit.end.astimezone(zone).year))
    return years


@functools.lru_cache(maxsize=512)
def vtimezone(zone: str, first_year: int, last_year: int) -> Timezone:
    """The zone's VTIMEZONE for these calendar years: their transitions only, built once per process.

    Building one walks every transition in its range; the library's default range (1970-2038) made it most of an
    email's cost. Callers add it to a calendar and never change it.
    """
    return Timezone.from_tzid(zone, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1))
