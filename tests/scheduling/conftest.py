"""A standard clinic for scheduling tests (America/New_York, Mon-Thu 08:00-16:30 plus every other Friday)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from rest_framework.test import APIClient

from backend.models import ClinicGroup, User
from backend.roles import Role
from scheduling.booking.protocol import ProtocolRules, SeriesProtocol
from scheduling.models import (
    Location,
    Patient,
    Resource,
    ResourceKind,
    Series,
    ServiceType,
    StaffMember,
    StaffRole,
)
from scheduling.services.series import series_book, series_request
from tests.factories import (
    ClearanceFactory,
    ClinicGroupFactory,
    LocationFactory,
    OpeningRuleFactory,
    PatientFactory,
    ResourceFactory,
    ServiceTypeFactory,
    ShiftFactory,
    StaffMemberFactory,
    UserFactory,
)

ALTERNATE_FRIDAY_ANCHOR = dt.date(2026, 11, 6)
# "Now" for scheduling tests: before the DST change of 2026-11-01 and the example series of 2026-10-26.
NOW = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC)


@dataclass
class Clinic:
    group: ClinicGroup
    location: Location
    chairs: list[Resource]
    room: Resource
    nurse: StaffMember
    nurse2: StaffMember
    physician: StaffMember
    therapist: StaffMember
    infusion: ServiceType
    kap: ServiceType
    consult: ServiceType
    patient: Patient
    patient2: Patient
    reception: User
    admin: User
    clinician: User
    accountant: User

    def client(self, user: User) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client


def add_weekly_hours(location: Location, staff: list[StaffMember]) -> None:
    hours = [(day, 1, None) for day in range(4)] + [(4, 2, ALTERNATE_FRIDAY_ANCHOR)]
    for weekday, every, anchor in hours:
        OpeningRuleFactory(location=location, weekday=weekday, every_n_weeks=every, anchor_date=anchor)
        for member in staff:
            ShiftFactory(staff=member, location=location, weekday=weekday, every_n_weeks=every, anchor_date=anchor)


def make_clinic(timezone: str = "America/New_York", chairs: int = 2) -> Clinic:
    group = ClinicGroupFactory()
    location = LocationFactory(group=group, timezone=timezone, name="Boston")
    chair_list = [ResourceFactory.create(location=location, name=f"Chair {n}") for n in range(1, chairs + 1)]
    room = ResourceFactory(location=location, name="Room", kind=ResourceKind.ROOM)
    nurse = StaffMemberFactory.create(group=group, name="Nurse Joy", roles=[StaffRole.NURSE])
    nurse2 = StaffMemberFactory.create(group=group, name="Nurse Kim", roles=[StaffRole.NURSE])
    physician = StaffMemberFactory.create(group=group, name="Dr. Chen", roles=[StaffRole.PHYSICIAN])
    therapist = StaffMemberFactory.create(group=group, name="Sam Therapist", roles=[StaffRole.THERAPIST])
    staff: list[StaffMember] = [nurse, nurse2, physician, therapist]
    for member in staff:
        member.locations.add(location)
    add_weekly_hours(location, staff)
    infusion = ServiceTypeFactory(group=group, code="infusion", name="Infusion")
    kap = ServiceTypeFactory(
        group=group, code="kap", name="KAP", duration_minutes=120, recovery_minutes=30,
        resource_kind=ResourceKind.ROOM, staff_roles=[StaffRole.PHYSICIAN, StaffRole.THERAPIST],
    )  # fmt: skip
    consult = ServiceTypeFactory(
        group=group, code="consult", name="Consult", duration_minutes=30, recovery_minutes=0,
        resource_kind=ResourceKind.ROOM, staff_roles=[StaffRole.PHYSICIAN], requires_clearance=False,
    )  # fmt: skip
    patient = PatientFactory(group=group, first_name="Alex")
    patient2 = PatientFactory(group=group, first_name="Jamie")
    for person in (patient, patient2):
        ClearanceFactory(patient=person)
    users = {role: UserFactory(roles=[role]) for role in (Role.RECEPTION, Role.ADMIN, Role.CLINICIAN, Role.ACCOUNTANT)}
    group.members.add(*users.values())
    return Clinic(
        group=group, location=location, chairs=chair_list, room=room, nurse=nurse, nurse2=nurse2,
        physician=physician, therapist=therapist, infusion=infusion, kap=kap, consult=consult,
        patient=patient, patient2=patient2, reception=users[Role.RECEPTION], admin=users[Role.ADMIN],
        clinician=users[Role.CLINICIAN], accountant=users[Role.ACCOUNTANT],
    )  # fmt: skip


def clinic_with_patients(count: int, chairs: int = 3) -> tuple[Clinic, list[Patient]]:
    """A clinic and ``count`` more cleared patients, created at the tests' "now" (for threaded tests)."""
    with time_machine.travel(NOW, tick=False):
        clinic = make_clinic(chairs=chairs)
        patients = [PatientFactory.create(group=clinic.group) for _ in range(count)]
        for patient in patients:
            ClearanceFactory(patient=patient)
    return clinic, patients


NEW_YORK = ZoneInfo("America/New_York")


def ny(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """The instant of a New York wall-clock time."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NEW_YORK)


def book_series(*, protocol: SeriesProtocol, actor: Any, accept_alternatives: bool = False, **fields: Any) -> Series:
    """``series_book`` with every rule of ``protocol`` given explicitly (no template)."""
    rules = ProtocolRules(**{name: getattr(protocol, name) for name in ProtocolRules.__dataclass_fields__})
    asked = series_request(first_date=protocol.first_date, rules=rules, **fields)
    return series_book(actor=actor, request=asked, accept_alternatives=accept_alternatives)


def recorded_while(action: Callable[[], Any]) -> list[str]:
    """The SQL statements run by ``action``."""
    statements: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        action()
    return statements
