"""Measures through the API: scored on the server, refused naming the item, read only by whom may."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from backend.models import AuditEvent, User
from backend.roles import Role
from outcomes.models import Instrument, InstrumentItem, InstrumentOption, Measure, MeasureSource, SeverityBand
from scheduling.models import Appointment
from tests.factories import ClinicGroupFactory, UserFactory
from tests.outcomes.conftest import phq9
from tests.scheduling.conftest import Clinic

pytestmark = pytest.mark.usefixtures("instruments")


def measures_url(clinic: Clinic, patient: Any = None) -> str:
    return f"/api/v1/patients/{(patient or clinic.patient).public_id}/measures/"


def patient_user(clinic: Clinic) -> User:
    user = UserFactory(roles=[Role.PATIENT])
    clinic.patient.user = user
    clinic.patient.save()
    return user


def post(clinic: Clinic, user: User, body: dict[str, Any], patient: Any = None) -> Any:
    return clinic.client(user).post(measures_url(clinic, patient), body, format="json")


def test_a_clinician_records_a_phq9_and_gets_its_score_band_and_change(clinic: Clinic) -> None:
    first = post(clinic, clinic.clinician, {"instrument": "phq-9", "answers": [2] * 9})
    assert first.status_code == 201, first.content
    assert first.json() | {"id": None, "taken_at": None} == {
        "id": None, "patient": str(clinic.patient.public_id), "instrument": "phq-9", "instrument_version": 1,
        "answers": [2] * 9, "total": 18, "severity": "moderately severe", "flags": ["self_harm"],
        "taken_at": None, "appointment": None, "source": "staff", "change_from_baseline": None,
        "crisis_guidance": first.json()["crisis_guidance"],
    }  # fmt: skip
    second = post(clinic, clinic.clinician, {"instrument": "phq-9", "answers": phq9(item9=0, rest=1)})
    assert (second.json()["total"], second.json()["severity"], second.json()["flags"]) == (8, "mild", [])
    assert second.json()["change_from_baseline"] == -10
    assert second.json()["crisis_guidance"] is None
    stored = Measure.objects.get(public_id=second.json()["id"])
    assert (stored.total, stored.instrument.version, stored.entered_by, stored.source) == (
        8, 1, clinic.clinician, MeasureSource.STAFF,
    )  # fmt: skip


def test_a_patient_answers_their_own_form_tied_to_their_visit_and_nobody_elses(clinic: Clinic) -> None:
    user = patient_user(clinic)
    visit = Appointment.objects.create(
        patient=clinic.patient, service_type=clinic.infusion, location=clinic.location, resource=clinic.chairs[0],
        start=dt.datetime(2026, 10, 2, 14, tzinfo=dt.UTC), end=dt.datetime(2026, 10, 2, 15, tzinfo=dt.UTC),
        hold_until=dt.datetime(2026, 10, 2, 16, tzinfo=dt.UTC),
    )  # fmt: skip
    own = post(clinic, user, {"instrument": "gad-7", "answers": [1] * 7, "appointment": str(visit.public_id)})
    assert own.status_code == 201, own.content
    assert (own.json()["source"], own.json()["appointment"], own.json()["severity"]) == (
        "patient", str(visit.public_id), "mild",
    )  # fmt: skip
    other = post(clinic, user, {"instrument": "gad-7", "answers": [1] * 7}, patient=clinic.patient2)
    assert other.status_code == 404
    assert not Measure.objects.filter(patient=clinic.patient2).exists()


@pytest.mark.parametrize(
    ("answers", "field", "detail"),
    [
        ([1] * 8, "answers", "This instrument has 9 items; 8 answers were given."),
        ([1] * 10, "answers", "This instrument has 9 items; 10 answers were given."),
        ([1, 1, 4, 1, 1, 1, 1, 1, 1], "answers.3", "Item 3: 4 is not one of 0, 1, 2, 3."),
        ([1, 1, 1, 1, 1, 1, 1, 1, -1], "answers.9", "Item 9: -1 is not one of 0, 1, 2, 3."),
        ([1, 1, 1, 1, "2", 1, 1, 1, 1], "answers.5", "Item 5: '2' is not one of 0, 1, 2, 3."),
        ([1, 1, 1, True, 1, 1, 1, 1, 1], "answers.4", "Item 4: True is not one of 0, 1, 2, 3."),
        ("1,1,1", "answers", "Expected a list of answers, one per item."),
    ],
)
def test_wrong_answers_get_400_naming_the_item_and_store_nothing(
    clinic: Clinic, answers: Any, field: str, detail: str
) -> None:
    response = post(clinic, clinic.clinician, {"instrument": "phq-9", "answers": answers})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in response.json()["errors"]
    assert detail in response.json()["detail"] or detail in response.json()["errors"][field][0]
    assert not Measure.objects.exists()


def test_unknown_instruments_future_times_and_other_patients_visits_are_refused(clinic: Clinic) -> None:
    unknown = post(clinic, clinic.clinician, {"instrument": "bdi-ii", "answers": [0]})
    assert (unknown.status_code, list(unknown.json()["errors"])) == (400, ["instrument"])
    future = post(clinic, clinic.clinician, {"instrument": "phq-9", "answers": [0] * 9,
                                            "taken_at": "2026-10-01T13:00:00Z"})  # fmt: skip
    assert (future.status_code, list(future.json()["errors"])) == (400, ["taken_at"])
    visit = Appointment.objects.create(
        patient=clinic.patient2, service_type=clinic.infusion, location=clinic.location, resource=clinic.chairs[0],
        start=dt.datetime(2026, 10, 2, 14, tzinfo=dt.UTC), end=dt.datetime(2026, 10, 2, 15, tzinfo=dt.UTC),
        hold_until=dt.datetime(2026, 10, 2, 16, tzinfo=dt.UTC),
    )  # fmt: skip
    theirs = post(clinic, clinic.clinician, {"instrument": "phq-9", "answers": [0] * 9,
                                            "appointment": str(visit.public_id)})  # fmt: skip
    assert (theirs.status_code, list(theirs.json()["errors"])) == (400, ["appointment"])
    assert not Measure.objects.exists()


def test_outcomes_give_baseline_latest_lowest_change_response_and_remission(
    clinic: Clinic, frozen_now: time_machine.Traveller
) -> None:
    for rest in (2, 1, 0):  # PHQ-9 totals 16, 8, 0 two weeks apart
        assert post(clinic, clinic.clinician, {"instrument": "phq-9", "answers": phq9(rest=rest)}).status_code == 201
        frozen_now.shift(dt.timedelta(days=14))
    post(clinic, clinic.clinician, {"instrument": "pcl-5", "answers": [3] * 20})  # 60: one measure only
    response = clinic.client(clinic.clinician).get(f"/api/v1/patients/{clinic.patient.public_id}/outcomes/")
    assert response.status_code == 200
    pcl, phq = response.json()  # by code
    assert (phq["instrument"], phq["count"], phq["baseline"]["total"], phq["latest"]["total"]) == ("phq-9", 3, 16, 0)
    assert phq["lowest"]["total"] == 0
    assert (phq["change_from_baseline"], phq["response"], phq["remission"]) == (-16, True, True)
    assert (pcl["instrument"], pcl["baseline"]["total"], pcl["lowest"], pcl["response"], pcl["remission"]) == (
        "pcl-5", 60, None, None, None,
    )  # fmt: skip
    listed = clinic.client(clinic.clinician).get(measures_url(clinic) + "?instrument=phq-9").json()
    assert [measure["total"] for measure in listed] == [16, 8, 0]


def test_response_needs_half_the_baseline_and_remission_the_instruments_threshold(clinic: Clinic) -> None:
    post(clinic, clinic.clinician, {"instrument": "phq-9", "answers": [1] * 8 + [0]})  # 8
    post(clinic, clinic.clinician, {"instrument": "phq-9", "answers": [1] * 5 + [0] * 4})  # 5: not half, not < 5
    phq = clinic.client(clinic.clinician).get(f"/api/v1/patients/{clinic.patient.public_id}/outcomes/").json()[0]
    assert (phq["response"], phq["remission"]) == (False, False)
    post(clinic, clinic.clinician, {"instrument": "phq-9", "answers": [1] * 4 + [0] * 5})  # 4: exactly half
    phq = clinic.client(clinic.clinician).get(f"/api/v1/patients/{clinic.patient.public_id}/outcomes/").json()[0]
    assert (phq["response"], phq["remission"], phq["lowest"]["total"]) == (True, True, 4)


@pytest.mark.parametrize("role", ["accountant", "reception"])
def test_accountants_and_reception_get_404_on_measures_and_outcomes(clinic: Clinic, role: str) -> None:
    post(clinic, clinic.clinician, {"instrument": "phq-9", "answers": [1] * 9})
    client = clinic.client(getattr(clinic, role))
    assert client.get(measures_url(clinic)).status_code == 404
    assert client.get(f"/api/v1/patients/{clinic.patient.public_id}/outcomes/").status_code == 404
    assert client.post(measures_url(clinic), {"instrument": "phq-9", "answers": [0] * 9}, format="json").status_code \
        == 404  # fmt: skip
    assert Measure.objects.count() == 1


def test_every_read_of_measures_is_in_the_audit_trail(clinic: Clinic) -> None:
    post(clinic, clinic.clinician, {"instrument": "phq-9", "answers": [1] * 9})
    clinic.client(clinic.clinician).get(measures_url(clinic))
    clinic.client(clinic.admin).get(f"/api/v1/patients/{clinic.patient.public_id}/outcomes/")
    clinic.client(clinic.accountant).get(measures_url(clinic))  # refused, and recorded as refused
    events = AuditEvent.about(clinic.patient.public_id).order_by("at", "id")
    seen = [(event.actor_username, event.action, event.details["status"]) for event in events]
    assert seen == [
        (clinic.clinician.username, "measures", 201),
        (clinic.clinician.username, "read measures", 200),
        (clinic.admin.username, "read outcomes", 200),
        (clinic.accountant.username, "read measures", 404),
    ]


def test_instruments_list_the_current_version_of_the_standard_ones_and_the_clinics_own(clinic: Clinic) -> None:
    own = Instrument.objects.create(group=clinic.group, code="phq-9", version=2, name="PHQ-9 (our wording)")
    for number in range(1, 10):
        InstrumentItem.objects.create(instrument=own, number=number, text=f"Question {number}")
    for value in range(4):
        InstrumentOption.objects.create(instrument=own, value=value, label=str(value))
    SeverityBand.objects.create(instrument=own, min_total=0, max_total=27, label="any")
    elsewhere = Instrument.objects.create(group=ClinicGroupFactory(), code="whodas", name="Another clinic's")
    listed = clinic.client(clinic.reception).get("/api/v1/instruments/").json()
    assert [(item["code"], item["version"]) for item in listed] == [("gad-7", 1), ("pcl-5", 1), ("phq-9", 2)]
    assert elsewhere.code not in {item["code"] for item in listed}
    assert listed[1]["options"][4] == {"value": 4, "label": "Extremely"}
    created = post(clinic, clinic.clinician, {"instrument": "phq-9", "answers": [3] * 9})
    made = created.json()
    assert (made["instrument_version"], made["severity"], made["flags"]) == (2, "any", [])
    old = Instrument.objects.get(group__isnull=True, code="phq-9", version=1)
    by_id = post(clinic, clinic.clinician, {"instrument": str(old.public_id), "answers": [3] * 9})
    assert (by_id.json()["instrument_version"], by_id.json()["severity"]) == (1, "severe")
    assert clinic.client(clinic.accountant).get("/api/v1/instruments/").status_code == 403
