"""insert_together: new rows of several tables, linked to each other, written by one statement."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from backend.insert_together import draw_primary_keys, insert_one, insert_together
from backend.models import AuditEvent, User
from scheduling.models import ClinicGroup, Location, Resource, ServiceType
from tests.factories import ClinicGroupFactory, UserFactory

pytestmark = pytest.mark.django_db


def recorded(statements: list[str]) -> Any:
    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    return connection.execute_wrapper(record)


def test_parents_and_children_go_in_with_one_statement_and_read_back_as_saved() -> None:
    group = ClinicGroup(name="North")
    locations = [Location(group=group, name=name, timezone="Europe/Oslo", reminder_offsets_hours=[48, 2])
                 for name in ("Oslo", "Bergen")]  # fmt: skip
    chairs = [Resource(location=location, name="Chair 1") for location in locations]
    statements: list[str] = []

    with recorded(statements):
        insert_together([group], locations, chairs)

    assert len([sql for sql in statements if "nextval" in sql]) == 1  # every key in one query
    assert [sql.split()[0] for sql in statements if "INSERT" in sql] == ["WITH"]  # every row in one statement
    assert all(not obj._state.adding for obj in (group, *locations, *chairs))
    assert {location.group_id for location in locations} == {group.pk}
    stored = Location.objects.filter(group=group).order_by("pk")
    assert [(s.pk, s.name, s.reminder_offsets_hours, s.public_id) for s in stored] == [
        (location.pk, location.name, [48, 2], location.public_id) for location in locations
    ]
    assert sorted(Resource.objects.filter(location__group=group).values_list("location_id", "name")) == sorted(
        (location.pk, "Chair 1") for location in locations
    )


def test_keys_drawn_first_can_be_used_before_the_rows_are_written() -> None:
    group = ClinicGroup(name="South")
    location = Location(group=group, name="Lyon", timezone="Europe/Paris")
    draw_primary_keys([group], [location])
    assert group.pk is not None
    assert location.pk is not None
    location.name = f"Lyon {location.pk}"

    insert_together([group], [location])

    assert Location.objects.get(pk=location.pk).name == f"Lyon {location.pk}"
    assert ClinicGroup.objects.filter(pk=group.pk).exists()


def test_a_constraint_violation_writes_none_of_the_rows() -> None:
    UserFactory(username="taken")
    groups_before = ClinicGroup.objects.count()

    with pytest.raises(IntegrityError), transaction.atomic():
        insert_together([ClinicGroup(name="Never")], [User(username="taken")])

    assert ClinicGroup.objects.count() == groups_before


@pytest.mark.parametrize(
    "batches",
    [
        pytest.param(lambda: [[ClinicGroup(name="A"), Location(name="B")]], id="two models in one batch"),
        pytest.param(lambda: [[ClinicGroupFactory()]], id="a saved object"),
        pytest.param(
            lambda: [[Location(group=ClinicGroup(name="Unsaved"), name="C", timezone="UTC")]],
            id="a parent neither saved nor inserted",
        ),
    ],
)
def test_what_cannot_be_inserted_together_is_refused_before_writing(batches: Any) -> None:
    chosen = batches()
    groups_before = ClinicGroup.objects.count()

    with pytest.raises(ValueError, match=r"insert_together|inserted together|batch holds"):
        insert_together(*chosen)

    assert ClinicGroup.objects.count() == groups_before
    assert not Location.objects.filter(name__in=["B", "C"]).exists()


def test_every_kind_of_value_reads_back_as_written() -> None:
    """Decimals, arrays, text with quotes, booleans, nulls, UUIDs, microseconds, JSON documents, addresses."""
    group = ClinicGroup(name='The "Quiet" Clinic — Zürich')
    service = ServiceType(
        group=group, code="infusion", name="Infusion", duration_minutes=40, price=Decimal("450.10"),
        billing_codes=["96365", "J3490"], reminder_offsets_hours=[72, 2], staff_roles=["nurse"],
        requires_clearance=True, prep_instructions="It's\n\\ok",
    )  # fmt: skip
    event = AuditEvent(
        action="create", object_type="series", patient_id=uuid.uuid4(), ip="2001:db8::1",
        details={"status": 201, "nested": [1, "x", None, {"deep": True}], "amount": "12.30"},
    )  # fmt: skip

    insert_together([group], [service], [event])

    stored = ServiceType.objects.get(pk=service.pk)
    for name in ("code", "name", "price", "billing_codes", "reminder_offsets_hours", "staff_roles",
                 "requires_clearance", "prep_instructions", "public_id", "group_id"):  # fmt: skip
        assert getattr(stored, name) == getattr(service, name), name
    assert ClinicGroup.objects.get(pk=group.pk).name == group.name
    logged = AuditEvent.objects.get(pk=event.pk)
    assert (logged.at, logged.patient_id, logged.ip, logged.details) == (
        event.at,
        event.patient_id,
        event.ip,
        event.details,
    )
    assert logged.at.microsecond == event.at.microsecond
    assert logged.actor_id is None


def test_insert_one_writes_a_row_whose_key_the_table_generates() -> None:
    actor = UserFactory()
    event = AuditEvent(actor=actor, actor_username=actor.username, action="read", object_type="patient",
                       details={"status": 200, "path": "/api/v1/patients/"})  # fmt: skip
    statements: list[str] = []

    with recorded(statements):
        insert_one(event)

    assert len(statements) == 1
    assert event.pk is not None
    assert not event._state.adding
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_id, stored.at, stored.details, stored.ip) == (actor.pk, event.at, event.details, None)
    with pytest.raises(ValueError, match="batch holds"):
        insert_one(event)  # saved already
