"""The audit trail is sealed: changing, removing or forging an event, even with the database's own
powers (the append-only trigger disabled), is found by `audit_verify`, which names the event."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection, connections

from backend.audit import audit_record
from backend.audit_chain import check_and_alert, verify_trail
from backend.models import AuditEvent
from backend.roles import Role
from tests.factories import UserFactory
from tests.scheduling.conftest import Clinic


@pytest.fixture
def trail(clinic: Clinic) -> list[AuditEvent]:
    for _ in range(5):
        clinic.client(clinic.reception).get(f"/api/v1/patients/{clinic.patient.public_id}/")
    return list(AuditEvent.objects.order_by("id"))


def as_the_database_owner(sql: str, params: list[Any]) -> None:
    """What the table's owner (or a superuser) can do: pause the append-only trigger and write."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own inserts leave checks pending
        cursor.execute("ALTER TABLE backend_auditevent DISABLE TRIGGER backend_audit_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE backend_auditevent ENABLE TRIGGER backend_audit_append_only")


def verify_fails_at(event_id: int) -> str:
    with pytest.raises(CommandError, match=f"broken at event {event_id}:") as failure:
        call_command("audit_verify")
    return str(failure.value)


def test_every_event_is_sealed_to_the_one_before(trail: list[AuditEvent], capsys: pytest.CaptureFixture[str]) -> None:
    assert len(trail) == 5
    assert trail[0].previous_seal == ""
    assert [event.previous_seal for event in trail[1:]] == [event.seal for event in trail[:-1]]
    call_command("audit_verify")
    assert f"intact: 5 events, the latest is {trail[-1].pk}" in capsys.readouterr().out


def test_a_changed_event_is_named(trail: list[AuditEvent]) -> None:
    as_the_database_owner("UPDATE backend_auditevent SET actor_username = 'someone-else' WHERE id = %s",
                          [trail[2].pk])  # fmt: skip
    assert "differs from what was recorded" in verify_fails_at(trail[2].pk)


def test_a_removed_event_is_named_by_the_gap_it_leaves(trail: list[AuditEvent]) -> None:
    as_the_database_owner("DELETE FROM backend_auditevent WHERE id = %s", [trail[1].pk])
    message = verify_fails_at(trail[2].pk)
    assert f"missing between event {trail[0].pk} and event {trail[2].pk}" in message


def test_the_first_event_removed_is_found_too(trail: list[AuditEvent]) -> None:
    as_the_database_owner("DELETE FROM backend_auditevent WHERE id = %s", [trail[0].pk])
    assert f"missing before event {trail[1].pk}" in verify_fails_at(trail[1].pk)


def test_an_event_forged_with_the_database_alone_is_named(trail: list[AuditEvent], clinic: Clinic) -> None:
    forged = trail[-1].pk + 1000
    as_the_database_owner(
        "INSERT INTO backend_auditevent (id, at, actor_username, roles, action, object_type, object_id, details,"
        " previous_seal, seal) VALUES (%s, now(), 'ghost', '', 'read', 'patient', '', '{}', %s, %s)",
        [forged, trail[-1].seal, "0" * 64],
    )  # fmt: skip
    verify_fails_at(forged)


def test_a_reseal_without_the_key_does_not_pass(trail: list[AuditEvent], settings: object) -> None:
    """Rewriting every seal needs the key, which is not in the database: any other key breaks the first one."""
    assert verify_trail(key=b"guessed").broken_at == trail[0].pk
    assert verify_trail().intact


def test_the_daily_check_emails_the_admins_on_a_break(trail: list[AuditEvent], clinic: Clinic) -> None:
    clinic.admin.email = "admin@clinic.example"
    clinic.admin.save()
    UserFactory(roles=[Role.RECEPTION], email="desk@clinic.example")
    assert check_and_alert().intact
    assert mail.outbox == []

    as_the_database_owner("DELETE FROM backend_auditevent WHERE id = %s", [trail[3].pk])
    verdict = check_and_alert()

    assert verdict.broken_at == trail[4].pk
    (message,) = mail.outbox
    assert message.to == ["admin@clinic.example"]
    assert f"break at event {trail[4].pk}" in message.body


@pytest.mark.django_db(transaction=True)
def test_parallel_writers_never_seal_against_the_same_event() -> None:
    """Eight connections record events at once; without the chain's lock two would share a predecessor."""
    writers, each = 8, 15
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            barrier.wait()
            for _ in range(each):
                audit_record(actor=None, action="read", object_type="patient")
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    verdict = verify_trail()
    assert verdict.intact, verdict.reason
    assert verdict.checked == AuditEvent.objects.count() == writers * each
