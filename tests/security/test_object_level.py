"""Object-level access: another patient's records, and another clinic group's, are 404 with no data."""

from __future__ import annotations

import pytest
import time_machine
from rest_framework.test import APIClient

from backend.roles import Role
from tests.factories import UserFactory
from tests.scheduling.conftest import Clinic, make_clinic
from tests.security.records import patient_records

ERROR_FIELDS = {"type", "title", "status", "detail", "code", "errors"}


@pytest.fixture
def others_records(clinic: Clinic, frozen_now: time_machine.Traveller) -> list[str]:
    """URLs of every kind of record belonging to clinic.patient (whom the attacker is not)."""
    records = patient_records(clinic)
    appointment, series, payment = records.appointment, records.series, records.payment
    invoice, refund, sale = records.invoice, records.refund, records.sale
    patient = clinic.patient.public_id
    return [
        f"/api/v1/patients/{patient}/", f"/api/v1/appointments/{appointment}/",
        f"/api/v1/appointments/{appointment}/reminders/", f"/api/v1/series/{series}/",
        f"/api/v1/invoices/{invoice.public_id}/", f"/api/v1/invoices/{invoice.public_id}/pdf/",
        f"/api/v1/payments/{payment}/", f"/api/v1/payments/{payment}/receipt/",
        f"/api/v1/refunds/{refund.public_id}/receipt/", f"/api/v1/package-sales/{sale}/",
        f"/api/v1/patients/{patient}/superbill/?from=2026-10-01&to=2026-10-31",
    ]  # fmt: skip


def assert_not_found_with_no_data(client: APIClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404, (url, response.status_code)
    assert set(response.json()) <= ERROR_FIELDS, (url, response.json())


def test_a_patient_gets_404_with_no_data_for_every_record_of_another_patient(
    clinic: Clinic, others_records: list[str]
) -> None:
    intruder = UserFactory(roles=[Role.PATIENT])
    clinic.patient2.user = intruder
    clinic.patient2.save()
    client = clinic.client(intruder)

    for url in others_records:
        assert_not_found_with_no_data(client, url)


def test_staff_of_another_clinic_group_get_404_for_every_record(clinic: Clinic, others_records: list[str]) -> None:
    elsewhere = make_clinic()
    for user in (elsewhere.reception, elsewhere.accountant, elsewhere.admin):
        client = elsewhere.client(user)
        for url in others_records:
            assert_not_found_with_no_data(client, url)
