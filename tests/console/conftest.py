"""Console fixtures: the standard test clinic with a visit today, a series, and a signed-in browser client."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.test import Client

from backend.models import User
from backend.roles import Role
from scheduling.booking.protocol import SeriesProtocol
from scheduling.models import Appointment, Series
from scheduling.services.appointments import appointment_book
from tests.factories import UserFactory
from tests.scheduling.conftest import Clinic, book_series, make_clinic, ny

TODAY = dt.date(2026, 10, 1)  # a Thursday; the tests' clock stands at 08:00 in New York


@dataclass
class ConsoleClinic:
    clinic: Clinic
    visit: Appointment  # today 09:00, check-in open
    series: Series  # three infusions from next Monday
    patient_user: User  # the login of clinic.patient

    def user(self, role: str) -> User:
        if role == Role.PATIENT:
            return self.patient_user
        return getattr(self.clinic, role)


@pytest.fixture
def console_clinic(db: None, frozen_now: time_machine.Traveller) -> ConsoleClinic:
    clinic = make_clinic()
    visit = appointment_book(
        actor=clinic.reception, patient=clinic.patient, service_type=clinic.infusion, location=clinic.location,
        start=ny(TODAY, 9),
    )  # fmt: skip
    series = book_series(
        actor=clinic.reception, patient=clinic.patient2, location=clinic.location, service_type=clinic.infusion,
        protocol=SeriesProtocol(count=3, first_date=dt.date(2026, 10, 5), local_time=dt.time(10), min_gap_hours=24),
    )  # fmt: skip
    patient_user = UserFactory(roles=[Role.PATIENT])
    clinic.patient.user = patient_user
    clinic.patient.save(update_fields=["user"])
    return ConsoleClinic(clinic=clinic, visit=visit, series=series, patient_user=patient_user)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client
