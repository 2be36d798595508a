"""Referring providers as records, linked to patients; NPIs by their check digit."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from backend.identifiers import NPI_PREFIX, luhn_check_digit, validate_npi
from scheduling.models import ReferringProvider
from tests.factories import ClinicGroupFactory
from tests.scheduling.conftest import Clinic

VALID_NPIS = ["1234567893", "1245319599", "1003000126"]  # CMS's worked example, and two more


@pytest.mark.parametrize("npi", VALID_NPIS)
def test_published_npis_pass_the_check_digit(npi: str) -> None:
    validate_npi(npi)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(0, 9))
def test_exactly_one_check_digit_makes_an_npi_valid(base: str, digit: int) -> None:
    valid = digit == luhn_check_digit(NPI_PREFIX + base)
    try:
        validate_npi(base + str(digit))
    except ValidationError:
        assert not valid
    else:
        assert valid


@pytest.mark.parametrize("npi", ["12345", "1234567890", "12345678931", "123456789X", " 1234567893"])
def test_wrong_npis_are_refused(npi: str) -> None:
    with pytest.raises(ValidationError):
        validate_npi(npi)


def test_reception_records_a_provider_and_links_a_patient(clinic: Clinic) -> None:
    client = clinic.client(clinic.reception)
    created = client.post("/api/v1/referring-providers/", {
        "name": "Dr. Lena Ortiz", "credentials": "MD", "practice": "Back Bay Psychiatry", "npi": "1234567893",
        "phone": "+16175550100", "fax": "+16175550101", "email": "ortiz@example.com", "address": "1 Main St, Boston",
    }, format="json")  # fmt: skip
    assert created.status_code == 201, created.content
    provider = created.json()["id"]
    linked = client.patch(f"/api/v1/patients/{clinic.patient.public_id}/", {"referrer": provider}, format="json")
    assert (linked.status_code, linked.json()["referrer"]) == (200, provider)
    clinic.patient.refresh_from_db()
    assert clinic.patient.referrer == ReferringProvider.objects.get(public_id=provider)


def test_a_bad_npi_or_another_groups_provider_is_a_400_naming_the_field(clinic: Clinic) -> None:
    client = clinic.client(clinic.reception)
    bad = client.post("/api/v1/referring-providers/", {"name": "Dr. X", "npi": "1234567890"}, format="json")
    assert (bad.status_code, list(bad.json()["errors"])) == (400, ["npi"])
    elsewhere = ReferringProvider.objects.create(group=ClinicGroupFactory(), name="Dr. Elsewhere")
    linked = client.patch(f"/api/v1/patients/{clinic.patient.public_id}/", {"referrer": str(elsewhere.public_id)},
                          format="json")  # fmt: skip
    assert (linked.status_code, list(linked.json()["errors"])) == (400, ["referrer"])


def test_accountants_read_providers_but_do_not_write_them(clinic: Clinic) -> None:
    ReferringProvider.objects.create(group=clinic.group, name="Dr. Lena Ortiz")
    client = clinic.client(clinic.accountant)
    assert [row["name"] for row in client.get("/api/v1/referring-providers/").json()["results"]] == ["Dr. Lena Ortiz"]
    assert client.post("/api/v1/referring-providers/", {"name": "Dr. Y"}, format="json").status_code == 403
