"""Safety alerts: raised once per measure, emailed to the location's on-call clinician through the
reminder outbox, open at the top of the patient's record until a clinician acknowledges them."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from backend.errors import Conflict
from backend.models import User
from backend.roles import Role
from backend.transactions import change_transaction
from outcomes.models import DEFAULT_CRISIS_GUIDANCE, AlertStatus, LocationSafety, Measure, SafetyAlert
from scheduling.models import Appointment, Location, Patient
from scheduling.services.reminders import staff_notices_record


def alert_location(measure: Measure) -> Location | None:
    """Where the alert belongs: the measure's visit, else the patient's next visit, else their latest, else
    the clinic group's location when it has only one (None: the group's clinicians are told)."""
    if measure.appointment_id is not None:
        return Location.objects.get(appointments=measure.appointment_id)
    visits = Appointment.objects.filter(patient=measure.patient_id).select_related("location")
    upcoming = visits.filter(start__gte=timezone.now()).order_by("start").first()
    visit = upcoming or visits.order_by("-start").first()
    if visit is not None:
        return visit.location
    only = list(Location.objects.filter(group=measure.patient.group_id)[:2])
    return only[0] if len(only) == 1 else None


def on_call_addresses(patient: Patient, location: Location | None) -> list[str]:
    """The location's on-call address; without one, every clinician of the patient's clinic group."""
    settings = LocationSafety.objects.filter(location=location).first() if location else None
    if settings and settings.on_call_email:
        return [settings.on_call_email]
    clinicians = User.objects.filter(
        Q(groups__name=Role.CLINICIAN), clinic_groups=patient.group_id, is_active=True
    ).exclude(email="")
    return sorted(set(clinicians.values_list("email", flat=True)))


def crisis_guidance(location: Location | None) -> str:
    settings = LocationSafety.objects.filter(location=location).first() if location else None
    return settings.crisis_guidance if settings else DEFAULT_CRISIS_GUIDANCE


def safety_alert_raise(measure: Measure, rules: list[str]) -> SafetyAlert:
    """The measure's one alert, and one email per on-call address; in the measure's transaction."""
    location = alert_location(measure)
    recipients = on_call_addresses(measure.patient, location)
    alert = SafetyAlert.objects.create(
        measure=measure, patient_id=measure.patient_id, location=location, rules=rules, notified=recipients
    )
    staff_notices_record(patient_id=measure.patient_id, recipients=recipients, about=alert.public_id)
    return alert


@change_transaction()
def safety_alert_acknowledge(*, actor: User, alert: SafetyAlert, note: str = "") -> SafetyAlert:
    """Record who acknowledged the alert, when, and their note; once."""
    locked = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
    if locked.status != AlertStatus.OPEN:
        raise Conflict(
            f"This alert was already acknowledged by {locked.acknowledged_by} "
            f"at {locked.acknowledged_at:%Y-%m-%d %H:%M} UTC."
        )
    locked.status, locked.acknowledged_by, locked.acknowledged_at, locked.note = (
        AlertStatus.ACKNOWLEDGED, actor, timezone.now(), note,
    )  # fmt: skip
    locked.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "note"])
    return locked
