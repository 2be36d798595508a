"""Letters to the referring provider: the snapshot a letter is rendered from, and asking for one.

A referral acknowledgement goes out when a series is booked for a patient with a referring provider, and
a treatment summary when the series' last visit is over (``outcomes/receivers.py``); clinicians can ask
for either again (``POST /api/v1/series/{id}/letters/``). The snapshot is taken in the transaction that
asks, so the PDF shows the records as they stood then, and the worker renders and emails it once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from backend.documents import snapshot_digest
from backend.errors import UnprocessableRequest
from backend.models import EmailStatus, User
from backend.outbox import enqueue_on_commit
from backend.transactions import change_transaction
from outcomes.models import Letter, LetterKind, MaintenanceSuggestion, Measure, SuggestionStatus
from outcomes.summary import is_response
from scheduling.models import Appointment, AppointmentStatus, Series

RENDER_TASK = "worker.tasks.documents.document_render_task"
LABEL = "outcomes.Letter"
CHART_LEAD = timedelta(days=30)  # scores from this long before the first visit are the "before"


class NoReferringProvider(UnprocessableRequest):
    code = "no_referring_provider"
    title = "No referring provider"


def _day(instant: datetime, series: Series) -> str:
    return instant.astimezone(series.location.zone).strftime("%Y-%m-%d")


def _visits(series: Series, visits: list[Appointment]) -> list[dict[str, str]]:
    return [
        {"date": _day(visit.start, series), "time": visit.start.astimezone(series.location.zone).strftime("%H:%M"),
         "what": "Integration session" if visit.follows_id else visit.service_type.name,
         "status": visit.get_status_display()}
        for visit in visits
    ]  # fmt: skip


def _scores(series: Series, first_start: datetime) -> list[dict[str, Any]]:
    """Per instrument: the score before the series (the latest up to its first visit, within 30 days), the
    latest since, the change and whether it is a response or remission; and every point for the chart."""
    measures = Measure.objects.filter(patient=series.patient_id, taken_at__gte=first_start - CHART_LEAD)
    by_code: dict[str, list[Measure]] = {}
    for measure in measures.select_related("instrument").order_by("taken_at", "id"):
        by_code.setdefault(measure.instrument.code, []).append(measure)
    rows = []
    for code, points in sorted(by_code.items()):
        before = [m for m in points if m.taken_at <= first_start]
        baseline = before[-1] if before else points[0]
        latest = points[-1] if points[-1] is not baseline else None
        instrument = points[-1].instrument
        rows.append({
            "code": code, "name": instrument.name,
            "before": baseline.total, "before_severity": baseline.severity,
            "before_date": _day(baseline.taken_at, series),
            "after": latest.total if latest else None, "after_severity": latest.severity if latest else "",
            "after_date": _day(latest.taken_at, series) if latest else "",
            "change": latest.total - baseline.total if latest else None,
            "response": is_response(baseline.total, latest.total, instrument.response_drop_percent) if latest else None,
            "remission": (latest.total < instrument.remission_below
                          if latest and instrument.remission_below is not None else None),
            "maximum": max(band.max_total for band in instrument.bands.all()) if instrument.bands.all() else None,
            "points": [[_day(m.taken_at, series), m.total] for m in points],
        })  # fmt: skip
    return rows


def _plan(series: Series, visits: list[Appointment], now: datetime) -> str:
    """The maintenance plan in one sentence: a booked booster, an open suggestion, or none yet."""
    upcoming = [v for v in visits if v.start > now and v.status in (AppointmentStatus.SCHEDULED,
                                                                    AppointmentStatus.CONFIRMED)]  # fmt: skip
    open_suggestion = MaintenanceSuggestion.objects.filter(patient=series.patient_id,
                                                           status=SuggestionStatus.OPEN).first()  # fmt: skip
    if upcoming:
        return f"Further visits are booked from {_day(upcoming[0].start, series)} ({len(upcoming)} in all)."
    if open_suggestion is not None:
        return f"A maintenance visit is being arranged: {open_suggestion.reason}."
    return "No maintenance visit is planned at present; scores will be followed up and a booster offered if needed."


def letter_payload(series: Series, kind: str, actor: User | None) -> dict[str, Any]:
    patient, location = series.patient, series.location
    provider = patient.referrer
    assert provider is not None  # noqa: S101 - letter_request checked it
    visits = list(series.appointments.select_related("service_type").order_by("start", "id"))
    now = timezone.now()
    attended = [v for v in visits if not v.follows_id]
    first_start = attended[0].start if attended else series.created_at
    payload: dict[str, Any] = {
        "kind": kind,
        "clinic": {"name": location.group.name, "location": location.name, "address": location.address,
                   "phone": location.phone},
        "date": now.astimezone(location.zone).strftime("%Y-%m-%d"),
        "provider": {"name": provider.name, "credentials": provider.credentials, "practice": provider.practice,
                     "address": provider.address, "npi": provider.npi},
        "patient": {"name": f"{patient.first_name} {patient.last_name}",
                    "date_of_birth": patient.date_of_birth.isoformat()},
        "series": {"service": series.service_type.name, "count": series.count,
                   "first_date": _day(first_start, series)},
        "visits": _visits(series, visits),
        "signed_by": (actor.get_full_name() or actor.get_username()) if actor else location.name,
    }  # fmt: skip
    if kind == LetterKind.SUMMARY:
        statuses = [v.status for v in attended]
        payload["attendance"] = {
            "completed": statuses.count(AppointmentStatus.COMPLETED),
            "no_show": statuses.count(AppointmentStatus.NO_SHOW),
            "cancelled": statuses.count(AppointmentStatus.CANCELLED),
            "planned": len(statuses),
            "sessions": sum(1 for v in visits if v.follows_id and v.status == AppointmentStatus.COMPLETED),
        }
        payload["scores"] = _scores(series, first_start)
        payload["plan"] = _plan(series, visits, now)
    return payload


@change_transaction()
def letter_request(*, actor: User | None, series: Series, kind: str) -> Letter:
    """Snapshot the letter and hand it to the worker; emailed once to the provider when they have an address."""
    return letter_create(actor=actor, series=series, kind=kind)


def letter_create(*, actor: User | None, series: Series, kind: str) -> Letter:
    """``letter_request`` inside a transaction already open (a booking's, a status change's)."""
    series = Series.objects.select_related("patient__referrer", "location__group", "service_type").get(pk=series.pk)
    provider = series.patient.referrer
    if provider is None:
        raise NoReferringProvider(
            "The patient has no referring provider on record; link one to the patient first.",
            errors={"patient": ["No referring provider."]},
        )
    payload = letter_payload(series, kind, actor)
    letter = Letter.objects.create(
        kind=kind, patient=series.patient, series=series, provider=provider, payload=payload,
        payload_digest=snapshot_digest(payload), requested_by=actor,
        email_status=EmailStatus.PENDING if provider.email else EmailStatus.NOT_WANTED,
    )  # fmt: skip
    enqueue_on_commit(RENDER_TASK, letter.pk, LABEL, queue="documents")
    return letter
