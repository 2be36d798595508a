"""Receptionists booking series for the same chair at the same time, and replays racing each other."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
import time_machine
from django.db import connections
from rest_framework.test import APIClient

from scheduling.booking.calendar import LocationCalendar
from scheduling.models import Appointment, Series
from tests.integration.test_booking_concurrency import overlapping_active_pairs, overlapping_staff_pairs
from tests.scheduling.conftest import NOW, clinic_with_patients

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
RECEPTIONISTS = 6


def run_together(count: int, work: Any) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def target(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def series_payload(clinic: Any, patient: Any, **extra: Any) -> dict[str, Any]:
    return {
        "patient": str(patient.public_id), "service_type": str(clinic.infusion.public_id),
        "location": str(clinic.location.public_id), "first_date": "2026-10-05", "count": 3, "time": "09:00",
        "weekdays": [0, 2], "min_gap_hours": 48, "resource": str(clinic.chairs[0].public_id), **extra,
    }  # fmt: skip


@pytest.fixture
def clinic_and_patients() -> tuple[Any, list[Any]]:
    return clinic_with_patients(RECEPTIONISTS)


def test_receptionists_racing_for_one_chair_never_overlap_and_the_losers_get_a_clear_409(
    clinic_and_patients: tuple[Any, list[Any]],
) -> None:
    clinic, patients = clinic_and_patients

    def book(index: int) -> tuple[int, dict[str, Any]]:
        client = APIClient()
        client.force_authenticate(clinic.reception)
        response = client.post("/api/v1/series/", series_payload(clinic, patients[index]), format="json")
        return response.status_code, response.json()

    with time_machine.travel(NOW, tick=False):
        results = run_together(RECEPTIONISTS, book)

    assert Counter(status for status, _ in results) == Counter({201: 1, 409: RECEPTIONISTS - 1})
    for status, body in results:
        if status == 409:
            assert body["code"] == "booking_conflict"
            assert {c["index"] for c in body["conflicts"]} == {0, 1, 2}
            assert all("Chair 1 is taken" in c["reason"] for c in body["conflicts"])
    assert Appointment.objects.count() == 3
    assert overlapping_active_pairs("resource_id") == 0


def test_with_alternatives_accepted_every_series_books_without_any_overlap(
    clinic_and_patients: tuple[Any, list[Any]],
) -> None:
    clinic, patients = clinic_and_patients

    def book(index: int) -> int:
        client = APIClient()
        client.force_authenticate(clinic.reception)
        payload = series_payload(clinic, patients[index], accept_alternatives=True)
        return client.post("/api/v1/series/", payload, format="json").status_code

    with time_machine.travel(NOW, tick=False):
        results = run_together(RECEPTIONISTS, book)

    assert results == [201] * RECEPTIONISTS
    assert Appointment.objects.count() == 3 * RECEPTIONISTS
    assert overlapping_active_pairs("resource_id") == 0
    assert overlapping_active_pairs("patient_id") == 0
    assert overlapping_staff_pairs() == 0


def test_concurrent_replays_of_one_key_book_one_series(clinic_and_patients: tuple[Any, list[Any]]) -> None:
    clinic, patients = clinic_and_patients

    def book(index: int) -> tuple[int, str]:
        client = APIClient()
        client.force_authenticate(clinic.reception)
        response = client.post(
            "/api/v1/series/", series_payload(clinic, patients[0]), format="json",
            headers={"Idempotency-Key": "double-click"},
        )  # fmt: skip
        return response.status_code, response.json().get("id", "")

    with time_machine.travel(NOW, tick=False):
        results = run_together(4, book)

    assert {status for status, _ in results} == {201}
    assert len({series_id for _, series_id in results}) == 1
    assert Series.objects.count() == 1
    assert Appointment.objects.count() == 3


def test_no_overlap_across_two_locations_sharing_staff(clinic_and_patients: tuple[Any, list[Any]]) -> None:
    """Guard for the lock order: bookings at two locations that share a nurse still never overlap her."""
    clinic, patients = clinic_and_patients
    from tests.factories import LocationFactory, ResourceFactory
    from tests.scheduling.conftest import add_weekly_hours

    with time_machine.travel(NOW, tick=False):
        second = LocationFactory(group=clinic.group, name="Second")
        ResourceFactory(location=second, name="Chair A")
        clinic.nurse.locations.add(second)
        clinic.nurse2.locations.remove(clinic.location)
        add_weekly_hours(second, [clinic.nurse])

    def book(index: int) -> int:
        client = APIClient()
        client.force_authenticate(clinic.reception)
        location = clinic.location if index % 2 == 0 else second
        payload = series_payload(clinic, patients[index], location=str(location.public_id), count=2)
        payload.pop("resource")
        return client.post("/api/v1/series/", payload, format="json").status_code

    with time_machine.travel(NOW, tick=False):
        results = run_together(4, book)

    assert Counter(results) == Counter({201: 1, 409: 3})
    assert overlapping_staff_pairs() == 0


@pytest.mark.parametrize("idempotency_key", [None, "stale-1"])
def test_a_series_booked_from_a_stale_calendar_gets_a_409_from_the_constraint_and_books_nothing(
    clinic_and_patients: tuple[Any, list[Any]], monkeypatch: pytest.MonkeyPatch, idempotency_key: str | None
) -> None:
    clinic, patients = clinic_and_patients
    client = APIClient()
    client.force_authenticate(clinic.reception)
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    with time_machine.travel(NOW, tick=False):
        first = client.post("/api/v1/series/", series_payload(clinic, patients[0]), format="json")
        assert first.status_code == 201, first.json()
        # Pretend the application check missed those visits (what a bug or a race would create).
        monkeypatch.setattr(LocationCalendar, "_load_busy", lambda self, patient_ids: None)

        second = client.post("/api/v1/series/", series_payload(clinic, patients[1]), format="json", headers=headers)
        again = client.post("/api/v1/series/", series_payload(clinic, patients[1]), format="json", headers=headers)

    assert second.status_code == 409, second.json()
    assert second.json()["code"] == "booking_conflict"
    assert "booked by someone else meanwhile" in second.json()["detail"]
    assert again.json() == second.json()
    assert Series.objects.count() == 1
    assert Appointment.objects.count() == 3
    assert overlapping_active_pairs("resource_id") == 0
