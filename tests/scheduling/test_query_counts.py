"""List endpoints use a fixed number of queries whatever the page size."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.audit_chain import CHAIN_STATEMENTS
from backend.models import User
from scheduling.models import Appointment, AppointmentStaff
from tests.factories import PatientFactory
from tests.scheduling.conftest import Clinic, ny


def _fill(clinic: Clinic, count: int) -> None:
    base = ny(dt.date(2026, 10, 5), 8)
    for index in range(count):
        start = base + dt.timedelta(days=index // 6, minutes=(index % 6) * 100)
        appointment = Appointment.objects.create(
            patient=PatientFactory(group=clinic.group), service_type=clinic.infusion, location=clinic.location,
            resource=clinic.chairs[0], start=start, end=start + dt.timedelta(minutes=40),
            hold_until=start + dt.timedelta(minutes=100),
        )  # fmt: skip
        AppointmentStaff.objects.create(appointment=appointment, staff=clinic.nurse, role="nurse", start=start,
                                        end=appointment.end)  # fmt: skip


def _queries(clinic: Clinic, url: str, page_size: int) -> int:
    client = clinic.client(User.objects.get(pk=clinic.reception.pk))  # a fresh user: no cached roles
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"page_size": page_size})
    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size
    return len(captured)


@pytest.mark.parametrize("url", ["/api/v1/appointments/", "/api/v1/patients/"])
def test_list_query_count_does_not_grow_with_the_page(clinic: Clinic, url: str) -> None:
    _fill(clinic, 40)

    assert _queries(clinic, url, 5) == _queries(clinic, url, 40)


def test_the_appointment_list_takes_a_handful_of_queries(clinic: Clinic) -> None:
    _fill(clinic, 20)
    client = clinic.client(clinic.reception)

    with CaptureQueriesContext(connection) as captured:
        client.get("/api/v1/appointments/", {"page_size": 20})

    chain = ("SAVEPOINT", "RELEASE", *CHAIN_STATEMENTS)  # the audit event's own statements
    assert len([query for query in captured if not query["sql"].startswith(chain)]) <= 5
