"""The outcomes report: per location and date range, aggregate counts only.

A series counts when it is completed (every visit over, one at least completed; integration sessions
aside) and its last visit falls in the range (local dates). Per instrument, a series has a baseline when
a score was taken in the 30 days up to its first visit's start, and an end score when one was taken from
three days before its last visit's start to 30 days after it (the latest of each). Over the series with
both: the share of completed series, the mean change (end minus baseline), and the share that responded
(end at least the instrument's response drop below the baseline) or remitted (end under its threshold).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet

from outcomes.models import Measure
from outcomes.summary import is_response
from scheduling.models import Appointment, AppointmentStatus, Location, Series
from scheduling.services.series import series_status

BASELINE_WINDOW = timedelta(days=30)
END_OPENS = timedelta(days=3)
END_CLOSES = timedelta(days=30)


@dataclass(frozen=True)
class OutcomesReport:
    series_completed: int
    rows: list[dict[str, Any]]
    patients: set[Any]  # the public ids of the patients whose scores were counted (for the audit trail)


def completed_in_range(series: QuerySet[Series], start: date, end: date) -> list[tuple[Series, list[Appointment]]]:
    """Completed series whose last visit (local date) falls in [start, end], with their visits in order."""
    visits = Appointment.objects.filter(follows__isnull=True).order_by("start", "id")
    candidates = (
        series.filter(
            cancelled_at__isnull=True,
            appointments__start__date__gte=start - timedelta(days=1),
            appointments__start__date__lte=end + timedelta(days=1),
        )
        .distinct()
        .select_related("location", "patient")
        .prefetch_related(Prefetch("appointments", queryset=visits))
    )
    found = []
    for item in candidates:
        all_visits = list(item.appointments.all())
        attended = [v for v in all_visits if v.status not in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)]
        if not attended or series_status(item, all_visits) != "completed":
            continue
        if start <= attended[-1].start.astimezone(item.location.zone).date() <= end:
            found.append((item, attended))
    return found


def outcomes_report(*, series: QuerySet[Series], location: Location | None, start: date, end: date) -> OutcomesReport:
    """``series``: what the user may see (``scheduling.selectors.series_for``)."""
    if location is not None:
        series = series.filter(location=location)
    completed = completed_in_range(series, start, end)
    measures: dict[int, list[Measure]] = defaultdict(list)
    patient_ids = {item.patient_id for item, _visits in completed}
    for measure in Measure.objects.filter(patient__in=patient_ids).select_related("instrument").order_by("taken_at"):
        measures[measure.patient_id].append(measure)
    pairs: dict[str, list[tuple[Measure, Measure]]] = defaultdict(list)
    counted: set[Any] = set()
    for item, visits in completed:
        first, last = visits[0].start, visits[-1].start
        by_code: dict[str, tuple[Measure | None, Measure | None]] = {}
        for measure in measures[item.patient_id]:
            baseline, final = by_code.get(measure.instrument.code, (None, None))
            if first - BASELINE_WINDOW <= measure.taken_at <= first:
                baseline = measure
            if last - END_OPENS <= measure.taken_at <= last + END_CLOSES:
                final = measure
            by_code[measure.instrument.code] = (baseline, final)
        for code, (baseline, final) in by_code.items():
            if baseline is not None and final is not None and final.pk != baseline.pk:
                pairs[code].append((baseline, final))
                counted.add(item.patient.public_id)
    rows = []
    for code, found in sorted(pairs.items()):
        instrument = found[-1][1].instrument
        changes = [final.total - baseline.total for baseline, final in found]
        responded = [is_response(b.total, f.total, instrument.response_drop_percent) for b, f in found]
        remitted = [instrument.remission_below is not None and f.total < instrument.remission_below for _b, f in found]
        rows.append({
            "instrument": code, "name": instrument.name, "with_baseline_and_end": len(found),
            "share_with_scores": round(len(found) / len(completed), 3),
            "mean_change": round(sum(changes) / len(changes), 1),
            "response_rate": round(sum(responded) / len(found), 3),
            "remission_rate": round(sum(remitted) / len(found), 3),
        })  # fmt: skip
    return OutcomesReport(series_completed=len(completed), rows=rows, patients=counted)
