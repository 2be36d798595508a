"""The benchmark clinic, generated deterministically: 8 chairs, 4 nurses, 4 weeks of existing bookings."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.authtoken.models import Token

from backend.models import ClinicGroup, User
from scheduling.models import (
    Appointment,
    AppointmentStaff,
    Clearance,
    ClearanceStatus,
    Location,
    OpeningRule,
    Patient,
    Resource,
    ResourceKind,
    ServiceType,
    Shift,
    StaffMember,
    StaffRole,
)
from scheduling.time import to_utc

SEED = 20261121
CHAIRS = 8
NURSES = 4
WEEKS = 4


@dataclass
class Dataset:
    location: Location
    service_type: ServiceType
    patients: list[Patient]
    token: str
    user: User
    first_monday: dt.date
    existing: int


def build(*, patients: int) -> Dataset:
    rng = random.Random(SEED)
    user = User.objects.create(username="bench-reception", is_staff=False)
    user.groups.add(Group.objects.get(name="reception"))
    token = Token.objects.create(user=user).key
    group = ClinicGroup.objects.create(name="Bench clinics")
    group.members.add(user)
    location = Location.objects.create(group=group, name="Bench", timezone="America/New_York", currency="USD")
    for weekday in range(5):
        OpeningRule.objects.create(location=location, weekday=weekday, opens=dt.time(8), closes=dt.time(16, 30))
    chairs = [Resource.objects.create(location=location, name=f"Chair {n + 1}", kind=ResourceKind.CHAIR)
              for n in range(CHAIRS)]  # fmt: skip
    nurses = []
    for n in range(NURSES):
        nurse = StaffMember.objects.create(group=group, name=f"Nurse {n + 1}", roles=[StaffRole.NURSE])
        nurse.locations.add(location)
        for weekday in range(5):
            Shift.objects.create(staff=nurse, location=location, weekday=weekday, opens=dt.time(8),
                                 closes=dt.time(16, 30))  # fmt: skip
        nurses.append(nurse)
    service = ServiceType.objects.create(
        group=group, code="infusion", name="Infusion", duration_minutes=40, recovery_minutes=60,
        resource_kind=ResourceKind.CHAIR, staff_roles=[StaffRole.NURSE], requires_clearance=True,
        price=Decimal("450.00"), billing_codes=["96365", "J3490"],
    )  # fmt: skip
    people = Patient.objects.bulk_create(
        Patient(group=group, first_name=f"Bench{n}", last_name="Patient", date_of_birth=dt.date(1980, 1, 1) +
                dt.timedelta(days=n % 7000), email=f"bench{n}@example.com")
        for n in range(patients)
    )  # fmt: skip
    Clearance.objects.bulk_create(
        Clearance(patient=p, status=ClearanceStatus.CLEARED, valid_until=dt.date(2099, 1, 1), recorded_by=user)
        for p in people
    )
    today = timezone.localdate()
    first_monday = today + dt.timedelta(days=7 - today.weekday() + 7)
    days = [first_monday + dt.timedelta(days=offset) for offset in range(WEEKS * 7)]
    existing = _existing_bookings(rng, location, service, chairs, nurses, people, days, share=0.5)
    return Dataset(location, service, people, token, user, first_monday, existing)


def fill_day(data: Dataset, day: dt.date) -> int:
    """Every slot of every chair on ``day`` (a weekday none of the benchmarks books): a full clinic day."""
    chairs = list(Resource.objects.filter(location=data.location).order_by("name"))
    nurses = list(StaffMember.objects.filter(locations=data.location).order_by("name"))
    return _existing_bookings(random.Random(SEED), data.location, data.service_type, chairs, nurses, data.patients,
                              [day], share=1.0)  # fmt: skip


def _existing_bookings(  # noqa: PLR0917 - private helper of build()
    rng: random.Random,
    location: Location,
    service: ServiceType,
    chairs: list[Resource],
    nurses: list[StaffMember],
    people: list[Patient],
    days: list[dt.date],
    *,
    share: float,
) -> int:
    """About ``share`` of every chair's slots on the weekdays of ``days``. Nurse k serves chairs 2k and 2k+1,
    whose visits start 50 minutes apart, so no nurse, chair or patient is ever double-booked."""
    zone = location.zone
    pool = iter(people[len(people) // 2 :])
    rows: list[tuple[Appointment, StaffMember]] = []
    for day in days:
        if day.weekday() >= 5:
            continue
        for index, chair in enumerate(chairs):
            start = to_utc(day, dt.time(8, 0), zone) + dt.timedelta(minutes=50 * (index % 2))
            close = to_utc(day, dt.time(16, 30), zone)
            while start + dt.timedelta(minutes=100) <= close:
                if rng.random() < share:
                    appointment = Appointment(
                        patient=next(pool), service_type=service, location=location, resource=chair, start=start,
                        end=start + dt.timedelta(minutes=40), hold_until=start + dt.timedelta(minutes=100),
                    )  # fmt: skip
                    rows.append((appointment, nurses[index // 2]))
                start += dt.timedelta(minutes=100)
    Appointment.objects.bulk_create([appointment for appointment, _ in rows])
    AppointmentStaff.objects.bulk_create(
        AppointmentStaff(appointment=a, staff=nurse, role=StaffRole.NURSE, start=a.start, end=a.end)
        for a, nurse in rows
    )
    return len(rows)
