"""Recording a patient's answers: scored on the server, stored with the instrument version, and a safety
alert raised in the same transaction when an answer meets an alert rule."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.utils import timezone

from backend.errors import ValidationFailed
from backend.models import User
from backend.transactions import change_transaction
from outcomes.models import Instrument, Measure
from outcomes.scoring import instrument_spec, score
from outcomes.services.maintenance import suggestion_check
from outcomes.services.safety import safety_alert_raise
from scheduling.models import Appointment, Patient

CLOCK_SKEW = timedelta(minutes=5)  # a device clock a little ahead is not "the future"


def measure_record(
    *,
    actor: User | None,
    patient: Patient,
    instrument: Instrument,
    answers: Sequence[object],
    source: str,
    taken_at: datetime | None = None,
    appointment: Appointment | None = None,
) -> Measure:
    """Score and store one measure; raise its safety alert (once) when an alert rule is met."""
    result = score(instrument_spec(instrument), answers)
    now = timezone.now()
    if taken_at is not None and taken_at > now + CLOCK_SKEW:
        raise ValidationFailed("A measure cannot be taken in the future.", errors={"taken_at": ["In the future."]})
    if appointment is not None and appointment.patient_id != patient.pk:
        raise ValidationFailed("That visit is another patient's.", errors={"appointment": ["Not this patient's."]})
    with change_transaction():
        measure = Measure.objects.create(
            patient=patient, instrument=instrument, appointment=appointment, answers=list(answers),
            total=result.total, severity=result.severity, flags=list(result.flags), taken_at=taken_at or now,
            source=source, entered_by=actor,
        )  # fmt: skip
        if result.alerts:
            safety_alert_raise(measure, list(result.alerts))
        suggestion_check(patient)
    return measure
