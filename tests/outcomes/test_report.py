"""The outcomes report against a hand computation on a fixed fixture."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from backend.models import AuditEvent
from outcomes.models import Instrument, Measure
from scheduling.models import Appointment, AppointmentStatus, Patient, Series
from tests.factories import PatientFactory
from tests.scheduling.conftest import Clinic, ny

pytestmark = pytest.mark.usefixtures("instruments")


def completed_series(clinic: Clinic, patient: Patient, days: list[dt.date], *, cancelled: bool = False) -> Series:
    series = Series.objects.create(patient=patient, service_type=clinic.infusion, location=clinic.location,
                                   count=len(days), first_date=days[0], local_time=dt.time(9))  # fmt: skip
    for day in days:
        Appointment.objects.create(
            patient=patient, service_type=clinic.infusion, location=clinic.location, resource=clinic.chairs[0],
            series=series, start=ny(day, 9), end=ny(day, 10), hold_until=ny(day, 11),
            status=AppointmentStatus.CANCELLED if cancelled else AppointmentStatus.COMPLETED,
        )  # fmt: skip
    if cancelled:
        series.cancelled_at = ny(days[0], 8)
        series.save()
    return series


def score(patient: Patient, code: str, total: int, when: dt.datetime) -> None:
    instrument = Instrument.objects.get(group__isnull=True, code=code)
    Measure.objects.create(patient=patient, instrument=instrument, answers=[], total=total, severity="",
                           taken_at=when, source="staff")  # fmt: skip


def october(day: int) -> dt.date:
    return dt.date(2026, 10, day)


@pytest.fixture
def fixture(clinic: Clinic) -> Clinic:
    a, b, c, d, e = clinic.patient, clinic.patient2, *(PatientFactory(group=clinic.group) for _ in range(3))
    completed_series(clinic, a, [october(5), october(7), october(9)])
    score(a, "phq-9", 20, ny(october(4), 12))
    score(a, "phq-9", 8, ny(october(9), 8))  # end: -12, response (8 <= 10), no remission (8 >= 5)
    score(a, "pcl-5", 50, ny(october(4), 12))
    score(a, "pcl-5", 30, ny(october(12), 8))  # end: -20, no response (30 > 25), remission (30 < 33)
    completed_series(clinic, b, [october(12), october(14), october(16)])
    score(b, "phq-9", 10, ny(october(11), 12))
    score(b, "phq-9", 4, ny(october(16), 8))  # end: -6, response, remission
    score(b, "gad-7", 9, ny(october(16), 8))  # an end without a baseline: not counted
    completed_series(clinic, c, [october(19), october(21), october(23)])  # no scores
    completed_series(clinic, d, [dt.date(2026, 11, 2), dt.date(2026, 11, 4)])  # ends after the range
    completed_series(clinic, e, [october(26), october(28)], cancelled=True)
    return clinic


def test_the_report_equals_the_hand_computation(fixture: Clinic) -> None:
    url = f"/api/v1/reports/outcomes/?from=2026-10-01&to=2026-10-31&location={fixture.location.public_id}"
    answer = fixture.client(fixture.clinician).get(url).json()
    assert answer["totals"] == [{"series_completed": 3}]
    assert [{key: row[key] for key in row if key != "name"} for row in answer["rows"]] == [
        {"instrument": "pcl-5", "with_baseline_and_end": 1, "share_with_scores": 0.333, "mean_change": -20.0,
         "response_rate": 0.0, "remission_rate": 1.0},
        {"instrument": "phq-9", "with_baseline_and_end": 2, "share_with_scores": 0.667, "mean_change": -9.0,
         "response_rate": 1.0, "remission_rate": 0.5},
    ]  # fmt: skip
    event = AuditEvent.objects.get(object_type="outcomes report")
    assert set(event.patients or []) == {fixture.patient.public_id, fixture.patient2.public_id}


def test_csv_and_xlsx_carry_the_same_rows_and_accountants_are_refused(fixture: Clinic) -> None:
    client = fixture.client(fixture.admin)
    url = "/api/v1/reports/outcomes/?from=2026-10-01&to=2026-10-31"
    rows = list(csv.DictReader(io.StringIO(client.get(url + "&format=csv").content.decode())))
    assert [(row["instrument"], row["mean_change"], row["remission_rate"]) for row in rows] == [
        ("pcl-5", "-20.0", "1.0"), ("phq-9", "-9.0", "0.5"),
    ]  # fmt: skip
    sheet = load_workbook(io.BytesIO(client.get(url + "&format=xlsx").content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("instrument", "name", "with_baseline_and_end")
    assert [(row[0], row[4]) for row in values[1:]] == [("pcl-5", -20), ("phq-9", -9)]
    assert fixture.client(fixture.accountant).get(url).status_code == 403
    assert client.get("/api/v1/reports/outcomes/?from=2026-10-31&to=2026-10-01").status_code == 400
    assert client.get(url + "&format=pdf").status_code == 400
