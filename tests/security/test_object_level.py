"""Object-level access: another patient's records, and another clinic group's, are 404 with no data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from backend.roles import Role
from billing.models import Package, Payment
from billing.services.payments import refund_record
from tests.billing.conftest import MONDAY, add_fee_schedule, issued_invoice, pay
from tests.factories import UserFactory
from tests.scheduling.conftest import Clinic, make_clinic, ny

ERROR_FIELDS = {"type", "title", "status", "detail", "code", "errors"}


@pytest.fixture
def others_records(clinic: Clinic, frozen_now: time_machine.Traveller) -> list[str]:
    """URLs of every kind of record belonging to clinic.patient (whom the attacker is not)."""
    add_fee_schedule(clinic)
    reception = clinic.client(clinic.reception)
    invoice = issued_invoice(clinic)
    payment = pay(reception, invoice, "450.00").json()["id"]
    refund = refund_record(actor=clinic.accountant, payment=Payment.objects.get(public_id=payment),
                           amount=Decimal("5.00"), reason="test")  # fmt: skip
    appointment = reception.post("/api/v1/appointments/", {
        "patient": str(clinic.patient.public_id), "service_type": str(clinic.infusion.public_id),
        "location": str(clinic.location.public_id), "start": ny(MONDAY + dt.timedelta(days=2), 9).isoformat(),
    }, format="json").json()["id"]  # fmt: skip
    series = reception.post("/api/v1/series/", {
        "patient": str(clinic.patient.public_id), "service_type": str(clinic.infusion.public_id),
        "location": str(clinic.location.public_id), "count": 2, "first_date": str(MONDAY + dt.timedelta(days=14)),
        "time": "10:00", "weekdays": [0, 2],
    }, format="json").json()["id"]  # fmt: skip
    package = Package.objects.create(location=clinic.location, service_type=clinic.infusion, name="Six",
                                     sessions=6, price=Decimal("2400.00"), currency="USD")  # fmt: skip
    sale = reception.post("/api/v1/package-sales/", {"package": str(package.public_id),
                          "patient": str(clinic.patient.public_id)}, format="json").json()["id"]  # fmt: skip
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
