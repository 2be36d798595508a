from __future__ import annotations

import datetime as _dt
import functools
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from backend.models import ClinicGroup, User
from scheduling.models import (
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

PASSWORD = "correct horse battery staple"


@functools.cache
def _password_hash() -> str:
    """Hashed once per process: argon2 is slow on purpose, and tests create many users."""
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.LazyFunction(_password_hash)

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.groups.add(*(Group.objects.get_or_create(name=role)[0] for role in extracted))


# --- scheduling ---------------------------------------------------------------------------


class ClinicGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClinicGroup

    name = factory.Sequence(lambda n: f"Clinic group {n}")


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    group = factory.SubFactory(ClinicGroupFactory)
    name = factory.Sequence(lambda n: f"Location {n}")
    timezone = "America/New_York"
    currency = "USD"
    phone = "+16175550100"
    address = "1 Main St"


class OpeningRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpeningRule

    location = factory.SubFactory(LocationFactory)
    weekday = 0
    opens = _dt.time(8, 0)
    closes = _dt.time(16, 30)


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource

    location = factory.SubFactory(LocationFactory)
    name = factory.Sequence(lambda n: f"Chair {n}")
    kind = ResourceKind.CHAIR


class StaffMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMember
        skip_postgeneration_save = True

    group = factory.SubFactory(ClinicGroupFactory)
    name = factory.Sequence(lambda n: f"Staff {n}")
    roles = factory.LazyFunction(lambda: [StaffRole.NURSE])
    npi = "1234567893"


class ShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shift

    staff = factory.SubFactory(StaffMemberFactory)
    location = factory.SubFactory(LocationFactory)
    weekday = 0
    opens = _dt.time(8, 0)
    closes = _dt.time(16, 30)


class ServiceTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceType

    group = factory.SubFactory(ClinicGroupFactory)
    code = factory.Sequence(lambda n: f"service-{n}")
    name = factory.Sequence(lambda n: f"Service {n}")
    duration_minutes = 40
    recovery_minutes = 60
    resource_kind = ResourceKind.CHAIR
    staff_roles = factory.LazyFunction(lambda: [StaffRole.NURSE])
    requires_clearance = True
    price = Decimal("450.00")
    billing_codes = factory.LazyFunction(lambda: ["96365", "J3490"])
    reminder_offsets_hours = factory.LazyFunction(lambda: [72, 24, 2])


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    group = factory.SubFactory(ClinicGroupFactory)
    first_name = factory.Sequence(lambda n: f"Pat{n}")
    last_name = "Example"
    date_of_birth = _dt.date(1985, 5, 17)
    email = factory.LazyAttribute(lambda p: f"{p.first_name.lower()}@example.com")
    phone = "+16175550123"
    timezone = "America/New_York"
    email_consent = True
    sms_consent = True
    diagnosis_codes = factory.LazyFunction(lambda: ["F43.10"])


class ClearanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clearance

    patient = factory.SubFactory(PatientFactory)
    status = ClearanceStatus.CLEARED
    valid_until = _dt.date(2030, 1, 1)
    recorded_by = factory.SubFactory(UserFactory)
