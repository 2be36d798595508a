"""GET /series/ by patient, location and the status series_status derives."""

from __future__ import annotations

import datetime as dt
from itertools import product

import pytest

from scheduling.models import Appointment, AppointmentStatus, Series
from scheduling.services.series import series_status
from tests.factories import PatientFactory
from tests.scheduling.conftest import Clinic, ny

pytestmark = pytest.mark.django_db
S = AppointmentStatus


def make(clinic: Clinic, statuses: tuple[str, ...], *, cancelled: bool = False, day: int = 5) -> Series:
    patient = PatientFactory(group=clinic.group)
    series = Series.objects.create(patient=patient, service_type=clinic.infusion, location=clinic.location,
                                   count=len(statuses), first_date=dt.date(2026, 10, day), local_time=dt.time(9),
                                   cancelled_at=ny(dt.date(2026, 10, 1), 9) if cancelled else None)  # fmt: skip
    for index, status in enumerate(statuses):
        start = ny(dt.date(2026, 10, day), 8 + index)
        end, hold = start + dt.timedelta(minutes=20), start + dt.timedelta(minutes=50)
        Appointment.objects.create(patient=patient, service_type=clinic.infusion, location=clinic.location,
                                   resource=clinic.chairs[index % 2], series=series, status=status, start=start,
                                   end=end, hold_until=hold)  # fmt: skip
    return series


def test_the_status_filter_agrees_with_series_status_for_every_mix(clinic: Clinic) -> None:
    mixes = [(), *product([S.SCHEDULED, S.COMPLETED, S.NO_SHOW, S.CANCELLED], repeat=2)]
    made = [make(clinic, tuple(mix), day=5 + index % 20) for index, mix in enumerate(mixes)]
    made.append(make(clinic, (S.SCHEDULED,), cancelled=True, day=27))
    expected = {item.public_id: series_status(item, list(item.appointments.all())) for item in made}
    client = clinic.client(clinic.reception)
    for status in ("active", "completed", "cancelled"):
        found = set()
        url = f"/api/v1/series/?status={status}&location={clinic.location.public_id}"
        while url:
            page = client.get(url).json()
            found |= {row["id"] for row in page["results"]}
            url = page["next"]
        assert found == {str(key) for key, value in expected.items() if value == status}, status


def test_reception_finds_a_patients_series(clinic: Clinic) -> None:
    mine = make(clinic, (S.SCHEDULED,))
    make(clinic, (S.SCHEDULED,), day=6)
    client = clinic.client(clinic.reception)
    rows = client.get(f"/api/v1/series/?patient={mine.patient.public_id}").json()["results"]
    assert [row["id"] for row in rows] == [str(mine.public_id)]
    assert client.get("/api/v1/series/?status=finished").status_code == 400
