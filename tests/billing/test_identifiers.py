"""Identifiers are checked where they are entered: a 400 naming the field, nothing written."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.identifiers import NPI_PREFIX, luhn_check_digit, validate_npi
from billing.models import BillingPolicy, FeeScheduleItem
from scheduling.models import Patient, StaffMember
from tests.scheduling.conftest import Clinic


def errors_of(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, (response.status_code, response.json())
    return dict(response.json()["errors"])


@pytest.mark.parametrize(
    ("field", "value"),
    [("npi", "12345"), ("npi", "1234567890"), ("tax_id", "not-an-ein"), ("tax_id", "123456789"),
     ("invoice_prefix", "INV\x01"), ("invoice_prefix", "inv"), ("credit_note_prefix", "C N"),
     ("invoice_prefix", "-INV")],
)  # fmt: skip
def test_a_billing_policy_refuses_a_malformed_identifier(billing_clinic: Clinic, field: str, value: str) -> None:
    url = f"/api/v1/locations/{billing_clinic.location.public_id}/billing-policy/"
    before = BillingPolicy.objects.get(location=billing_clinic.location)
    response = billing_clinic.client(billing_clinic.admin).put(url, {field: value}, format="json")
    assert field in errors_of(response)
    assert getattr(BillingPolicy.objects.get(pk=before.pk), field) == getattr(before, field)


def test_a_billing_policy_takes_well_formed_identifiers(billing_clinic: Clinic) -> None:
    url = f"/api/v1/locations/{billing_clinic.location.public_id}/billing-policy/"
    body = {"npi": "1234567893", "tax_id": "98-7654321", "invoice_prefix": "INV-BOS2", "credit_note_prefix": "CN-BOS"}
    response = billing_clinic.client(billing_clinic.admin).put(url, body, format="json")
    assert response.status_code == 200, response.json()
    assert {key: response.json()[key] for key in body} == body


def test_a_staff_members_npi_is_checked(clinic: Clinic) -> None:
    admin, before = clinic.client(clinic.admin), clinic.nurse.npi
    response = admin.patch(f"/api/v1/staff/{clinic.nurse.public_id}/", {"npi": "12345"}, format="json")
    assert "npi" in errors_of(response)
    assert StaffMember.objects.get(pk=clinic.nurse.pk).npi == before
    assert admin.patch(f"/api/v1/staff/{clinic.nurse.public_id}/", {"npi": "1245319599"},
                       format="json").status_code == 200  # fmt: skip


@pytest.mark.parametrize("code", ["depression", "F4310", "f43.10", "F43.", "43.10"])
def test_diagnosis_codes_have_the_icd10_shape(clinic: Clinic, code: str) -> None:
    url = f"/api/v1/patients/{clinic.patient.public_id}/"
    response = clinic.client(clinic.reception).patch(url, {"diagnosis_codes": ["F43.10", code]}, format="json")
    assert any(key.startswith("diagnosis_codes") for key in errors_of(response))
    assert Patient.objects.get(pk=clinic.patient.pk).diagnosis_codes == ["F43.10"]


def test_well_formed_diagnosis_codes_are_kept(clinic: Clinic) -> None:
    url = f"/api/v1/patients/{clinic.patient.public_id}/"
    response = clinic.client(clinic.reception).patch(url, {"diagnosis_codes": ["F43.10", "F33.2", "Z91.19"]},
                                                     format="json")  # fmt: skip
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize(("code", "modifier"), [("ABC", ""), ("9636", ""), ("W1234", ""), ("96365", "2"),
                                                ("96365", "25/59")])  # fmt: skip
def test_fee_schedule_and_invoice_lines_take_cpt_and_hcpcs_codes_only(
    billing_clinic: Clinic, code: str, modifier: str
) -> None:
    clinic = billing_clinic
    accountant, admin = clinic.client(clinic.accountant), clinic.client(clinic.admin)
    fee = admin.post("/api/v1/fee-schedule/", {
        "service_type": str(clinic.infusion.public_id), "code": code, "modifier": modifier,
        "description": "Line", "quantity": "1", "unit_price": "10.00",
    }, format="json")  # fmt: skip
    assert set(errors_of(fee)) & {"code", "modifier"}
    draft = accountant.post("/api/v1/invoices/", {
        "patient": str(clinic.patient.public_id), "location": str(clinic.location.public_id),
        "lines": [{"description": "Line", "code": code, "modifier": modifier, "unit_price": "10.00"}],
    }, format="json")  # fmt: skip
    assert any(key.startswith("lines.0.") for key in errors_of(draft))


@pytest.mark.parametrize("code", ["96365", "0591T", "3074F", "J3490", "G0480"])
def test_cpt_category_ii_and_iii_and_hcpcs_level_ii_codes_are_accepted(billing_clinic: Clinic, code: str) -> None:
    clinic = billing_clinic
    draft = clinic.client(clinic.accountant).post("/api/v1/invoices/", {
        "patient": str(clinic.patient.public_id), "location": str(clinic.location.public_id),
        "lines": [{"description": "Line", "code": code, "unit_price": "10.00"}],
    }, format="json")  # fmt: skip
    assert draft.status_code == 201, draft.json()


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_an_npi_is_valid_exactly_when_its_check_digit_matches(stem: str) -> None:
    right = luhn_check_digit(NPI_PREFIX + stem)
    validate_npi(stem + str(right))
    for wrong in set(range(10)) - {right}:
        with pytest.raises(Exception, match="check digit"):
            validate_npi(stem + str(wrong))


def test_fee_schedule_items_are_addressed_by_opaque_ids(billing_clinic: Clinic) -> None:
    admin = billing_clinic.client(billing_clinic.admin)
    created = admin.post("/api/v1/fee-schedule/", {
        "service_type": str(billing_clinic.infusion.public_id), "code": "96366", "description": "Each added hour",
        "quantity": "1", "unit_price": "150.00",
    }, format="json")  # fmt: skip
    assert created.status_code == 201, created.json()
    item = created.json()["id"]
    assert str(uuid.UUID(item)) == item
    assert admin.get(f"/api/v1/fee-schedule/{item}/").json()["code"] == "96366"
    pk = FeeScheduleItem.objects.get(public_id=item).pk
    assert admin.get(f"/api/v1/fee-schedule/{pk}/").status_code == 404  # the database id means nothing
