"""Demo clinic group: two locations in different zones, chairs, rooms, staff, services, patients, bookings."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from backend.errors import ApplicationError
from backend.models import ClinicGroup, User
from scheduling.demo_day import DAY_PATIENTS, seed_day
from scheduling.models import (
    Clearance,
    ClearanceStatus,
    Location,
    OpeningRule,
    Patient,
    Resource,
    ResourceKind,
    SeriesTemplate,
    ServiceType,
    Shift,
    StaffMember,
    StaffRole,
)
from scheduling.services.appointments import appointment_book
from scheduling.services.series import series_book, series_request
from scheduling.services.transitions import appointment_confirm
from scheduling.services.waitlist import EntryFields, waitlist_entry_add
from scheduling.time import to_utc

GROUP_NAME = "Evergreen Ketamine Clinics"
ALTERNATE_FRIDAY_ANCHOR = date(2026, 11, 6)  # a Friday the clinics open; then every other Friday
WEEKLY_HOURS = [(weekday, time(8, 0), time(16, 30), 1, None) for weekday in range(4)] + [
    (4, time(8, 0), time(16, 30), 2, ALTERNATE_FRIDAY_ANCHOR)
]
LOCATIONS = [
    ("Evergreen Boston", "America/New_York", "350 Longwood Ave, Boston, MA 02115", "+16175550100"),
    ("Evergreen Portland", "America/Los_Angeles", "1120 NW Couch St, Portland, OR 97209", "+15035550100"),
]
SERVICES = [
    # code, name, minutes, recovery, resource, roles, clearance, price, codes, fasting, driver
    ("infusion-40", "IV infusion, 40 minutes", 40, 60, ResourceKind.CHAIR, [StaffRole.NURSE], True, "450.00",
     ["96365", "J3490"], 6, True),
    ("infusion-60", "IV infusion, 60 minutes", 60, 60, ResourceKind.CHAIR, [StaffRole.NURSE], True, "550.00",
     ["96365", "96366", "J3490"], 6, True),
    ("kap", "Assisted psychotherapy session", 120, 30, ResourceKind.ROOM, [StaffRole.PHYSICIAN, StaffRole.THERAPIST],
     True, "900.00", ["99214-25", "90837"], 6, True),
    ("integration", "Integration session", 50, 0, ResourceKind.ROOM, [StaffRole.THERAPIST], False, "200.00",
     ["90837"], 0, False),
    ("consultation", "Consultation", 30, 0, ResourceKind.ROOM, [StaffRole.PHYSICIAN], False, "250.00", ["99204"], 0,
     False),
]  # fmt: skip
PREP = (
    "No food for 6 hours before your visit; clear fluids until 2 hours before. Wear comfortable clothing. "
    "Arrange a driver: you cannot drive until the next day."
)


def seed(*, password: str) -> str:
    if ClinicGroup.objects.filter(name=GROUP_NAME).exists():
        return "already loaded"
    with transaction.atomic():
        group = _clinics()
        patients = _patients(group)
    booked = _bookings(group, patients)
    _waitlist(group, patients)
    day = seed_day(group)
    return f"{GROUP_NAME}: 2 locations, {len(patients) + len(DAY_PATIENTS)} patients, {booked + day} appointments"


def _clinics() -> ClinicGroup:
    group = ClinicGroup.objects.create(name=GROUP_NAME)
    group.members.add(*User.objects.filter(username__in=["admin", "reception", "clinician", "accountant"]))
    for code, name, minutes, recovery, kind, roles, clearance, price, codes, fasting, driver in SERVICES:
        ServiceType.objects.create(
            group=group, code=code, name=name, duration_minutes=minutes, recovery_minutes=recovery,
            resource_kind=kind, staff_roles=roles, requires_clearance=clearance, price=Decimal(price),
            currency="USD", billing_codes=codes, reminder_offsets_hours=[72, 24, 2],
            prep_instructions=PREP if fasting else "", fasting_hours=fasting, arrive_early_minutes=15,
            requires_driver=driver,
        )  # fmt: skip
    people = [
        ("Dr. Maya Chen", [StaffRole.PHYSICIAN], "1245319599", "clinician"),
        ("Jordan Ellis, RN", [StaffRole.NURSE], "", None),
        ("Casey Morgan, RN", [StaffRole.NURSE], "", None),
        ("Sam Patel, LCSW", [StaffRole.THERAPIST], "1922047331", None),
    ]
    induction = ServiceType.objects.get(group=group, code="infusion-40")
    SeriesTemplate.objects.create(
        group=group, name="Induction: 6 in 21 days", service_type=induction, count=6, weekdays=[0, 2, 4],
        local_time=time(9, 0), min_gap_hours=48, max_per_week=3, within_days=21,
    )  # fmt: skip
    SeriesTemplate.objects.create(
        group=group, name="Maintenance booster", service_type=induction, count=1, local_time=time(10, 0),
    )  # fmt: skip
    for name, tz, address, phone in LOCATIONS:
        location = Location.objects.create(
            group=group, name=name, timezone=tz, currency="USD", address=address, phone=phone
        )
        for weekday, opens, closes, every, anchor in WEEKLY_HOURS:
            OpeningRule.objects.create(
                location=location, weekday=weekday, opens=opens, closes=closes, every_n_weeks=every, anchor_date=anchor
            )
        for number in range(1, 5):
            Resource.objects.create(location=location, name=f"Chair {number}", kind=ResourceKind.CHAIR)
        Resource.objects.create(location=location, name="Therapy room", kind=ResourceKind.ROOM)
        Resource.objects.create(location=location, name="Consult room", kind=ResourceKind.ROOM)
        city = name.split()[-1]
        for person, roles, npi, username in people:
            member = StaffMember.objects.create(
                group=group,
                name=person if location.name.endswith("Boston") else f"{person} ({city})",
                roles=roles,
                npi=npi,
                user=User.objects.filter(username=username).first() if username and city == "Boston" else None,
            )
            member.locations.add(location)
            for weekday, opens, closes, every, anchor in WEEKLY_HOURS:
                Shift.objects.create(
                    staff=member, location=location, weekday=weekday, opens=opens, closes=closes,
                    every_n_weeks=every, anchor_date=anchor,
                )  # fmt: skip
    return group


def _patients(group: ClinicGroup) -> list[Patient]:
    clinician = User.objects.filter(username="clinician").first() or User.objects.filter(is_superuser=True).first()
    rows = [  # each with their own phone and driver: a STOP from one phone opts out one patient
        ("Alex", "Rivera", date(1986, 4, 12), "America/New_York", ["F43.10"], "patient", True, "+16175550123",
         "Sam Rivera (partner), +16175550124"),
        ("Jamie", "Brooks", date(1979, 9, 30), "America/New_York", ["F33.2"], None, True, "+16175550131",
         "Chris Brooks (brother), +16175550132"),
        ("Taylor", "Nguyen", date(1992, 1, 5), "America/Los_Angeles", ["F43.12"], None, True, "+15035550141",
         "Pat Nguyen (mother), +15035550142"),
        ("Morgan", "Lee", date(1968, 7, 21), "America/Los_Angeles", ["F32.2"], None, False, "+15035550151",
         "Robin Lee (spouse), +15035550152"),
    ]  # fmt: skip
    patients = []
    for first, last, born, tz, codes, username, cleared, phone, driver in rows:
        patient = Patient.objects.create(
            group=group, first_name=first, last_name=last, date_of_birth=born, timezone=tz,
            email=f"{first.lower()}.{last.lower()}@demo.clinic.invalid", phone=phone,
            email_consent=True, sms_consent=True, designated_driver=driver,
            referring_provider="Dr. Lena Ortiz, psychiatrist", diagnosis_codes=codes,
            user=User.objects.filter(username=username).first() if username else None,
        )  # fmt: skip
        if clinician is not None:
            Clearance.objects.create(
                patient=patient,
                status=ClearanceStatus.CLEARED if cleared else ClearanceStatus.NOT_CLEARED,
                valid_until=timezone.localdate() + timedelta(days=365) if cleared else None,
                notes="Intake assessment complete." if cleared else "Uncontrolled hypertension; review in 3 months.",
                recorded_by=clinician,
            )
        patients.append(patient)
    return patients


def _bookings(group: ClinicGroup, patients: list[Patient]) -> int:
    """A few upcoming infusions, booked through the same service as the API."""
    infusion = ServiceType.objects.get(group=group, code="infusion-40")
    booked = 0
    for location, patient, hour in (
        (Location.objects.get(group=group, name__endswith="Boston"), patients[0], 9),
        (Location.objects.get(group=group, name__endswith="Boston"), patients[1], 11),
        (Location.objects.get(group=group, name__endswith="Portland"), patients[2], 10),
    ):
        day = timezone.localdate() + timedelta(days=1)
        for _attempt in range(14):
            try:
                appointment_book(
                    actor=None, patient=patient, service_type=infusion, location=location,
                    start=to_utc(day, time(hour, 0), location.zone),
                )  # fmt: skip
                booked += 1
                break
            except ApplicationError:
                day += timedelta(days=1)
    # Jamie's induction from the clinic's template (6 infusions in 21 days, Mon/Wed/Fri at 09:00, 48 hours apart),
    # from the first of the next two Mondays it fits (its alternate Friday must be open: a closed one in the
    # second week gets the following Monday); the first visit is confirmed.
    boston = Location.objects.get(group=group, name__endswith="Boston")
    template = SeriesTemplate.objects.get(group=group, name__startswith="Induction")
    next_monday = timezone.localdate() + timedelta(days=7 - timezone.localdate().weekday())
    for monday in (next_monday, next_monday + timedelta(days=7)):
        try:
            asked = series_request(patient=patients[1], location=boston, first_date=monday, template=template)
            series = series_book(actor=None, request=asked, accept_alternatives=True)
        except ApplicationError:
            continue
        appointment_confirm(actor=None, appointment=series.appointments.order_by("start")[0])
        return booked + series.appointments.count()
    return booked  # a calendar that cannot take it: the demo goes on without


def _waitlist(group: ClinicGroup, patients: list[Patient]) -> None:
    """Taylor waits for a morning infusion in either city; Jamie, mid-induction, for a visit of that series.
    Boston takes patients' own requests (Alex, the demo patient, can join from My visits)."""
    infusion = ServiceType.objects.get(group=group, code="infusion-40")
    boston = Location.objects.get(group=group, name__endswith="Boston")
    portland = Location.objects.get(group=group, name__endswith="Portland")
    Location.objects.filter(pk=boston.pk).update(waitlist_self_join=True)
    waitlist_entry_add(actor=None, patient=patients[2], fields=EntryFields(
        service_type=infusion, locations=[boston, portland], weekdays=[0, 1, 2, 3, 4],
        time_windows=[["08:00", "12:00"]], priority=1, note="Can come at two hours' notice",
    ))  # fmt: skip
    waitlist_entry_add(actor=None, patient=patients[1], fields=EntryFields(service_type=infusion, locations=[boston]))
