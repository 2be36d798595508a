"""Selectors keep every read inside the acting user's clinic groups (ids read once per request)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from backend.roles import Role
from scheduling import selectors
from tests.factories import (
    ClinicGroupFactory,
    LocationFactory,
    PatientFactory,
    ResourceFactory,
    ServiceTypeFactory,
    StaffMemberFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SELECTORS: list[Callable[[Any], Any]] = [
    selectors.groups_for, selectors.locations_for, selectors.resources_for, selectors.staff_for,
    selectors.service_types_for, selectors.patients_for,
]  # fmt: skip


def records_of(group: Any) -> dict[str, set[int]]:
    location = LocationFactory(group=group)
    return {
        "groups_for": {group.pk},
        "locations_for": {location.pk},
        "resources_for": {ResourceFactory(location=location).pk},
        "staff_for": {StaffMemberFactory(group=group).pk},
        "service_types_for": {ServiceTypeFactory(group=group).pk},
        "patients_for": {PatientFactory(group=group).pk},
    }


@pytest.mark.parametrize("selector", SELECTORS, ids=lambda selector: selector.__name__)
def test_staff_see_their_groups_superusers_all_and_others_nothing(selector: Callable[[Any], Any]) -> None:
    first, second, third = ClinicGroupFactory(), ClinicGroupFactory(), ClinicGroupFactory()
    records = {group.pk: records_of(group) for group in (first, second, third)}
    reception = UserFactory(roles=[Role.RECEPTION])
    first.members.add(reception)
    second.members.add(reception)
    superuser = UserFactory(roles=[], is_superuser=True)
    outsider = UserFactory(roles=[])  # a member, but with no staff role
    first.members.add(outsider)
    name = selector.__name__

    def seen(user: Any) -> set[int]:
        return set(selector(user).values_list("pk", flat=True)) & set().union(*(r[name] for r in records.values()))

    assert seen(reception) == records[first.pk][name] | records[second.pk][name]
    assert seen(superuser) == set().union(*(r[name] for r in records.values()))
    assert seen(outsider) == set()
    assert seen(AnonymousUser()) == set()


def test_a_scoped_lookup_does_not_read_memberships_again() -> None:
    group = ClinicGroupFactory()
    reception = UserFactory(roles=[Role.RECEPTION])
    group.members.add(reception)
    patient = PatientFactory(group=group)
    reception.role_names(), reception.clinic_group_ids()  # read once (with the token, for API requests)
    statements: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert selectors.patients_for(reception).get(public_id=patient.public_id) == patient

    assert len(statements) == 1
    assert "clinicgroup_members" not in statements[0]


def test_a_series_booking_refuses_another_groups_ids(clinic: Any) -> None:
    from tests.scheduling.test_series import open_every_friday, post_series

    open_every_friday(clinic)
    client = clinic.client(clinic.reception)
    elsewhere = LocationFactory(group=ClinicGroupFactory())

    booked = post_series(client, clinic)

    assert booked.status_code == 201, booked.json()
    refused = post_series(client, clinic, location=str(elsewhere.public_id), first_date="2026-11-09")
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"location": [f"No location with id {elsewhere.public_id}."]}
