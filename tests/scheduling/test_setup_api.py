"""Clinic set-up and patients through the API: admins write, staff read, patients see themselves."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from backend.roles import Role
from scheduling.models import Clearance, Location, OpeningRule
from tests.factories import PatientFactory, UserFactory
from tests.scheduling.conftest import Clinic


def test_admin_creates_a_location_in_their_group(clinic: Clinic) -> None:
    response = clinic.client(clinic.admin).post(
        "/api/v1/locations/",
        {
            "name": "Denver",
            "timezone": "America/Denver",
            "currency": "USD",
            "address": "1 Main",
            "phone": "+13035550100",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert set(response.json()) >= {"id", "name", "timezone", "currency", "address", "phone"}
    assert Location.objects.get(public_id=response.json()["id"]).group == clinic.group


def test_an_unknown_time_zone_is_a_field_error(clinic: Clinic) -> None:
    response = clinic.client(clinic.admin).post(
        "/api/v1/locations/", {"name": "X", "timezone": "Mars/Olympus", "currency": "USD"}, format="json"
    )

    assert response.status_code == 400
    assert "timezone" in response.json()["errors"]


def test_reception_reads_but_cannot_change_set_up(clinic: Clinic) -> None:
    client = clinic.client(clinic.reception)

    assert client.get("/api/v1/locations/").status_code == 200
    assert client.post("/api/v1/locations/", {"name": "X"}, format="json").status_code == 403
    assert client.post("/api/v1/service-types/", {}, format="json").status_code == 403


def test_opening_hours_round_trip_and_replace(clinic: Clinic) -> None:
    url = f"/api/v1/locations/{clinic.location.public_id}/opening-hours/"
    client = clinic.client(clinic.admin)

    listed = client.get(url).json()
    assert {
        "weekday": 4,
        "opens": "08:00",
        "closes": "16:30",
        "every_n_weeks": 2,
        "anchor_date": "2026-11-06",
    } in listed

    new_hours = [{"weekday": day, "opens": "09:00", "closes": "17:00"} for day in range(5)]
    replaced = client.put(url, new_hours, format="json")

    assert replaced.status_code == 200, replaced.json()
    assert OpeningRule.objects.filter(location=clinic.location).count() == 5
    assert client.get(url).json()[0] == {
        "weekday": 0, "opens": "09:00", "closes": "17:00", "every_n_weeks": 1, "anchor_date": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"weekday": 7, "opens": "08:00", "closes": "16:00"}, "weekday"),
        ({"weekday": 1, "opens": "16:00", "closes": "08:00"}, "closes"),
        ({"weekday": 4, "opens": "08:00", "closes": "16:00", "every_n_weeks": 2}, "anchor_date"),
    ],
)
def test_bad_opening_rules_are_refused_and_nothing_changes(clinic: Clinic, rule: dict[str, object], field: str) -> None:
    url = f"/api/v1/locations/{clinic.location.public_id}/opening-hours/"
    before = OpeningRule.objects.filter(location=clinic.location).count()

    response = clinic.client(clinic.admin).put(
        url, [{"weekday": 0, "opens": "08:00", "closes": "12:00"}, rule], format="json"
    )

    assert response.status_code == 400
    assert any(key.endswith(field) for key in response.json()["errors"]), response.json()
    assert OpeningRule.objects.filter(location=clinic.location).count() == before


def test_closures_are_added_listed_and_removed_by_date(clinic: Clinic) -> None:
    url = f"/api/v1/locations/{clinic.location.public_id}/closures/"
    client = clinic.client(clinic.admin)

    assert client.post(url, {"date": "2026-12-25", "reason": "Christmas"}).status_code == 201
    duplicate = client.post(url, {"date": "2026-12-25", "reason": "again"})
    assert duplicate.status_code == 400
    assert client.get(url).json() == [{"date": "2026-12-25", "reason": "Christmas"}]
    assert client.delete(f"{url}2026-12-25/").status_code == 204
    assert client.get(url).json() == []


def test_resources_staff_and_service_types_use_public_ids(clinic: Clinic) -> None:
    client = clinic.client(clinic.reception)

    resources = client.get("/api/v1/resources/", {"location": str(clinic.location.public_id), "kind": "chair"}).json()
    staff = client.get("/api/v1/staff/").json()
    services = client.get("/api/v1/service-types/").json()

    assert {row["name"] for row in resources["results"]} == {"Chair 1", "Chair 2"}
    assert {row["name"] for row in staff["results"]} >= {"Nurse Joy", "Dr. Chen"}
    infusion = next(row for row in services["results"] if row["code"] == "infusion")
    assert infusion["price"] == "450.00"
    assert infusion["currency"] == "USD"
    assert infusion["billing_codes"] == ["96365", "J3490"]
    assert infusion["reminder_offsets_hours"] == [72, 24, 2]


def test_staff_shifts_are_managed_per_staff_member(clinic: Clinic) -> None:
    url = f"/api/v1/staff/{clinic.nurse.public_id}/shifts/"
    client = clinic.client(clinic.admin)

    shifts = client.get(url).json()
    assert len(shifts) == 5
    assert shifts[0]["location"] == str(clinic.location.public_id)


def test_a_service_longer_than_twelve_hours_with_recovery_is_refused(clinic: Clinic) -> None:
    response = clinic.client(clinic.admin).post(
        "/api/v1/service-types/",
        {"code": "marathon", "name": "Too long", "duration_minutes": 600, "recovery_minutes": 200,
         "resource_kind": "chair", "price": "10.00", "currency": "USD"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 400
    assert "recovery_minutes" in response.json()["errors"]


def test_a_negative_price_is_refused(clinic: Clinic) -> None:
    response = clinic.client(clinic.admin).patch(
        f"/api/v1/service-types/{clinic.infusion.public_id}/", {"price": "-1.00"}, format="json"
    )

    assert response.status_code == 400
    assert "price" in response.json()["errors"]


# --- patients ---------------------------------------------------------------------------


def test_reception_registers_a_patient(clinic: Clinic) -> None:
    response = clinic.client(clinic.reception).post(
        "/api/v1/patients/",
        {
            "first_name": "Ana", "last_name": "Núñez", "date_of_birth": "1990-02-03", "email": "ana@example.com",
            "phone": "+1 617-555-0142", "timezone": "America/New_York", "email_consent": True, "sms_consent": True,
            "designated_driver": "Luis, +16175550143", "referring_provider": "Dr. Ortiz", "diagnosis_codes": ["F43.10"],
        },
        format="json",
    )  # fmt: skip

    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == "+16175550142"
    assert response.json()["clearance_status"] is None


def test_sms_consent_needs_a_phone_number(clinic: Clinic) -> None:
    response = clinic.client(clinic.reception).post(
        "/api/v1/patients/",
        {"first_name": "A", "last_name": "B", "date_of_birth": "1990-02-03", "sms_consent": True},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"phone": ["A phone number is needed for SMS consent."]}


def test_clinicians_record_clearance_and_reception_sees_its_status(clinic: Clinic) -> None:
    patient = PatientFactory(group=clinic.group)
    url = f"/api/v1/patients/{patient.public_id}/clearance/"

    response = clinic.client(clinic.clinician).post(
        url, {"status": "cleared", "valid_until": "2027-06-30", "notes": "BP fine"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["recorded_by"] == clinic.clinician.username
    seen = clinic.client(clinic.reception).get(f"/api/v1/patients/{patient.public_id}/").json()
    assert seen["clearance_status"] == "cleared"
    assert seen["clearance_valid_until"] == "2027-06-30"
    assert "notes" not in seen


def test_a_clearance_without_expiry_is_refused(clinic: Clinic) -> None:
    patient = PatientFactory(group=clinic.group)

    response = clinic.client(clinic.clinician).post(
        f"/api/v1/patients/{patient.public_id}/clearance/", {"status": "cleared"}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["errors"] == {"valid_until": ["Required when cleared."]}
    assert not Clearance.objects.filter(patient=patient).exists()


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ACCOUNTANT, Role.PATIENT])
def test_only_clinicians_and_admins_record_clearance(clinic: Clinic, role: str) -> None:
    user = UserFactory(roles=[role])
    clinic.group.members.add(user)

    response = clinic.client(user).post(
        f"/api/v1/patients/{clinic.patient.public_id}/clearance/",
        {"status": "cleared", "valid_until": "2027-01-01"},
        format="json",
    )

    assert response.status_code == 403


def test_a_patient_reads_only_their_own_record(clinic: Clinic) -> None:
    user = UserFactory(roles=[Role.PATIENT])
    clinic.patient.user = user
    clinic.patient.save()
    client = clinic.client(user)

    assert [row["id"] for row in client.get("/api/v1/patients/").json()["results"]] == [str(clinic.patient.public_id)]
    assert client.get(f"/api/v1/patients/{clinic.patient2.public_id}/").status_code == 404
    assert client.patch(f"/api/v1/patients/{clinic.patient.public_id}/", {"first_name": "X"}).status_code == 403
    me = client.get("/api/v1/me/").json()
    assert me["patient"] == str(clinic.patient.public_id)


def test_patients_search_by_name(clinic: Clinic) -> None:
    response = clinic.client(clinic.reception).get("/api/v1/patients/", {"search": "jam"})

    assert [row["first_name"] for row in response.json()["results"]] == ["Jamie"]


def test_anonymous_callers_get_401_everywhere(clinic: Clinic) -> None:
    client = APIClient()
    for url in ("/api/v1/locations/", "/api/v1/patients/", "/api/v1/staff/", "/api/v1/service-types/"):
        assert client.get(url).status_code == 401


def test_dates_are_plain_iso(clinic: Clinic) -> None:
    data = clinic.client(clinic.reception).get(f"/api/v1/patients/{clinic.patient.public_id}/").json()

    assert dt.date.fromisoformat(data["date_of_birth"]) == clinic.patient.date_of_birth


def test_duplicate_resource_names_and_service_codes_are_field_errors(clinic: Clinic) -> None:
    client = clinic.client(clinic.admin)

    resource = client.post(
        "/api/v1/resources/", {"location": str(clinic.location.public_id), "name": "Chair 1", "kind": "chair"}
    )
    service = client.patch(f"/api/v1/service-types/{clinic.kap.public_id}/", {"code": "infusion"}, format="json")

    assert resource.status_code == 400
    assert resource.json()["errors"] == {"name": ["A resource with this name exists at the location."]}
    assert service.status_code == 400
    assert service.json()["errors"] == {"code": ["A service type with this code exists."]}
