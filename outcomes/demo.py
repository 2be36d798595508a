"""Demo treatment loop: the referring psychiatrist, check-in forms on the induction template, on-call settings,
a patient's PHQ-9 and PCL-5 history, and one open safety alert to acknowledge."""

from __future__ import annotations

from datetime import timedelta

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from backend.models import ClinicGroup
from outcomes.models import Instrument, LocationSafety, MaintenancePolicy, Measure, MeasureSchedule, MeasureSource
from outcomes.services.measures import measure_record
from outcomes.standard import load_standard_instruments
from scheduling.demo import GROUP_NAME
from scheduling.models import ReferringProvider, SeriesTemplate

# Weeks ago, PHQ-9 total and PCL-5 total of the first demo patient: better over the series, then worse again.
HISTORY = [(10, 19, 52), (8, 13, 44), (6, 7, 35), (4, 4, 28), (1, 11, 39)]


def _answers(total: int, items: int, top: int) -> list[int]:
    """Answers adding up to ``total``, item 9 of the PHQ-9 left at 0."""
    values = [0] * items
    for index in range(items - 1 if items == 9 else items):
        values[index] = min(top, total)
        total -= values[index]
    return values


def seed(*, password: str) -> str:
    group = ClinicGroup.objects.filter(name=GROUP_NAME).first()
    if group is None:
        return "no demo clinic"
    if ReferringProvider.objects.filter(group=group).exists():
        return "already loaded"
    load_standard_instruments(apps)  # a fresh database has them from its migration; a flushed one not
    with transaction.atomic():
        provider = ReferringProvider.objects.create(
            group=group, name="Dr. Lena Ortiz", credentials="MD", practice="Back Bay Psychiatry", npi="1234567893",
            phone="+16175550190", fax="+16175550191", email="ortiz@demo.clinic.invalid",
            address="200 Boylston St\nBoston, MA 02116",
        )  # fmt: skip
        group.patients.update(referrer=provider)
        induction = SeriesTemplate.objects.get(group=group, name__startswith="Induction")
        for code in ("phq-9", "pcl-5"):
            MeasureSchedule.objects.create(template=induction, instrument_code=code, before_visits=[1, 4, 6],
                                           follow_up_weeks=[2, 4, 8])  # fmt: skip
        for location in group.locations.all():
            LocationSafety.objects.create(location=location, on_call_email=f"oncall.{location.pk}@demo.clinic.invalid")
        MaintenancePolicy.objects.create(group=group)
        patients = list(group.patients.order_by("id"))
        phq9, pcl5 = (Instrument.objects.get(group=None, code=code, version=1) for code in ("phq-9", "pcl-5"))
        now = timezone.now()
        for weeks, phq_total, pcl_total in HISTORY:
            for instrument, total, items, top in ((phq9, phq_total, 9, 3), (pcl5, pcl_total, 20, 4)):
                Measure.objects.create(
                    patient=patients[0], instrument=instrument, answers=_answers(total, items, top), total=total,
                    severity=next(b.label for b in instrument.bands.all() if b.min_total <= total <= b.max_total),
                    taken_at=now - timedelta(weeks=weeks), source=MeasureSource.STAFF,
                )  # fmt: skip
    if len(patients) > 2:  # a check-in form that raises a safety alert, for the on-call demo
        measure_record(actor=None, patient=patients[2], instrument=phq9, answers=[2, 2, 1, 2, 1, 1, 1, 0, 1],
                       source=MeasureSource.PATIENT)  # fmt: skip
    return f"{GROUP_NAME}: a referring provider, check-in forms on the induction template, scores, a safety alert"
