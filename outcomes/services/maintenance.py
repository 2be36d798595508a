"""Maintenance suggestions: after a series, the clinic's policy (``MaintenancePolicy``) says when a booster
is worth offering. Checked when a measure is recorded (in its transaction) and daily for the time rule.
One open suggestion per patient (a partial unique key): a second rising score opens no second one.
Reception books the booster from it in one step, as an extension of the series, or dismisses it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.errors import Conflict, ValidationFailed
from backend.models import User
from backend.transactions import change_transaction
from outcomes.models import MaintenancePolicy, MaintenanceSuggestion, Measure, SuggestionStatus
from scheduling.models import Appointment, AppointmentStatus, Patient, Series, ServiceType
from scheduling.services.series import series_extend

logger = logging.getLogger(__name__)
NOT_ATTENDED = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)


@dataclass(frozen=True)
class Fired:
    rule: str
    reason: str
    measure: Measure | None


def policy_for(patient: Patient) -> MaintenancePolicy:
    """The clinic group's policy, or the defaults when it has not set one."""
    return MaintenancePolicy.objects.filter(group=patient.group_id).first() or MaintenancePolicy(
        group_id=patient.group_id
    )


def finished_series(patient: Patient, now: datetime) -> tuple[Series, Appointment] | None:
    """The patient's latest series whose visits are all behind them, with its last visit."""
    last_visits = (
        Appointment.objects.filter(patient=patient, series__isnull=False, follows__isnull=True)
        .exclude(status__in=NOT_ATTENDED)
        .select_related("series")
        .order_by("-start", "-id")
    )
    latest = last_visits.first()
    if latest is None or latest.start > now or latest.series is None or latest.series.cancelled_at is not None:
        return None
    return latest.series, latest


def _rise(measures: list[Measure], threshold: int | None) -> bool:
    """The latest total at least ``threshold`` above the lowest before it (both after the series)."""
    return threshold is not None and len(measures) >= 2 and measures[-1].total - min(m.total for m in measures[:-1]) \
        >= threshold  # fmt: skip


def fired_rule(policy: MaintenancePolicy, after: dict[str, list[Measure]], latest: dict[str, Measure],
               weeks_since: float) -> Fired | None:  # fmt: skip
    """The first rule of the policy that fires, given each instrument's measures after the series (oldest
    first), each instrument's latest measure, and the weeks since the last infusion."""
    phq9, pcl5 = after.get("phq-9", []), after.get("pcl-5", [])
    if _rise(phq9, policy.phq9_rise):
        return Fired("phq9_rise", f"PHQ-9 rose {policy.phq9_rise} or more above its lowest after the series", phq9[-1])
    if phq9 and policy.phq9_reaches is not None and phq9[-1].total >= policy.phq9_reaches:
        return Fired("phq9_reaches", f"PHQ-9 reached {policy.phq9_reaches} or more after the series", phq9[-1])
    if _rise(pcl5, policy.pcl5_rise):
        return Fired("pcl5_rise", f"PCL-5 rose {policy.pcl5_rise} or more above its lowest after the series", pcl5[-1])
    weeks = policy.weeks_since_last_infusion
    if weeks is not None and weeks_since >= weeks:
        for measure in latest.values():
            remission = measure.instrument.remission_below
            if remission is not None and measure.total >= remission:
                return Fired(
                    "weeks_without_remission",
                    f"{weeks} weeks since the last infusion and {measure.instrument.code.upper()} not in remission",
                    measure,
                )
    return None


def suggestion_check(patient: Patient, now: datetime | None = None) -> MaintenanceSuggestion | None:
    """Open a suggestion when the policy's rule fires and the patient has none open; None otherwise."""
    now = now or timezone.now()
    if MaintenanceSuggestion.objects.filter(patient=patient, status=SuggestionStatus.OPEN).exists():
        return None
    finished = finished_series(patient, now)
    if finished is None:
        return None
    series, last_visit = finished
    after: dict[str, list[Measure]] = {}
    latest: dict[str, Measure] = {}
    for measure in Measure.objects.filter(patient=patient).select_related("instrument").order_by("taken_at", "id"):
        latest[measure.instrument.code] = measure
        if measure.taken_at > last_visit.start:
            after.setdefault(measure.instrument.code, []).append(measure)
    fired = fired_rule(policy_for(patient), after, latest, (now - last_visit.start) / timedelta(weeks=1))
    if fired is None:
        return None
    try:
        with transaction.atomic():  # a savepoint: another process may have opened one meanwhile
            return MaintenanceSuggestion.objects.create(
                patient=patient, series=series, rule=fired.rule, reason=fired.reason, measure=fired.measure
            )
    except IntegrityError:
        return None


def suggestions_sweep(now: datetime | None = None) -> int:
    """The daily check of the time rule, for every patient whose last visit is in a series; returns how many
    suggestions were opened."""
    now = now or timezone.now()
    patients = (
        Patient.objects.filter(appointments__series__isnull=False)
        .exclude(maintenance_suggestions__status=SuggestionStatus.OPEN)
        .distinct()
    )
    opened = 0
    for patient in patients.iterator(chunk_size=500):
        with change_transaction():
            opened += suggestion_check(patient, now) is not None
    return opened


def _open(suggestion: MaintenanceSuggestion) -> MaintenanceSuggestion:
    locked = MaintenanceSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if locked.status != SuggestionStatus.OPEN:
        raise Conflict(f"This suggestion was already {locked.status}.")
    return locked


@change_transaction()
def suggestion_book(
    *,
    actor: User,
    suggestion: MaintenanceSuggestion,
    first_date: date | None = None,
    local_time: time | None = None,
    service_type: ServiceType | None = None,
    accept_alternatives: bool = False,
) -> MaintenanceSuggestion:
    """Book the booster as one more visit of the original series (its extension), and close the suggestion."""
    locked = _open(suggestion)
    visits = series_extend(
        actor=actor, series=locked.series, count=1, first_date=first_date, local_time=local_time,
        service_type=service_type, accept_alternatives=accept_alternatives,
    )  # fmt: skip
    locked.status, locked.closed_by, locked.closed_at, locked.appointment = (
        SuggestionStatus.BOOKED, actor, timezone.now(), visits[0],
    )  # fmt: skip
    locked.save(update_fields=["status", "closed_by", "closed_at", "appointment"])
    return locked


@change_transaction()
def suggestion_dismiss(*, actor: User, suggestion: MaintenanceSuggestion, reason: str) -> MaintenanceSuggestion:
    if not reason.strip():
        raise ValidationFailed("Say why the suggestion is dismissed.", errors={"reason": ["Required."]})
    locked = _open(suggestion)
    locked.status, locked.closed_by, locked.closed_at, locked.dismiss_reason = (
        SuggestionStatus.DISMISSED, actor, timezone.now(), reason.strip(),
    )  # fmt: skip
    locked.save(update_fields=["status", "closed_by", "closed_at", "dismiss_reason"])
    return locked
