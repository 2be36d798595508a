"""Selectors keep every read inside the acting user's clinic groups (ids read once per request)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from backend.roles import Role
from scheduling import selectors
from scheduling.models import Location, Patient, SeriesTemplate, ServiceType
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


def recorded_while(action: Callable[[], Any]) -> list[str]:
    """The SQL statements run by ``action``."""
    statements: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        action()
    return statements


SELECTOR_OF = {
    Location: selectors.locations_for, ServiceType: selectors.service_types_for, Patient: selectors.patients_for,
    SeriesTemplate: selectors.series_templates_for,
}  # fmt: skip


def test_finding_by_public_ids_agrees_with_each_selector_in_one_query() -> None:
    """Staff find what their selectors give (their groups; superusers every group); others get nothing."""
    mine, other = ClinicGroupFactory(), ClinicGroupFactory()
    objects: dict[int, dict[str, Any]] = {}
    for group in (mine, other):
        location = LocationFactory(group=group)
        service = ServiceTypeFactory(group=group)
        template = SeriesTemplate.objects.create(group=group, name="Induction", service_type=service, count=6)
        objects[group.pk] = {"location": location, "service_type": service, "patient": PatientFactory(group=group),
                             "template": template}  # fmt: skip
    reception, superuser = UserFactory(roles=[Role.RECEPTION]), UserFactory(roles=[], is_superuser=True)
    mine.members.add(reception)
    patient_user = UserFactory(roles=[Role.PATIENT])

    for group in (mine, other):
        wanted = {name: (type(obj), str(obj.public_id)) for name, obj in objects[group.pk].items()}
        for user in (reception, superuser, patient_user):
            user.role_names(), user.clinic_group_ids()
            statements = recorded_while(lambda: selectors.find_by_public_ids(user, wanted))  # noqa: B023 - run now
            found = selectors.find_by_public_ids(user, wanted)
            if user is patient_user:
                assert found == {}
                assert statements == []
                continue
            assert len(statements) == 1
            for name, obj in objects[group.pk].items():
                visible = SELECTOR_OF[type(obj)](user).filter(pk=obj.pk).exists()
                assert (name in found) == visible, (user, name)
                if visible:
                    fields = [field.attname for field in type(obj)._meta.concrete_fields]
                    stored = type(obj).objects.get(pk=obj.pk)
                    assert [getattr(found[name], f) for f in fields] == [getattr(stored, f) for f in fields]
    assert selectors.find_by_public_ids(reception, {"patient": (Patient, "not-a-uuid")}) == {}


def test_a_series_booking_finds_its_inputs_in_one_query_and_refuses_another_groups_ids(clinic: Any) -> None:
    from tests.scheduling.test_series import open_every_friday, post_series

    open_every_friday(clinic)
    client = clinic.client(clinic.reception)
    elsewhere = LocationFactory(group=ClinicGroupFactory())
    booked: Any = None

    def book() -> None:
        nonlocal booked
        booked = post_series(client, clinic)

    statements = recorded_while(book)

    assert booked.status_code == 201, booked.json()
    reading_inputs = [q for q in statements if q.startswith("SELECT") and '"scheduling_servicetype"' in q]
    assert len(reading_inputs) == 1
    assert '"scheduling_patient"' in reading_inputs[0]
    assert '"scheduling_location"' in reading_inputs[0]
    refused = post_series(client, clinic, location=str(elsewhere.public_id), first_date="2026-11-09")
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"location": [f"No location with id {elsewhere.public_id}."]}
