"""Input bounds: body size and nesting, one date rule, place time zones, one money spelling, bounded lists,
no control characters in text. Each test is a request that used to answer 500 or store what it should refuse.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from backend.parsers import MAX_JSON_DEPTH, json_depth
from backend.strict_input import HAS_CONTROL_CHARACTERS
from scheduling.models import Patient
from tests.billing.conftest import issued_invoice, pay
from tests.factories import PASSWORD, UserFactory
from tests.scheduling.conftest import Clinic

ARABIC_INDIC_100 = "\u0661\u0660\u0660"


def problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    if field is not None:
        assert field in body["errors"], body
    return body


def new_patient(**fields: Any) -> dict[str, Any]:
    return {"first_name": "Alex", "last_name": "Rivera", "date_of_birth": "1980-01-01", **fields}


# --- body size and nesting --------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["[" * 5000, '{"a":' * 3000 + "1" + "}" * 3000, "[" * 17 + "]" * 17])
def test_deep_json_is_a_parse_error_for_anyone(clinic: Clinic, body: str) -> None:
    for client, url in ((clinic.client(clinic.admin), "/api/v1/appointments/"), (APIClient(), "/api/v1/auth/token/")):
        response = client.post(url, data=body, content_type="application/json")
        assert "deeper than 16 levels" in problem(response, 400)["detail"]


def test_json_depth_counts_lists_and_objects() -> None:
    assert json_depth(1) == 0
    assert json_depth({"lines": [{"description": "x"}]}) == 3
    assert json_depth([[[]]]) == 3
    assert json_depth(json.loads("[" * 40 + "]" * 40)) == MAX_JSON_DEPTH + 1  # stops counting past the bound


def test_a_body_above_the_upload_limit_is_a_413_problem_before_anything_reads_it(clinic: Clinic) -> None:
    body = json.dumps(new_patient(first_name="x" * (3 * 1024 * 1024)))
    response = clinic.client(clinic.reception).post("/api/v1/patients/", data=body, content_type="application/json")

    assert problem(response, 413)["code"] == "request_too_large"
    assert not Patient.objects.filter(last_name="Rivera").exists()


# --- dates ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("year", ["0001", "1899", "2201", "9999"])
def test_every_date_field_takes_years_1900_to_2200(clinic: Clinic, year: str) -> None:
    admin = clinic.client(clinic.admin)
    day = f"{year}-06-01"
    patient = clinic.patient.public_id
    problem(admin.post("/api/v1/patients/", new_patient(date_of_birth=day), format="json"), 400, "date_of_birth")
    problem(admin.post(f"/api/v1/patients/{patient}/clearance/", {"status": "cleared", "valid_until": day},
                       format="json"), 400, "valid_until")  # fmt: skip
    problem(admin.post(f"/api/v1/locations/{clinic.location.public_id}/closures/", {"date": day, "reason": "x"},
                       format="json"), 400, "date")  # fmt: skip
    problem(admin.get("/api/v1/availability/", {
        "service_type": str(clinic.infusion.public_id), "location": str(clinic.location.public_id),
        "from": f"{day}T00:00:00Z", "to": f"{day}T23:00:00Z",
    }), 400)  # fmt: skip
    problem(admin.get("/api/v1/reports/revenue/", {"from": day, "to": day}), 400, "from")
    problem(admin.get("/api/v1/reports/daily-close/", {"date": day}), 400)


def test_a_date_of_birth_cannot_be_in_the_future(clinic: Clinic) -> None:
    reception = clinic.client(clinic.reception)
    body = problem(reception.post("/api/v1/patients/", new_patient(date_of_birth="2100-01-01"), format="json"), 400)
    assert body["errors"]["date_of_birth"] == ["A date of birth cannot be in the future."]

    today = dt.datetime.now(dt.UTC).date().isoformat()  # the clock is pinned by the clinic fixture
    assert reception.post("/api/v1/patients/", new_patient(date_of_birth=today), format="json").status_code == 201


# --- time zones ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "Etc/GMT+5", "EST5EDT", "US/Eastern", "UTC"])
def test_time_zones_are_places(clinic: Clinic, zone: str) -> None:
    admin = clinic.client(clinic.admin)
    problem(admin.post("/api/v1/patients/", new_patient(timezone=zone), format="json"), 400, "timezone")
    problem(admin.patch(f"/api/v1/locations/{clinic.location.public_id}/", {"timezone": zone}, format="json"), 400,
            "timezone")  # fmt: skip


def test_a_place_zone_is_accepted(clinic: Clinic) -> None:
    response = clinic.client(clinic.admin).post("/api/v1/patients/", new_patient(timezone="Asia/Kolkata"),
                                                format="json")  # fmt: skip
    assert response.status_code == 201, response.content


# --- money ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount", ["1e3", "1E2", "1_000.00", ARABIC_INDIC_100, " 10.00", "10.00 ", "+10", ".5", "10.", "9999999999.99",
               "10000000", "NaN", "Infinity", "0x10", 12.5, 10, 0, True, None, ["10"]],
)  # fmt: skip
def test_money_has_one_spelling(clinic: Clinic, amount: Any) -> None:
    invoice = issued_invoice(clinic)
    problem(pay(clinic.client(clinic.reception), invoice, amount), 400, "amount")
    assert not invoice.payments.exists()


@pytest.mark.parametrize(("amount", "paid"), [("450.00", "450.00"), ("9.5", "9.50"), ("10", "10.00")])
def test_plain_amounts_still_pay(clinic: Clinic, amount: Any, paid: str) -> None:
    response = pay(clinic.client(clinic.reception), issued_invoice(clinic), amount)
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == paid


def test_a_service_price_is_money_too(clinic: Clinic) -> None:
    admin = clinic.client(clinic.admin)
    url = f"/api/v1/service-types/{clinic.infusion.public_id}/"
    for price in ("1e3", "-5.00", "10.001", ARABIC_INDIC_100):
        problem(admin.patch(url, {"price": price}, format="json"), 400, "price")
    problem(admin.patch(url, {"price": 0}, format="json"), 400, "price")  # a number where the schema says string
    assert admin.patch(url, {"price": "425.50"}, format="json").json()["price"] == "425.50"
    problem(admin.patch(url, {"is_active": 0}, format="json"), 400, "is_active")  # where it says boolean
    assert admin.patch(url, {"is_active": False}, format="json").json()["is_active"] is False


# --- lists ---------------------------------------------------------------------------------------------------


def test_long_lists_are_refused_before_any_entry_is_looked_up(clinic: Clinic) -> None:
    accountant = clinic.client(clinic.accountant)
    visit = str(clinic.patient.public_id)  # any id: the count is refused before ids are read
    with CaptureQueriesContext(connection) as queries:
        body = problem(accountant.post("/api/v1/invoices/", {
            "patient": str(clinic.patient.public_id), "location": str(clinic.location.public_id),
            "appointments": [visit] * 10_000,
        }, format="json"), 400, "appointments")  # fmt: skip
    assert body["errors"]["appointments"] == ["Send at most 100 items."]
    assert not [query for query in queries if "scheduling_appointment" in query["sql"]]


@pytest.mark.parametrize(
    ("url", "field", "value"),
    [
        ("/api/v1/invoices/", "lines", [{"description": "x", "unit_price": "1.00"}] * 101),
        ("/api/v1/appointments/", "staff", ["00000000-0000-0000-0000-000000000000"] * 5000),
        ("/api/v1/patients/", "diagnosis_codes", ["F32.1"] * 13),
    ],
)
def test_lists_are_bounded(clinic: Clinic, url: str, field: str, value: list[Any]) -> None:
    response = clinic.client(clinic.admin).post(url, {field: value}, format="json")
    assert problem(response, 400, field)["errors"][field][0].startswith("Send at most")


# --- control characters --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Al\x07ex", "Alex\x00", "\x1b[31mAlex", "Al\x85ex"])
def test_names_with_control_characters_are_refused(clinic: Clinic, name: str) -> None:
    response = clinic.client(clinic.reception).post("/api/v1/patients/", new_patient(first_name=name), format="json")
    problem(response, 400, "first_name")


def test_free_text_keeps_its_line_breaks(clinic: Clinic) -> None:
    response = clinic.client(clinic.clinician).post(
        f"/api/v1/patients/{clinic.patient.public_id}/clearance/",
        {"status": "cleared", "valid_until": "2027-06-01", "notes": "Line one\r\n\tLine two"}, format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["notes"] == "Line one\r\n\tLine two"


def test_the_admin_refuses_control_characters_too(clinic: Clinic) -> None:
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    assert client.login(username=superuser.username, password=PASSWORD)
    url = f"/admin/scheduling/patient/{clinic.patient.pk}/change/"
    response = client.post(url, {
        "group": clinic.group.pk, "first_name": "Al\x07ex", "last_name": "Rivera", "date_of_birth": "1980-01-01",
        "timezone": "America/New_York",
    })  # fmt: skip

    assert response.status_code == 200  # the form again, with its error
    assert response.context["adminform"].form.errors == {"first_name": [HAS_CONTROL_CHARACTERS]}
    clinic.patient.refresh_from_db()
    assert clinic.patient.first_name != "Al\x07ex"


def test_an_xlsx_export_of_a_name_stored_before_the_rule_succeeds(clinic: Clinic) -> None:
    issued = issued_invoice(clinic).issued_at
    assert issued is not None
    Patient.objects.filter(pk=clinic.patient.pk).update(first_name="Al\x07ex")  # as an older row might hold it
    response: Any = clinic.client(clinic.accountant).get("/api/v1/exports/stream/", {
        "kind": "invoices", "format": "xlsx", "from": str(issued.date()), "to": str(issued.date()),
    })  # fmt: skip

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    assert sheet is not None
    header, row = list(sheet.iter_rows(values_only=True))
    assert row[header.index("patient_name")] == f"Alex {clinic.patient.last_name}"
