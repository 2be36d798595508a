"""/api/v1/waitlist/: entries kept by reception, offers in flight and their outcomes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from scheduling.models import WaitlistEntry, WaitlistStatus
from scheduling.services.appointments import appointment_book
from scheduling.services.transitions import appointment_cancel
from scheduling.services.waitlist import slots_offer
from tests.factories import ClinicGroupFactory, LocationFactory
from tests.scheduling.conftest import Clinic, ny

pytestmark = pytest.mark.django_db
URL = "/api/v1/waitlist/"


def body(clinic: Clinic, **overrides: Any) -> dict[str, Any]:
    return {
        "patient": str(clinic.patient2.public_id), "service_type": str(clinic.infusion.public_id),
        "locations": [str(clinic.location.public_id)], "weekdays": [0, 2], "time_windows": [["08:00", "12:00"]],
        "earliest_date": "2026-10-02", "latest_date": "2026-10-30", "priority": 2, "note": "Can come at short notice",
        **overrides,
    }  # fmt: skip


def test_reception_adds_reads_edits_and_removes_an_entry(clinic: Clinic) -> None:
    reception = clinic.client(clinic.reception)
    created = reception.post(URL, body(clinic), format="json")
    assert created.status_code == 201, created.json()
    entry = created.json()
    assert (entry["weekdays"], entry["time_windows"], entry["status"], entry["series"]) == (
        [0, 2], [["08:00", "12:00"]], "waiting", None,
    )  # fmt: skip
    assert entry["locations"] == [str(clinic.location.public_id)]

    changed = reception.patch(f"{URL}{entry['id']}/", {"priority": 5, "weekdays": []}, format="json")
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["priority"], changed.json()["weekdays"], changed.json()["note"]) == (
        5, [], "Can come at short notice",
    )  # fmt: skip

    listed = reception.get(URL, {"patient": str(clinic.patient2.public_id), "status": "waiting"})
    assert [row["id"] for row in listed.json()["results"]] == [entry["id"]]
    assert clinic.client(clinic.clinician).get(f"{URL}{entry['id']}/").status_code == 200

    assert reception.delete(f"{URL}{entry['id']}/").status_code == 204
    assert WaitlistEntry.objects.get(public_id=entry["id"]).status == WaitlistStatus.REMOVED  # kept, as removed
    assert reception.get(URL, {"status": "waiting"}).json()["results"] == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"time_windows": [["12:00", "08:00"]]}, "time_windows"),
        ({"time_windows": [["8am", "12:00"]]}, "time_windows"),
        ({"weekdays": [7]}, "weekdays"),
        ({"earliest_date": "2026-10-30", "latest_date": "2026-10-02"}, "latest_date"),
        ({"locations": []}, "locations"),
        ({"priority": "high"}, "priority"),
    ],
)
def test_an_entry_that_cannot_match_anything_is_a_400_naming_the_field(
    clinic: Clinic, overrides: dict[str, Any], field: str
) -> None:
    response = clinic.client(clinic.reception).post(URL, body(clinic, **overrides), format="json")
    assert response.status_code in (400, 422), response.json()
    assert any(key.split(".")[0] == field for key in response.json()["errors"]), response.json()
    assert not WaitlistEntry.objects.exists()


def test_a_location_of_another_clinic_group_is_not_found(clinic: Clinic) -> None:
    elsewhere = LocationFactory(group=ClinicGroupFactory())
    response = clinic.client(clinic.reception).post(URL, body(clinic, locations=[str(elsewhere.public_id)]),
                                                    format="json")  # fmt: skip
    assert response.status_code == 400
    assert "locations.0" in response.json()["errors"]


def test_offers_list_shows_those_in_flight_in_the_locations_offset(clinic: Clinic) -> None:
    reception = clinic.client(clinic.reception)
    entry = reception.post(URL, body(clinic, weekdays=[], time_windows=[]), format="json").json()
    visit = appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion,
                             location=clinic.location, start=ny(dt.date(2026, 10, 5), 9))  # fmt: skip
    appointment_cancel(actor=clinic.reception, appointment=visit, reason="Unwell")
    slots_offer()
    offers = reception.get(f"{URL}offers/", {"status": "open"}).json()["results"]
    assert [(offer["entry"], offer["status"], offer["start"]) for offer in offers] == [
        (entry["id"], "open", "2026-10-05T09:00:00-04:00")
    ]
    assert offers[0]["expires_at"] == "2026-10-01T08:30:00-04:00"
    assert reception.get(f"{URL}offers/", {"status": "claimed"}).json()["results"] == []
