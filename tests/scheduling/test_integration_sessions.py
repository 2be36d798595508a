"""Integration sessions booked with the series: all or nothing, alternatives on collision, moving with their
visit, cancelled with the series."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from scheduling.models import Appointment, AppointmentStatus, ResourceKind, Series, SeriesTemplate, StaffRole
from scheduling.services.appointments import appointment_book
from tests.factories import PatientFactory, ServiceTypeFactory
from tests.scheduling.conftest import Clinic, ny

pytestmark = pytest.mark.django_db


def template_with_sessions(clinic: Clinic) -> SeriesTemplate:
    integration = ServiceTypeFactory(
        group=clinic.group, code="integration", name="Integration", duration_minutes=60, recovery_minutes=0,
        resource_kind=ResourceKind.ROOM, staff_roles=[StaffRole.THERAPIST], requires_clearance=False,
    )  # fmt: skip
    return SeriesTemplate.objects.create(
        group=clinic.group, location=clinic.location, name="Induction with integration", service_type=clinic.infusion,
        count=6, weekdays=[0, 2], local_time=dt.time(9), min_gap_hours=24, max_per_week=3,
        session_service_type=integration, session_after_visits=[1, 3, 6], session_days_after=1,
        session_local_time=dt.time(14),
    )  # fmt: skip


def book(clinic: Clinic, template: SeriesTemplate, **extra: Any) -> Any:
    payload = {"patient": str(clinic.patient.public_id), "location": str(clinic.location.public_id),
               "template": str(template.public_id), "first_date": "2026-10-05", **extra}  # fmt: skip
    return clinic.client(clinic.reception).post("/api/v1/series/", payload, format="json")


def sessions_of(series_id: str) -> list[Appointment]:
    return list(Appointment.objects.filter(series__public_id=series_id, follows__isnull=False).order_by("start"))


def test_the_sessions_are_booked_the_day_after_visits_1_3_and_6(clinic: Clinic) -> None:
    response = book(clinic, template_with_sessions(clinic))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["count"] == 6
    visits = [item for item in body["appointments"] if not item["is_integration_session"]]
    sessions = [item for item in body["appointments"] if item["is_integration_session"]]
    assert [item["start"][:16] for item in visits] == [
        "2026-10-05T09:00", "2026-10-07T09:00", "2026-10-12T09:00", "2026-10-14T09:00", "2026-10-19T09:00",
        "2026-10-21T09:00",
    ]  # fmt: skip
    assert [item["start"][:16] for item in sessions] == ["2026-10-06T14:00", "2026-10-13T14:00", "2026-10-22T14:00"]
    assert {item["service_name"] for item in sessions} == {"Integration"}
    assert {part["role"] for item in sessions for part in item["staff"]} == {"therapist"}
    stored = sessions_of(body["id"])
    followed = [session.follows.start for session in stored if session.follows]
    assert followed == [ny(dt.date(2026, 10, 5), 9), ny(dt.date(2026, 10, 12), 9), ny(dt.date(2026, 10, 21), 9)]


def test_a_colliding_session_books_nothing_and_offers_an_alternative(clinic: Clinic) -> None:
    template = template_with_sessions(clinic)
    other = PatientFactory(group=clinic.group)
    appointment_book(
        actor=None,
        patient=other,
        service_type=template.session_service_type,  # type: ignore[arg-type]
        location=clinic.location,
        start=ny(dt.date(2026, 10, 13), 14),
    )  # the only therapist, busy
    refused = book(clinic, template)
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["detail"].startswith("Integration sessions: 1 of 3 visits cannot be booked as asked")
    assert [(c["session_after_visit"], c["start"][:16]) for c in problem["conflicts"]] == [(3, "2026-10-13T14:00")]
    (alternative,) = problem["alternatives"]
    assert alternative["session_after_visit"] == 3
    assert dt.datetime.fromisoformat(alternative["start"]) >= ny(dt.date(2026, 10, 12), 10)  # after its visit
    assert not Series.objects.filter(patient=clinic.patient).exists()
    booked = book(clinic, template, accept_alternatives=True)
    assert booked.status_code == 201, booked.content
    starts = [session.start for session in sessions_of(booked.json()["id"])]
    assert dt.datetime.fromisoformat(alternative["start"]) in starts


def test_a_session_moves_with_its_visit_or_the_move_is_refused(clinic: Clinic) -> None:
    template = template_with_sessions(clinic)
    series_id = book(clinic, template).json()["id"]
    third = Appointment.objects.get(
        series__public_id=series_id, follows__isnull=True, start=ny(dt.date(2026, 10, 12), 9)
    )
    url = f"/api/v1/appointments/{third.public_id}/"
    moved = clinic.client(clinic.reception).patch(url, {"start": ny(dt.date(2026, 10, 13), 9).isoformat()},
                                                  format="json")  # fmt: skip
    assert moved.status_code == 200, moved.content
    assert [session.start for session in sessions_of(series_id)][1] == ny(dt.date(2026, 10, 14), 14)
    blocker = PatientFactory(group=clinic.group)
    appointment_book(
        actor=None,
        patient=blocker,
        service_type=template.session_service_type,  # type: ignore[arg-type]
        location=clinic.location,
        start=ny(dt.date(2026, 10, 13), 14),
    )  # where the session would go back
    refused = clinic.client(clinic.reception).patch(url, {"start": ny(dt.date(2026, 10, 12), 9).isoformat()},
                                                    format="json")  # fmt: skip
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith("Its integration session cannot move with it")
    third.refresh_from_db()
    assert third.start == ny(dt.date(2026, 10, 13), 9)  # nothing moved
    assert [session.start for session in sessions_of(series_id)][1] == ny(dt.date(2026, 10, 14), 14)


def test_cancelling_the_series_cancels_its_sessions(clinic: Clinic) -> None:
    series_id = book(clinic, template_with_sessions(clinic)).json()["id"]
    cancelled = clinic.client(clinic.reception).post(f"/api/v1/series/{series_id}/cancel/", {"reason": "Moving away"},
                                                     format="json")  # fmt: skip
    assert cancelled.status_code == 200, cancelled.content
    assert {session.status for session in sessions_of(series_id)} == {AppointmentStatus.CANCELLED}


def test_templates_take_sessions_through_the_api(clinic: Clinic) -> None:
    integration = ServiceTypeFactory(group=clinic.group, code="integration", resource_kind=ResourceKind.ROOM,
                                     staff_roles=[StaffRole.THERAPIST])  # fmt: skip
    response = clinic.client(clinic.admin).post("/api/v1/series-templates/", {
        "name": "With integration", "service_type": str(clinic.infusion.public_id), "count": 6,
        "session_service_type": str(integration.public_id), "session_after_visits": [1, 3, 6],
        "session_days_after": 1, "session_local_time": "14:00",
    }, format="json")  # fmt: skip
    assert response.status_code == 201, response.content
    assert (response.json()["session_after_visits"], response.json()["session_local_time"]) == ([1, 3, 6], "14:00")
