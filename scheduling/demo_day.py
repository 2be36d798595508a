"""A clinic day on the demo's day boards (Boston): the rest of today and the next open day, booked and moved
on through the same services as the API, so every rule holds.

The services refuse starts in the past and changes before their time (check-in opens 2 hours ahead), so the
demo never invents history: today's board shows the visits from now until closing, the nearest ones already
checked in or started, one cancelled late; the next open day is full (infusions in every chair, a KAP session
with a physician and a therapist, an integration session, a consultation) and two induction series begin.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from backend.errors import ApplicationError
from backend.models import ClinicGroup, User
from scheduling.booking.protocol import ProtocolRules
from scheduling.models import (
    Appointment,
    Clearance,
    ClearanceStatus,
    Location,
    Patient,
    SeriesTemplate,
    ServiceType,
)
from scheduling.services.appointments import appointment_book
from scheduling.services.availability import AvailabilityQuery, availability_search
from scheduling.services.series import series_book, series_request
from scheduling.services.transitions import appointment_transition
from scheduling.time import to_utc

DAY_PATIENTS = [  # Boston patients of the demo day, each cleared for infusions
    ("Riley", "Harper", date(1990, 3, 2)), ("Jordan", "Kim", date(1975, 11, 19)),
    ("Avery", "Santos", date(1983, 6, 8)), ("Quinn", "Walsh", date(1995, 2, 14)),
    ("Drew", "Okafor", date(1971, 8, 27)), ("Reese", "Novak", date(1988, 12, 3)),
    ("Skyler", "Banerjee", date(1999, 5, 30)), ("Emerson", "Costa", date(1964, 10, 11)),
    ("Parker", "Ivanova", date(1981, 1, 23)), ("Rowan", "Mensah", date(1993, 9, 9)),
    ("Hayden", "Lindqvist", date(1977, 4, 16)), ("Sage", "Moreau", date(1986, 7, 4)),
    ("Kendall", "Takahashi", date(1969, 3, 28)), ("Blake", "Oduya", date(1991, 11, 2)),
]  # fmt: skip
TODAY_STATUSES = ("in_progress", "checked_in", "confirmed", "cancelled", "scheduled", "confirmed")
NEXT_DAY_INFUSIONS = [time(8, 0), time(8, 30), time(9, 15), time(10, 0), time(10, 45), time(11, 30), time(13, 0),
                      time(13, 45), time(14, 30)]  # fmt: skip
ACTIONS = {
    "in_progress": ("check_in", "start"), "checked_in": ("check_in",), "confirmed": ("confirm",),
    "cancelled": ("cancel",), "scheduled": (),
}  # fmt: skip


def seed_day(group: ClinicGroup) -> int:
    """Book the demo day; returns the visits booked (fewer when the calendar cannot take some)."""
    boston = Location.objects.get(group=group, name__endswith="Boston")
    patients = _day_patients(group)
    services = {service.code: service for service in ServiceType.objects.filter(group=group)}
    booked = _rest_of_today(boston, services["infusion-40"], patients)
    day = _next_open_day(boston, services["consultation"])
    if day is None:
        return booked
    booked += _full_day(boston, day, services, patients[:12])
    return booked + _two_series(group, boston, day, patients[12:14])


def _day_patients(group: ClinicGroup) -> list[Patient]:
    clinician = User.objects.filter(username="clinician").first() or User.objects.filter(is_superuser=True).first()
    patients = []
    for index, (first, last, born) in enumerate(DAY_PATIENTS):
        patient = Patient.objects.create(
            group=group, first_name=first, last_name=last, date_of_birth=born, timezone="America/New_York",
            email=f"{first.lower()}.{last.lower()}@demo.clinic.invalid", phone=f"+1617555{200 + index:04d}",
            email_consent=True, sms_consent=index % 3 != 0,
            designated_driver=f"Driver of {first}, +1617555{300 + index:04d}",
            referring_provider="Dr. Lena Ortiz, psychiatrist", diagnosis_codes=["F33.1" if index % 2 else "F43.10"],
        )  # fmt: skip
        if clinician is not None:
            Clearance.objects.create(
                patient=patient, status=ClearanceStatus.CLEARED, valid_until=timezone.localdate() + timedelta(days=365),
                notes="Intake assessment complete.", recorded_by=clinician,
            )  # fmt: skip
        patients.append(patient)
    return patients


def _book(location: Location, service: ServiceType, patient: Patient, start: datetime) -> Appointment | None:
    try:
        return appointment_book(actor=None, patient=patient, service_type=service, location=location, start=start)
    except ApplicationError:  # chair, staff or patient taken, closed: the demo books what fits
        return None


def _move_to(visit: Appointment, status: str) -> None:
    for action in ACTIONS[status]:
        try:
            visit = appointment_transition(actor=None, appointment=visit, action=action, reason="Feeling unwell")
        except ApplicationError:  # not yet possible at this hour: the visit keeps the status it reached
            return


def _rest_of_today(location: Location, infusion: ServiceType, patients: list[Patient]) -> int:
    """From the next quarter hour after now until closing, an infusion every 45 minutes, one per patient."""
    now = timezone.now()
    start = (now + timedelta(minutes=25)).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 15)
    today = timezone.localdate(timezone=location.zone)
    booked = 0
    for patient in patients[:8]:
        while start.astimezone(location.zone).date() == today:
            visit = _book(location, infusion, patient, start)
            start += timedelta(minutes=45)
            if visit is not None:
                _move_to(visit, TODAY_STATUSES[booked % len(TODAY_STATUSES)])
                booked += 1
                break
    return booked


def _next_open_day(location: Location, probe: ServiceType) -> date | None:
    """The first day after today with a free start for ``probe`` (the availability search; nothing is booked)."""
    day = timezone.localdate(timezone=location.zone)
    for _ in range(14):
        day += timedelta(days=1)
        window = AvailabilityQuery(location=location, service_type=probe,
                                   window_start=to_utc(day, time(0), location.zone),
                                   window_end=to_utc(day + timedelta(days=1), time(0), location.zone))  # fmt: skip
        if availability_search(window):
            return day
    return None


def _full_day(location: Location, day: date, services: dict[str, ServiceType], patients: list[Patient]) -> int:
    """Nine infusions, a KAP session (physician and therapist), a consultation and an integration session."""
    at = lambda hour: to_utc(day, hour, location.zone)  # noqa: E731 - local time of that day
    visits = [_book(location, services["infusion-40"], patient, at(moment))
              for patient, moment in zip(patients[:9], NEXT_DAY_INFUSIONS, strict=True)]  # fmt: skip
    visits += [
        _book(location, services["kap"], patients[9], at(time(9, 0))),
        _book(location, services["consultation"], patients[10], at(time(11, 45))),
        _book(location, services["integration"], patients[11], at(time(14, 0))),
    ]
    placed = [visit for visit in visits if visit is not None]
    for index, visit in enumerate(placed):
        if index % 2 == 0:
            _move_to(visit, "confirmed")
    return len(placed)


def _two_series(group: ClinicGroup, location: Location, day: date, patients: list[Patient]) -> int:
    """Two induction series (6 infusions within 21 days, 48 hours apart) from that day, on any weekday."""
    template = SeriesTemplate.objects.get(group=group, name__startswith="Induction")
    booked = 0
    for patient, hour in zip(patients, (time(12, 15), time(15, 0)), strict=True):
        rules = ProtocolRules(local_time=hour, weekdays=(0, 1, 2, 3, 4))
        try:
            asked = series_request(patient=patient, location=location, first_date=day, template=template, rules=rules)
            series = series_book(actor=None, request=asked, accept_alternatives=True)
        except ApplicationError:
            continue
        _move_to(series.appointments.order_by("start")[0], "confirmed")
        booked += series.appointments.count()
    return booked
